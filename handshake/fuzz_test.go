//go:build !tiny

package handshake

import (
	"bufio"
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzCheck runs raw request bytes through http.ReadRequest and Check:
// no panic, every refusal an *Error with a status WriteTo can write, every
// accepted request a key of 16 bytes and a response WriteResponse can
// write.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(rfcRequest))
	f.Add([]byte(valid()))
	f.Add([]byte(valid("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x; a=\"b\\\"c\"")))
	f.Add([]byte(valid("Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Protocol: mqtt")))
	// Numbers at the extremes: the largest body length, a window past 64 bits.
	f.Add([]byte(valid("Content-Length: 9223372036854775807")))
	f.Add([]byte(valid("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=18446744073709551616")))
	for _, tc := range refusals {
		f.Add([]byte(tc.raw))
	}
	cfg := &Config{
		Subprotocols: []string{"chat", "superchat"},
		Extensions: func(offers []ext) ([]ext, error) {
			// Answer the first offer as it came, as a negotiator that
			// accepts everything would.
			return offers[:1], nil
		},
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := ReadRequest(bufio.NewReader(strings.NewReader(string(raw))), 1<<20)
		if err != nil {
			var herr *Error
			if errors.As(err, &herr) && (herr.Status < 400 || herr.Status > 599 || herr.Reason == "") {
				t.Fatalf("ReadRequest refusal %d %q", herr.Status, herr.Reason)
			}
			return
		}
		res, err := Check(r, cfg)
		// What net/http reads of the same bytes, if it reads them, gets
		// the same answer: the two readers differ only on what one of
		// them refuses.
		if hr, herr := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw)))); herr == nil {
			hres, herr := Check(FromHTTP(hr), cfg)
			if !reflect.DeepEqual(res, hres) || (err == nil) != (herr == nil) ||
				err != nil && err.(*Error).Status != herr.(*Error).Status {
				t.Fatalf("ReadRequest's request: %+v, %v\nnet/http's: %+v, %v", res, err, hres, herr)
			}
		}
		if err != nil {
			var herr *Error
			if !errors.As(err, &herr) {
				t.Fatalf("Check error %T %v, want *Error", err, err)
			}
			if herr.Status < 400 || herr.Status > 599 || herr.Reason == "" {
				t.Fatalf("refusal %d %q", herr.Status, herr.Reason)
			}
			return
		}
		key, err := base64.StdEncoding.DecodeString(res.Key)
		if err != nil || len(key) != 16 {
			t.Fatalf("accepted key %q decodes to %d bytes, %v", res.Key, len(key), err)
		}
		if res.Subprotocol != "" && res.Subprotocol != "chat" && res.Subprotocol != "superchat" {
			t.Fatalf("subprotocol %q was not configured", res.Subprotocol)
		}
		var b strings.Builder
		if err := WriteResponse(bufio.NewWriter(&b), res, nil); err != nil {
			t.Fatalf("WriteResponse: %v", err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(b.String())), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("the 101 does not parse: %v\n%q", err, b.String())
		}
		got, err := ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
		if err != nil || !reflect.DeepEqual(got, res.Extensions) {
			t.Fatalf("answered extensions parse to %+v, %v; want %+v", got, err, res.Extensions)
		}
	})
}

// FuzzParseExtensions: no panic, and whatever parses formats to a value
// that parses to the same extensions.
func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate",
		`foo; a="1"`,
		`foo; a="x\"y\\z"; b, bar`,
		" , foo ,\tbar ; c = \"d\" ",
		`foo; a="1`,
		"; a=1",
		"foo; =1",
	} {
		f.Add(s, "")
	}
	f.Add("foo", "bar; baz=2")
	f.Fuzz(func(t *testing.T, a, b string) {
		exts, err := ParseExtensions([]string{a, b})
		if err != nil {
			return
		}
		for _, e := range exts {
			if err := checkExtension(e); err != nil {
				t.Fatalf("parsed an extension that cannot be written: %v", err)
			}
		}
		s := FormatExtensions(exts)
		again, err := ParseExtensions([]string{s})
		if err != nil {
			t.Fatalf("ParseExtensions(%q) (formatted from %+v): %v", s, exts, err)
		}
		if !reflect.DeepEqual(again, exts) {
			t.Fatalf("round trip via %q:\n%+v\nwant\n%+v", s, again, exts)
		}
		if FormatExtensions(again) != s {
			t.Fatalf("format is not stable: %q then %q", s, FormatExtensions(again))
		}
	})
}

//go:build !tiny

package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// Two valid keys: rfcKey is the one of RFC 6455 §1.2 ("the sample nonce"),
// which valid and rfcRequest send; otherKey encodes the bytes 1 to 16, for
// requests that must be told apart from those.
const (
	rfcKey   = "dGhlIHNhbXBsZSBub25jZQ=="
	otherKey = "AQIDBAUGBwgJCgsMDQ4PEA=="
)

// rfcRequest is the client handshake of RFC 6455 §1.2.
const rfcRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: " + rfcKey + "\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

// request builds a raw request: the request line, then the header lines
// given, each followed by CRLF, then the blank line.
func request(line string, headers ...string) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// valid is a minimal acceptable request, less the lines each test adds.
func valid(extra ...string) string {
	return request("GET /ws HTTP/1.1", append([]string{
		"Host: 127.0.0.1",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Version: 13",
		"Sec-WebSocket-Key: " + rfcKey,
	}, extra...)...)
}

// upgrade is an otherwise acceptable request with the Sec-WebSocket-Version
// and Sec-WebSocket-Key given, each header left out when its value is "",
// so that a case shows only the one it varies.
func upgrade(version, key string) string {
	h := []string{"Host: h", "Upgrade: websocket", "Connection: Upgrade"}
	if version != "" {
		h = append(h, "Sec-WebSocket-Version: "+version)
	}
	if key != "" {
		h = append(h, "Sec-WebSocket-Key: "+key)
	}
	return request("GET /ws HTTP/1.1", h...)
}

// parseRequest reads raw with net/http's reader and with ReadRequest,
// checks that both read the same request, and returns it.
func parseRequest(t testing.TB, raw string) *Request {
	t.Helper()
	hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("http.ReadRequest: %v", err)
	}
	r, err := ReadRequest(bufio.NewReader(strings.NewReader(raw)), 1<<20)
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	if want := FromHTTP(hr); !reflect.DeepEqual(r, want) {
		t.Fatalf("ReadRequest read\n%+v\nnet/http\n%+v", r, want)
	}
	return r
}

func TestCheckRFCExample(t *testing.T) {
	t.Parallel()
	r := parseRequest(t, rfcRequest)
	res, err := Check(r, &Config{Subprotocols: []string{"chat"}})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := &Result{
		Key:         rfcKey,
		Subprotocol: "chat",
		Offered:     []string{"chat", "superchat"},
	}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("Check = %+v, want %+v", res, want)
	}

	// The answer of §1.2, byte for byte.
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	if err := WriteResponse(bw, res, nil); err != nil {
		t.Fatalf("WriteResponse: %v", err)
	}
	const wantResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n"
	if b.String() != wantResponse {
		t.Fatalf("response:\n%q\nwant:\n%q", b.String(), wantResponse)
	}
}

func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	const key = "Sec-WebSocket-Key: " + otherKey
	tests := []struct {
		name string
		raw  string
		key  string
	}{
		{"minimal", valid(), rfcKey},
		{"Connection keep-alive, Upgrade", request("GET / HTTP/1.1", "Host: h", "Upgrade: websocket",
			"Connection: keep-alive, Upgrade", "Sec-WebSocket-Version: 13", key), otherKey},
		{"Upgrade WebSocket", request("GET / HTTP/1.1", "Host: h", "Upgrade: WebSocket",
			"Connection: upgrade", "Sec-WebSocket-Version: 13", key), otherKey},
		{"Upgrade list", request("GET / HTTP/1.1", "Host: h", "Upgrade: h2c, websocket",
			"Connection: UPGRADE", "Sec-WebSocket-Version: 13", key), otherKey},
		{"repeated Connection and Upgrade", request("GET / HTTP/1.1", "Host: h",
			"Upgrade: foo", "Upgrade: websocket", "Connection: keep-alive", "Connection: Upgrade",
			"Sec-WebSocket-Version: 13", key), otherKey},
		{"tabs and spaces in lists", request("GET / HTTP/1.1", "Host: h", "Upgrade: \twebsocket\t",
			"Connection: keep-alive ,\tupgrade ,", "Sec-WebSocket-Version:  13 ", key), otherKey},
		{"HTTP/1.2", request("GET / HTTP/1.2", "Host: h", "Upgrade: websocket",
			"Connection: upgrade", "Sec-WebSocket-Version: 13", key), otherKey},
		{"absolute URI", request("GET http://h/ws HTTP/1.1", "Host: h", "Upgrade: websocket",
			"Connection: upgrade", "Sec-WebSocket-Version: 13", key), otherKey},
		{"Content-Length 0", valid("Content-Length: 0"), rfcKey},
		{"empty extensions header", valid("Sec-WebSocket-Extensions:"), rfcKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Check(parseRequest(t, tc.raw), nil)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Key != tc.key {
				t.Errorf("Key = %q, want %q", res.Key, tc.key)
			}
		})
	}
}

// refusal is one request Check refuses, with what it must answer.
type refusal struct {
	name   string
	raw    string
	cfg    *Config
	status int
	reason string               // a substring of the reason
	header textproto.MIMEHeader // headers the refusal must carry
}

var refusals = []refusal{
	{name: "POST", raw: request("POST /ws HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey, "Content-Length: 0"),
		status: 405, reason: "must use GET, not POST", header: textproto.MIMEHeader{"Allow": {"GET"}}},
	{name: "HTTP/1.0", raw: request("GET /ws HTTP/1.0", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey),
		status: 400, reason: "HTTP/1.1 or later"},
	{name: "missing Host", raw: request("GET /ws HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey),
		status: 400, reason: "missing Host"},
	{name: "no Upgrade", raw: request("GET /ws HTTP/1.1", "Host: h", "Connection: Upgrade",
		"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey),
		status: 400, reason: "Upgrade header must contain websocket"},
	{name: "Upgrade websocketx", raw: request("GET /ws HTTP/1.1", "Host: h", "Upgrade: websocketx",
		"Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey),
		status: 400, reason: "Upgrade header must contain websocket"},
	{name: "no Connection upgrade", raw: request("GET /ws HTTP/1.1", "Host: h", "Upgrade: websocket",
		"Connection: keep-alive", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey),
		status: 400, reason: "Connection header must contain upgrade"},
	{name: "Connection upgrades", raw: request("GET /ws HTTP/1.1", "Host: h", "Upgrade: websocket",
		"Connection: upgrades", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+rfcKey),
		status: 400, reason: "Connection header must contain upgrade"},
	{name: "missing version", raw: upgrade("", rfcKey),
		status: 426, reason: "missing Sec-WebSocket-Version",
		header: textproto.MIMEHeader{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}}},
	{name: "version 8", raw: upgrade("8", rfcKey),
		status: 426, reason: `unsupported Sec-WebSocket-Version "8"`,
		header: textproto.MIMEHeader{"Sec-Websocket-Version": {"13"}}},
	{name: "version list", raw: upgrade("13, 8", rfcKey),
		status: 426, reason: "unsupported Sec-WebSocket-Version",
		header: textproto.MIMEHeader{"Sec-Websocket-Version": {"13"}}},
	{name: "two versions", raw: valid("Sec-WebSocket-Version: 13"),
		status: 400, reason: "more than one Sec-WebSocket-Version"},
	{name: "missing key", raw: upgrade("13", ""),
		status: 400, reason: "missing Sec-WebSocket-Key"},
	{name: "two keys", raw: valid("Sec-WebSocket-Key: " + otherKey),
		status: 400, reason: "more than one Sec-WebSocket-Key"},
	{name: "key of 15 bytes", raw: upgrade("13", "AQIDBAUGBwgJCgsMDQ4P"),
		status: 400, reason: "must encode 16 bytes, not 15"},
	{name: "key of 17 bytes", raw: upgrade("13", "AQIDBAUGBwgJCgsMDQ4PEBE="),
		status: 400, reason: "must encode 16 bytes, not 17"},
	{name: "key bad base64", raw: upgrade("13", "dGhlIHNhbXBsZSBub25jZQ!="),
		status: 400, reason: "is not valid base64"},
	{name: "key unpadded", raw: upgrade("13", "dGhlIHNhbXBsZSBub25jZQ"),
		status: 400, reason: "is not valid base64"},
	{name: "key with padding bits set", raw: upgrade("13", "dGhlIHNhbXBsZSBub25jZR=="),
		status: 400, reason: "is not valid base64"},
	{name: "body", raw: valid("Content-Length: 5") + "hello",
		status: 400, reason: "must not have a body"},
	{name: "body of the largest length", raw: valid("Content-Length: 9223372036854775807"),
		status: 400, reason: "must not have a body"},
	{name: "bad subprotocol token", raw: valid("Sec-WebSocket-Protocol: chat, a b"),
		status: 400, reason: `Sec-WebSocket-Protocol: "a b" is not a token`},
	{name: "required subprotocol not offered", raw: valid("Sec-WebSocket-Protocol: superchat"),
		cfg:    &Config{Subprotocols: []string{"chat", "v2.chat"}, RequireSubprotocol: true},
		status: 400, reason: "no supported subprotocol offered (supported: chat, v2.chat)"},
	{name: "malformed extensions", raw: valid(`Sec-WebSocket-Extensions: foo; a="1`),
		status: 400, reason: "unterminated quoted string"},
}

func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Check(parseRequest(t, tc.raw), tc.cfg)
			if err == nil {
				t.Fatalf("Check accepted: %+v", res)
			}
			var herr *Error
			if !errors.As(err, &herr) {
				t.Fatalf("Check error %T %v, want *Error", err, err)
			}
			if herr.Status != tc.status {
				t.Errorf("Status = %d, want %d", herr.Status, tc.status)
			}
			if !strings.Contains(herr.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", herr.Reason, tc.reason)
			}
			for k, v := range tc.header {
				if got := herr.Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("Header[%s] = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestRefusalOnTheWire sends each refused request to a real server whose
// handler writes the *Error, and reads the raw bytes back: exactly one
// status line, the status, the headers, the reason as the body, and the
// connection closed afterwards even though frame bytes followed the
// request.
func TestRefusalOnTheWire(t *testing.T) {
	t.Parallel()
	cfgs := make(map[string]*Config)
	for _, tc := range refusals {
		cfgs[tc.name] = tc.cfg
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := Check(FromHTTP(r), cfgs[r.Header.Get("X-Case")])
		if err != nil {
			err.(*Error).WriteTo(w)
			return
		}
		t.Errorf("Check accepted %+v", res)
		http.Error(w, "accepted", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Name the case in a header, and follow the request with a
			// masked text frame that must never be read as a request.
			raw := strings.Replace(tc.raw, "\r\n", "\r\nX-Case: "+tc.name+"\r\n", 1) +
				"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
			got := roundTrip(t, addr, raw)

			if n := len(statusLine.FindAllString(got, -1)); n != 1 {
				t.Fatalf("%d status lines in response:\n%s", n, got)
			}
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
			if err != nil {
				t.Fatalf("http.ReadResponse: %v\n%s", err, got)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.name == "missing Host" {
				return // net/http refuses it before the handler runs
			}
			for k, v := range tc.header {
				if got := resp.Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if !strings.HasSuffix(string(body), "\n") || !strings.Contains(string(body), tc.reason) {
				t.Errorf("body %q, want the reason containing %q and a newline", body, tc.reason)
			}
		})
	}
}

// statusLine matches an HTTP/1.x status line anywhere in a response.
var statusLine = regexp.MustCompile(`(?m)^HTTP/1\.[0-9] [0-9]{3} `)

// roundTrip writes raw to addr in one write and returns everything the
// server sends until it closes the connection.
func roundTrip(t *testing.T, addr, raw string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	b, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("read until close: %v (read %q)", err, b)
	}
	return string(b)
}

func TestSubprotocols(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		offer   []string // Sec-WebSocket-Protocol header values
		cfg     *Config
		want    string
		offered []string
		refused bool
	}{
		{name: "server preference wins", offer: []string{"superchat, chat"},
			cfg: &Config{Subprotocols: []string{"chat", "superchat"}}, want: "chat", offered: []string{"superchat", "chat"}},
		{name: "server preference wins the other way", offer: []string{"chat, superchat"},
			cfg: &Config{Subprotocols: []string{"superchat", "chat"}}, want: "superchat", offered: []string{"chat", "superchat"}},
		{name: "first configured name offered", offer: []string{"b, c"},
			cfg: &Config{Subprotocols: []string{"a", "c", "b"}}, want: "c", offered: []string{"b", "c"}},
		{name: "repeated headers", offer: []string{"x", "y, chat"},
			cfg: &Config{Subprotocols: []string{"chat"}}, want: "chat", offered: []string{"x", "y", "chat"}},
		{name: "empty elements ignored", offer: []string{" , chat ,, "},
			cfg: &Config{Subprotocols: []string{"chat"}}, want: "chat", offered: []string{"chat"}},
		{name: "case-sensitive", offer: []string{"Chat"},
			cfg: &Config{Subprotocols: []string{"chat"}}, want: "", offered: []string{"Chat"}},
		{name: "none configured, none answered", offer: []string{"chat"},
			cfg: nil, want: "", offered: []string{"chat"}},
		{name: "none configured with an empty config", offer: []string{"chat, superchat"},
			cfg: &Config{}, want: "", offered: []string{"chat", "superchat"}},
		{name: "no offer", cfg: &Config{Subprotocols: []string{"chat"}}, want: ""},
		{name: "no offer, required", cfg: &Config{Subprotocols: []string{"chat"}, RequireSubprotocol: true}, want: ""},
		{name: "unknown offer accepted without one", offer: []string{"mqtt"},
			cfg: &Config{Subprotocols: []string{"chat"}}, want: "", offered: []string{"mqtt"}},
		{name: "unknown offer refused when required", offer: []string{"mqtt"},
			cfg: &Config{Subprotocols: []string{"chat"}, RequireSubprotocol: true}, refused: true},
		{name: "any offer refused when required and none configured", offer: []string{"chat"},
			cfg: &Config{RequireSubprotocol: true}, refused: true},
		{name: "required and matched", offer: []string{"mqtt, chat"},
			cfg: &Config{Subprotocols: []string{"chat"}, RequireSubprotocol: true}, want: "chat", offered: []string{"mqtt", "chat"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			for _, o := range tc.offer {
				lines = append(lines, "Sec-WebSocket-Protocol: "+o)
			}
			res, err := Check(parseRequest(t, valid(lines...)), tc.cfg)
			if tc.refused {
				var herr *Error
				if !errors.As(err, &herr) || herr.Status != http.StatusBadRequest {
					t.Fatalf("Check = %+v, %v; want a 400 refusal", res, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Subprotocol != tc.want {
				t.Errorf("Subprotocol = %q, want %q", res.Subprotocol, tc.want)
			}
			if !reflect.DeepEqual(res.Offered, tc.offered) {
				t.Errorf("Offered = %q, want %q", res.Offered, tc.offered)
			}
		})
	}
}

func TestExtensionHook(t *testing.T) {
	t.Parallel()
	deflate := wsproto.Extension{Name: "permessage-deflate",
		Params: []wsproto.ExtensionParam{{Name: "server_no_context_takeover"}}}
	tests := []struct {
		name   string
		offer  string
		hook   func([]wsproto.Extension) ([]wsproto.Extension, error)
		want   []wsproto.Extension
		status int // 0: accepted
	}{
		{name: "no hook declines everything", offer: "permessage-deflate, x-foo", want: nil},
		{name: "answer", offer: "x-foo, permessage-deflate; client_max_window_bits",
			hook: func([]wsproto.Extension) ([]wsproto.Extension, error) { return []wsproto.Extension{deflate}, nil },
			want: []wsproto.Extension{deflate}},
		{name: "decline", offer: "permessage-deflate",
			hook: func([]wsproto.Extension) ([]wsproto.Extension, error) { return nil, nil }, want: nil},
		{name: "not called without offers", offer: "",
			hook: func([]wsproto.Extension) ([]wsproto.Extension, error) {
				return nil, errors.New("called")
			}, want: nil},
		{name: "typed error keeps its status", offer: "permessage-deflate",
			hook: func([]wsproto.Extension) ([]wsproto.Extension, error) {
				return nil, fmt.Errorf("negotiate: %w", &Error{Status: http.StatusForbidden, Reason: "no"})
			}, status: 403},
		{name: "plain error is 400", offer: "permessage-deflate; client_max_window_bits=99",
			hook: func([]wsproto.Extension) ([]wsproto.Extension, error) {
				return nil, errors.New("client_max_window_bits out of range")
			}, status: 400},
		{name: "answer not offered is 500", offer: "x-foo",
			hook:   func([]wsproto.Extension) ([]wsproto.Extension, error) { return []wsproto.Extension{deflate}, nil },
			status: 500},
		{name: "malformed answer is 500", offer: "permessage-deflate",
			hook: func([]wsproto.Extension) ([]wsproto.Extension, error) {
				return []wsproto.Extension{{Name: "permessage-deflate",
					Params: []wsproto.ExtensionParam{{Name: "a", Value: "1\r\nX-Evil: 1"}}}}, nil
			}, status: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			if tc.offer != "" {
				lines = append(lines, "Sec-WebSocket-Extensions: "+tc.offer)
			}
			res, err := Check(parseRequest(t, valid(lines...)), &Config{Extensions: tc.hook})
			if tc.status != 0 {
				var herr *Error
				if !errors.As(err, &herr) || herr.Status != tc.status {
					t.Fatalf("Check = %+v, %v; want a %d refusal", res, err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if !reflect.DeepEqual(res.Extensions, tc.want) {
				t.Errorf("Extensions = %+v, want %+v", res.Extensions, tc.want)
			}
			offers, err := ParseExtensions([]string{tc.offer})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Offers, offers) {
				t.Errorf("Offers = %+v, want %+v", res.Offers, offers)
			}
		})
	}
}

func TestIsUpgrade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		upgrade []string
		want    bool
	}{
		{"none", nil, false},
		{"websocket", []string{"websocket"}, true},
		{"any case", []string{"WebSocket"}, true},
		{"in a list", []string{"h2c, websocket"}, true},
		{"repeated", []string{"h2c", "websocket"}, true},
		{"other", []string{"h2c"}, false},
		{"prefix only", []string{"websockets"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tc.upgrade {
				r.Header.Add("Upgrade", v)
			}
			if got := IsUpgrade(FromHTTP(r)); got != tc.want {
				t.Errorf("IsUpgrade = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	onlyExample := func(r *Request) error {
		if o := r.Header.Get("Origin"); o != "https://example.com" {
			return fmt.Errorf("origin %q not allowed", o)
		}
		return nil
	}
	tests := []struct {
		name   string
		origin string
		policy func(*Request) error
		status int // 0: accepted
	}{
		{name: "no policy accepts any origin", origin: "https://evil.test"},
		{name: "allowed origin", origin: "https://example.com", policy: onlyExample},
		{name: "refused origin is 403", origin: "https://evil.test", policy: onlyExample, status: 403},
		{name: "missing origin is the policy's call", policy: onlyExample, status: 403},
		{name: "typed error keeps its status", origin: "https://example.com",
			policy: func(*Request) error { return &Error{Status: http.StatusUnauthorized, Reason: "log in"} },
			status: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			if tc.origin != "" {
				lines = append(lines, "Origin: "+tc.origin)
			}
			res, err := Check(parseRequest(t, valid(lines...)), &Config{Origin: tc.policy})
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var herr *Error
			if !errors.As(err, &herr) || herr.Status != tc.status {
				t.Fatalf("Check = %+v, %v; want a %d refusal", res, err, tc.status)
			}
			if tc.status == 403 && !strings.Contains(herr.Reason, "not allowed") {
				t.Errorf("reason %q does not say why", herr.Reason)
			}
		})
	}
}

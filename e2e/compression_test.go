package e2e

// permessage-deflate through the server: --compression.

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// TestCompressionEcho sends large, repetitive, random and many small
// messages through `cat` with permessage-deflate negotiated, in both
// modes, and checks they come back intact and compressed on the wire.
func TestCompressionEcho(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	raw := make([]byte, 150<<10)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	random := base64.StdEncoding.EncodeToString(raw) // incompressible past its alphabet, no newline
	repetitive := strings.Repeat(`{"k":"value","n":12345},`, 1<<20/24)
	tests := []struct {
		mode   string
		offer  wsproto.DeflateConfig
		answer string
	}{
		{"on", wsproto.DeflateConfig{}, "permessage-deflate"},
		{"nocontext", wsproto.DeflateConfig{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"on", wsproto.DeflateConfig{NoContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.mode, "/", tc.offer.NoContextTakeover), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--compression="+tc.mode, "cat")
			c, resp, cc := dialCounting(t, s.addr, wstest.DeflateHeader(tc.offer))
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != tc.answer {
				t.Fatalf("answer %q, want %q", got, tc.answer)
			}
			// Repetitive: 1 MiB must cross the wire in a small fraction.
			before := cc.read.Load()
			echo(t, c, repetitive)
			if n := cc.read.Load() - before; n > int64(len(repetitive))/20 {
				t.Fatalf("repetitive 1 MiB took %d bytes on the wire: not compressed", n)
			}
			echo(t, c, random)
			before = cc.read.Load()
			var lines int
			for i := range 200 {
				line := fmt.Sprintf(`{"time":"2026-12-01T21:00:%02d","cpu":%d.%d,"mem":%d,"status":"ok"}`, i%60, i%100, i%10, 100000+i*7)
				lines += len(line)
				echo(t, c, line)
			}
			received := cc.read.Load() - before
			t.Logf("200 JSON lines: %d bytes of text, %d bytes received", lines, received)
			// Each line alone barely compresses; with context takeover the
			// server's window holds the previous lines and every line after
			// the first shrinks to a few back-references (about a quarter
			// of the text in all). Without it, each line is compressed on
			// its own and the total stays near the text's size.
			if strings.Contains(tc.answer, "server_no_context_takeover") {
				if received < int64(lines)/2 {
					t.Fatalf("200 JSON lines: %d bytes received for %d bytes of text: context kept though the answer says server_no_context_takeover", received, lines)
				}
			} else if received >= int64(lines)/2 {
				t.Fatalf("200 JSON lines: %d bytes received for %d bytes of text, want under half: no context takeover", received, lines)
			}
			for _, small := range []string{"", "a", "héllo wörld ✓"} {
				echo(t, c, small)
			}
		})
	}
}

// TestCompressionOff: --compression=off answers no extension to an offer,
// and the connection works uncompressed.
func TestCompressionOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--compression=off", "cat")
	c, resp, cc := dialCounting(t, s.addr, wstest.DeflateHeader(wsproto.DeflateConfig{}))
	if got := resp.Header.Values("Sec-WebSocket-Extensions"); len(got) != 0 {
		t.Fatalf("extensions answered: %q", got)
	}
	msg := strings.Repeat("abc", 10000)
	echo(t, c, msg)
	if n := cc.read.Load(); n < int64(len(msg)) {
		t.Fatalf("%d bytes received for a %d-byte echo: compressed though off", n, len(msg))
	}
}

// TestCompressionDeclinedOffer: an offer the server cannot honour (here a
// window of 16 bits, which RFC 7692 does not allow) is declined, and the
// handshake succeeds.
func TestCompressionDeclinedOffer(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	hdr := http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; server_max_window_bits=16"}}
	c, resp, _ := dialCounting(t, s.addr, hdr)
	if got := resp.Header.Values("Sec-WebSocket-Extensions"); len(got) != 0 {
		t.Fatalf("extensions answered: %q", got)
	}
	echo(t, c, "hello")
}

// TestCompressionSmallWindow: an offer asking the server for a window
// under 15 bits is accepted, the window echoed (RFC 7692 §7.1.2.1), and
// messages go through compressed (without back-references, so less: the
// 1 MiB of 24-byte records still shrinks by its letters' entropy).
func TestCompressionSmallWindow(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	hdr := http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; server_max_window_bits=10; client_max_window_bits"}}
	c, resp, cc := dialCounting(t, s.addr, hdr)
	if got, want := resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate; server_max_window_bits=10"; got != want {
		t.Fatalf("answer %q, want %q", got, want)
	}
	repetitive := strings.Repeat(`{"k":"value","n":12345},`, 1<<20/24)
	before := cc.read.Load()
	echo(t, c, repetitive)
	if n := cc.read.Load() - before; n > int64(len(repetitive))*3/4 {
		t.Fatalf("repetitive 1 MiB took %d bytes on the wire: not compressed", n)
	}
	for _, msg := range []string{"", "a", "héllo wörld ✓", strings.Repeat("z", 5000)} {
		echo(t, c, msg)
	}
}

// TestCompressionFlagError: a bad --compression value is a usage error.
func TestCompressionFlagError(t *testing.T) {
	t.Parallel()
	runFail(t, "--compression", "--port=0", "--address=127.0.0.1", "--compression=maybe", "cat")
}

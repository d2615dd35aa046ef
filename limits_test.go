package main

import (
	"strings"
	"testing"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// TestNoMessageLimitWithCompression: with --maxframesize=0 (no limit) a
// compressed message is echoed, and the server still serves the next
// connection. The room left past the limit, computed as the largest
// integer plus one, once wrapped negative and panicked the whole server at
// the first compressed message.
func TestNoMessageLimitWithCompression(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxframesize=0", "cat")
	// Past the client's DefaultDeflateThreshold and repetitive, so it
	// goes out compressed.
	msg := strings.Repeat("no limit, compressed; ", 8)
	for i := range 2 {
		c, resp, _ := dialCounting(t, s.addr, wstest.DeflateHeader(wsproto.DeflateConfig{}))
		if got := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(got, wsproto.DeflateName) {
			t.Fatalf("connection %d: extensions %q, want permessage-deflate", i, got)
		}
		echo(t, c, msg)
	}
}

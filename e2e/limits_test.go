package e2e

// --maxforks, and limits at their extremes.

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

func TestMaxForks(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxforks=1", "cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "one")
	_, resp, err := dialWS(s.addr, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second connection: %s, want 429", resp.Status)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "maxforks") {
		t.Errorf("429 body %q does not name the limit", body)
	}
}

func TestMaxForksClose1013(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxforks=1", "--maxforks-mode=1013", "cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "one")

	c2 := dial(t, s.addr, "/", nil) // the handshake succeeds...
	ce := readClose(t, c2)          // ...and the close says why
	if ce.Code != wsproto.CloseTryAgainLater || ce.Reason != "try again later" {
		t.Fatalf("close %d %q, want 1013 try again later", ce.Code, ce.Reason)
	}
	if n := len(children(t, s.pid())); n != 1 {
		t.Fatalf("%d programs running, want 1", n)
	}
	// The first connection is untouched, and once it ends there is room.
	echo(t, c, "two")
	c.WriteClose(wsproto.CloseNormal, "")
	readClose(t, c)
	waitFor(t, 5*time.Second, "the first program to end", func() bool { return len(children(t, s.pid())) == 0 })
	accepted(t, s.addr, nil)
}

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

// TestLargestHeaderLimit: --maxheadersize at the largest integer serves
// upgrades and redirects alike. net/http reads 4 KiB past a server's
// MaxHeaderBytes, and the redirect listener, given the flag's value as it
// was, overflowed that sum into a negative read limit: every request got
// 431.
func TestLargestHeaderLimit(t *testing.T) {
	t.Parallel()
	redir := freePort(t)
	s := startServer(t, "--maxheadersize="+strconv.Itoa(math.MaxInt), "--redirport="+strconv.Itoa(redir), "cat")
	echo(t, dial(t, s.addr, "/", nil), "hi")
	waitFor(t, 10*time.Second, "the redirect listener", func() bool {
		return strings.Contains(s.logText(), "msg=redirecting addr=127.0.0.1:"+strconv.Itoa(redir))
	})
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(redir) + "/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("redirect listener: %s, want 301", resp.Status)
	}
}

//go:build !tiny

package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

const upgradeHead = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

// rawClient is a connection to a running server that writes requests as
// they are given and reads the responses with net/http's reader.
type rawClient struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{Conn: nc, br: bufio.NewReader(nc)}
}

// response reads one response and its body.
func (c *rawClient) response(t *testing.T, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, ""
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestRunHandsOffPlainRequests: on a listener without TLS the server reads
// each request itself and serves WebSocket upgrades without net/http;
// every other request reaches net/http's server with its bytes intact, and
// is answered as it always was: pipelined, kept alive, malformed.
func TestRunHandsOffPlainRequests(t *testing.T) {
	t.Parallel()
	static := t.TempDir()
	if err := os.WriteFile(filepath.Join(static, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startRun(t, Config{Command: []string{"cat"}, Path: "/bin/cat", StaticDir: static})

	t.Run("pipelined", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		get := "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
		io.WriteString(c, get+get+"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
		for i, method := range []string{"GET", "GET", "HEAD"} {
			resp, body := c.response(t, method)
			want := "hello\n"
			if method == "HEAD" {
				want = ""
			}
			if resp.StatusCode != 200 || body != want || resp.Close {
				t.Fatalf("response %d: %s %q (close %v), want 200 %q kept alive", i, resp.Status, body, resp.Close, want)
			}
		}
	})

	t.Run("kept alive, then an upgrade", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
		if resp, body := c.response(t, "GET"); resp.StatusCode != 200 || body != "hello\n" {
			t.Fatalf("GET: %s %q", resp.Status, body)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n"+upgradeHead+"Sec-WebSocket-Version: 13\r\n\r\n")
		if resp, _ := c.response(t, "GET"); resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade on a kept-alive connection: %s", resp.Status)
		}
		ws := wsproto.NewConn(c.Conn, c.br, wsproto.Config{Role: wsproto.Client})
		echo(t, ws, []byte("hi"), nil, 1, 1)
	})

	t.Run("a malformed request gets net/http's answer", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n")
		resp, body := c.response(t, "GET")
		if resp.StatusCode != 400 || body != "400 Bad Request" {
			t.Fatalf("%s %q, want net/http's 400, whose body is its status", resp.Status, body)
		}
	})

	t.Run("a plain request to the endpoint", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		io.WriteString(c, "GET /nothing-here HTTP/1.1\r\nHost: a\r\n\r\n")
		if resp, _ := c.response(t, "GET"); resp.StatusCode != 404 || resp.Close {
			t.Fatalf("%s (close %v), want the static handler's 404, kept alive", resp.Status, resp.Close)
		}
	})

	t.Run("an upgrade is the server's own", func(t *testing.T) {
		// A refused upgrade is answered by the server's reader, which
		// closes the connection after it (net/http would keep it).
		c := dialRaw(t, s.addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n"+upgradeHead+"Sec-WebSocket-Version: 8\r\n\r\n")
		resp, _ := c.response(t, "GET")
		if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Sec-WebSocket-Version") != "13" || !resp.Close {
			t.Fatalf("%s %v, want 426 with Sec-WebSocket-Version: 13 and Connection: close", resp.Status, resp.Header)
		}
		if _, err := c.br.ReadByte(); err != io.EOF {
			t.Fatalf("after the refusal: %v, want EOF", err)
		}
		ws := dialTest(t, s.addr)
		echo(t, ws, []byte("hi"), nil, 1, 1)
		ws.Close()
	})
}

//go:build !tiny

package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// dial opens a WebSocket connection to the test server as a client.
func dial(t *testing.T, srv *httptest.Server) *wsproto.Conn {
	c, _ := dialOffering(t, srv, "")
	return c
}

// dialOffering is dial with a Sec-WebSocket-Extensions offer (if not
// empty); it returns the server's answer, and the Conn uses what it agreed.
func dialOffering(t *testing.T, srv *httptest.Server, offer string) (*wsproto.Conn, string) {
	t.Helper()
	addr := srv.Listener.Addr().String()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	hdr := http.Header{}
	if offer != "" {
		hdr.Set("Sec-WebSocket-Extensions", offer)
	}
	c, resp, err := wstest.Handshake(nc, addr, "/", hdr)
	if err != nil || c == nil {
		t.Fatalf("handshake: %v (response %v)", err, resp)
	}
	// Handshake bounds only itself; this bounds every later step of the
	// test.
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return c, resp.Header.Get("Sec-WebSocket-Extensions")
}

// TestEchoCompressed: permessage-deflate offered is accepted, and
// compressed messages, whole and fragmented, echo intact.
func TestEchoCompressed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	c, answer := dialOffering(t, srv, "permessage-deflate; client_max_window_bits, permessage-deflate")
	if answer != "permessage-deflate" {
		t.Fatalf("answer %q, want permessage-deflate", answer)
	}
	big := strings.Repeat("compress me ", 20000)
	if err := c.WriteMessage(wsproto.OpText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	w := c.NextWriter(wsproto.OpBinary)
	for range 3 {
		if _, err := w.Write([]byte("frag")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{big, "fragfragfrag"} {
		_, p, err := c.ReadMessage(nil)
		if err != nil || string(p) != want {
			t.Fatalf("echo %.20q, %v; want %.20q", p, err, want)
		}
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	c := dial(t, srv)

	if err := c.WriteMessage(wsproto.OpText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFragment(wsproto.OpBinary, []byte("frag"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.WritePing([]byte("between")); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFragment(wsproto.OpBinary, []byte("ments"), true); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100000)
	if err := c.WriteMessage(wsproto.OpText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		op wsproto.Opcode
		p  string
	}{{wsproto.OpText, "hello"}, {wsproto.OpBinary, "fragments"}, {wsproto.OpText, big}} {
		op, p, err := c.ReadMessage(nil)
		if err != nil || op != want.op || string(p) != want.p {
			t.Fatalf("echo %v %.20q, %v; want %v %.20q", op, p, err, want.op, want.p)
		}
	}
	if err := c.WriteClose(wsproto.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage(nil)
	var ce *wsproto.CloseError
	if !errors.As(err, &ce) || !ce.Remote || ce.Code != wsproto.CloseNormal {
		t.Fatalf("after close: %v, want the echoed close 1000", err)
	}
}

func TestEchoFailsBadUTF8(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	c := dial(t, srv)
	if err := c.WriteFragment(wsproto.OpText, []byte("κόσμε"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFragment(wsproto.OpText, []byte("\xed\xa0\x80"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil { // the message is never finished
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage(nil)
	var ce *wsproto.CloseError
	if !errors.As(err, &ce) || !ce.Remote || ce.Code != wsproto.CloseInvalidPayload {
		t.Fatalf("got %v, want the server's close 1007", err)
	}
}

func TestRejectsPlainRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %s, want 400", resp.Status)
	}
}

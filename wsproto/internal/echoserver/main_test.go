package main

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/wsproto"
)

// dial opens a WebSocket connection to the test server as a client.
func dial(t *testing.T, srv *httptest.Server) *wsproto.Conn {
	c, _ := dialOffering(t, srv, "")
	return c
}

// dialOffering is dial with a Sec-WebSocket-Extensions offer (if not
// empty); it returns the server's answer and sets up what it agreed.
func dialOffering(t *testing.T, srv *httptest.Server, offer string) (*wsproto.Conn, string) {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second)) // bounds every step of the test
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if offer != "" {
		req += "Sec-WebSocket-Extensions: " + offer + "\r\n"
	}
	req += "\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s", resp.Status)
	}
	// RFC 6455 §1.3's example key and accept value.
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept %q", got)
	}
	answer := resp.Header.Get("Sec-WebSocket-Extensions")
	exts, err := handshake.ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		t.Fatal(err)
	}
	params, err := wsproto.DeflateAnswer(exts, wsproto.Client, wsproto.DeflateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return wsproto.NewConn(nc, br, wsproto.Config{Role: wsproto.Client, Deflate: params}), answer
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

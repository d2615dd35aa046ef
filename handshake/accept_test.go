//go:build !tiny

package handshake

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

func TestAcceptKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, want string
	}{
		{"RFC 6455 §1.3", "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		// Computed independently of AcceptKey: SHA-1 over the key and the GUID.
		{"another key", "AQIDBAUGBwgJCgsMDQ4PEA==", sha1Base64("AQIDBAUGBwgJCgsMDQ4PEA==258EAFA5-E914-47DA-95CA-C5AB0DC85B11")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := AcceptKey(tc.key); got != tc.want {
				t.Fatalf("AcceptKey(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func sha1Base64(s string) string {
	sum := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestWriteResponse(t *testing.T) {
	t.Parallel()
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	tests := []struct {
		name  string
		res   *Result
		extra textproto.MIMEHeader
		want  string // "" when an error is expected
	}{
		{name: "plain", res: &Result{Key: key}, want: head + "\r\n"},
		{name: "subprotocol and extensions", res: &Result{Key: key, Subprotocol: "chat",
			Extensions: []wsproto.Extension{{Name: "permessage-deflate", Params: []wsproto.ExtensionParam{{Name: "server_no_context_takeover"}}}}},
			want: head + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"},
		{name: "extra headers sorted", res: &Result{Key: key},
			extra: textproto.MIMEHeader{"X-B": {"2", "3"}, "X-A": {"1"}},
			want:  head + "X-A: 1\r\nX-B: 2\r\nX-B: 3\r\n\r\n"},
		{name: "nil result", res: nil},
		{name: "CRLF in header value", res: &Result{Key: key}, extra: textproto.MIMEHeader{"X-A": {"1\r\nSet-Cookie: a=b"}}},
		{name: "LF in header value", res: &Result{Key: key}, extra: textproto.MIMEHeader{"X-A": {"1\nX: y"}}},
		{name: "NUL in header value", res: &Result{Key: key}, extra: textproto.MIMEHeader{"X-A": {"1\x00"}}},
		{name: "bad header name", res: &Result{Key: key}, extra: textproto.MIMEHeader{"X A": {"1"}}},
		{name: "CRLF in header name", res: &Result{Key: key}, extra: textproto.MIMEHeader{"X\r\nY": {"1"}}},
		{name: "reserved header", res: &Result{Key: key}, extra: textproto.MIMEHeader{"Sec-Websocket-Accept": {"forged"}}},
		{name: "reserved header any case", res: &Result{Key: key}, extra: textproto.MIMEHeader{"connection": {"close"}}},
		{name: "subprotocol not a token", res: &Result{Key: key, Subprotocol: "a\r\nb"}},
		{name: "extension name not a token", res: &Result{Key: key, Extensions: []wsproto.Extension{{Name: "a b"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			bw := bufio.NewWriter(&b)
			err := WriteResponse(bw, tc.res, tc.extra)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("WriteResponse wrote %q, want an error", b.String())
				}
				if b.Len() != 0 || bw.Buffered() != 0 {
					t.Fatalf("WriteResponse wrote %q despite its error %v", b.String(), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteResponse: %v", err)
			}
			if b.String() != tc.want {
				t.Fatalf("WriteResponse wrote\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}

// TestAcceptKeepsEarlyBytes writes the upgrade request and the client's
// first frames in one TCP write. The handler must find those frames in the
// reader Accept returns; it echoes them and then the client's next frame.
func TestAcceptKeepsEarlyBytes(t *testing.T) {
	t.Parallel()
	// RFC 6455 §5.7: a masked "Hello", then a 256-byte binary frame (unmasked
	// here: the handshake does not care what the bytes are).
	hello := []byte("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
	long := append([]byte("\x82\x7e\x01\x00"), bytes.Repeat([]byte{0xa5}, 256)...)
	early := append(append([]byte{}, hello...), long...)
	later := []byte("\x88\x80\x01\x02\x03\x04") // a masked close frame

	cfg := &Config{Subprotocols: []string{"chat"}, Header: textproto.MIMEHeader{"X-Served-By": {"test"}}}
	type served struct {
		res *Result
		got []byte
		err error
	}
	done := make(chan served, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := Check(FromHTTP(r), cfg)
		if err != nil {
			err.(*Error).WriteTo(w)
			done <- served{err: err}
			return
		}
		nc, br, err := Accept(w, res, cfg)
		if err != nil {
			done <- served{res: res, err: err}
			return
		}
		defer nc.Close()
		got := make([]byte, len(early)+len(later))
		_, err = io.ReadFull(br, got)
		if err == nil {
			_, err = nc.Write(got)
		}
		done <- served{res: res, got: got, err: err}
	}))
	t.Cleanup(srv.Close)

	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	req := strings.Replace(rfcRequest, "Host: server.example.com", "Host: 127.0.0.1", 1)
	if _, err := nc.Write(append([]byte(req), early...)); err != nil {
		t.Fatalf("write: %v", err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s, want 101", resp.Status)
	}
	for k, want := range map[string]string{
		"Upgrade":                "websocket",
		"Connection":             "Upgrade",
		"Sec-Websocket-Accept":   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"Sec-Websocket-Protocol": "chat",
		"X-Served-By":            "test",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if _, err := nc.Write(later); err != nil {
		t.Fatalf("write: %v", err)
	}
	echo := make([]byte, len(early)+len(later))
	if _, err := io.ReadFull(br, echo); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	want := append(append([]byte{}, early...), later...)
	if !bytes.Equal(echo, want) {
		t.Fatalf("echo\n%x\nwant\n%x", echo, want)
	}

	var s served
	select {
	case s = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not finish")
	}
	if s.err != nil {
		t.Fatalf("handler: %v", s.err)
	}
	if s.res.Subprotocol != "chat" || s.res.Key != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Errorf("Result = %+v", s.res)
	}
}

// hijacker is a ResponseWriter whose Hijack hands over nc and a reader
// holding br's bytes, as net/http does; it leaves nc's deadlines alone,
// which the Hijacker contract allows.
type hijacker struct {
	*httptest.ResponseRecorder
	nc net.Conn
	br *bufio.Reader
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.nc, bufio.NewReadWriter(h.br, bufio.NewWriter(h.nc)), nil
}

// TestAcceptClearsDeadlines hijacks a connection whose deadline has
// already passed: the 101 gets through only if Accept clears it.
func TestAcceptClearsDeadlines(t *testing.T) {
	t.Parallel()
	res, err := Check(parseRequest(t, valid()), nil)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	server, client := net.Pipe()
	defer client.Close()
	if err := server.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	if err := client.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	w := &hijacker{ResponseRecorder: httptest.NewRecorder(), nc: server,
		br: bufio.NewReader(strings.NewReader("\x81\x00"))}

	type accepted struct {
		br  *bufio.Reader
		err error
	}
	done := make(chan accepted, 1)
	go func() {
		nc, br, err := Accept(w, res, nil)
		if err == nil {
			defer nc.Close()
		}
		done <- accepted{br, err}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(client), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s, want 101", resp.Status)
	}
	var a accepted
	select {
	case a = <-done: // Accept's one write was read above, so it returns now
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return")
	}
	if a.err != nil {
		t.Fatalf("Accept: %v", a.err)
	}
	if b, err := a.br.Peek(2); err != nil || string(b) != "\x81\x00" {
		t.Fatalf("Accept's reader holds %q, %v; want the hijacked reader's bytes", b, err)
	}
}

// TestAcceptBadConfig: a response that cannot be written is a 500 written
// by Accept, and the connection is not taken over.
func TestAcceptBadConfig(t *testing.T) {
	t.Parallel()
	r := parseRequest(t, valid())
	res, err := Check(r, nil)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	w := httptest.NewRecorder() // not a Hijacker: Accept must fail before trying
	nc, br, err := Accept(w, res, &Config{Header: textproto.MIMEHeader{"X-A": {"1\r\nX-B: 2"}}})
	if err == nil || nc != nil || br != nil {
		t.Fatalf("Accept = %v, %v, %v; want an error", nc, br, err)
	}
	if strings.Contains(err.Error(), "hijack") {
		t.Fatalf("Accept tried to hijack before checking its response: %v", err)
	}
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	if strings.Contains(w.Body.String(), "X-B") || w.Header().Get("X-A") != "" {
		t.Errorf("the invalid header leaked into the response: %v %q", w.Header(), w.Body.String())
	}
}

// TestAcceptNotHijackable: without a Hijacker, Accept answers 500.
func TestAcceptNotHijackable(t *testing.T) {
	t.Parallel()
	res, err := Check(parseRequest(t, valid()), nil)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	w := httptest.NewRecorder()
	if _, _, err := Accept(w, res, nil); err == nil || !strings.Contains(err.Error(), "hijack") {
		t.Fatalf("Accept error %v, want a hijack error", err)
	}
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
}

// TestSHA1: the package's SHA-1 is crypto/sha1's, at every length around
// the padding's edges (55, 56, 64 bytes) and beyond one block, and for the
// FIPS 180-4 example "abc".
func TestSHA1(t *testing.T) {
	t.Parallel()
	if got, want := fmt.Sprintf("%x", sha1Sum([]byte("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d"; got != want {
		t.Fatalf("SHA-1 of abc = %s, want %s", got, want)
	}
	msg := make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	for n := range len(msg) {
		if got, want := sha1Sum(msg[:n]), sha1.Sum(msg[:n]); got != want {
			t.Fatalf("%d bytes: %x, want %x", n, got, want)
		}
	}
}

//go:build !tiny

package server

import (
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line      string
		wantName, value string
		err             string
	}{
		{"plain", "X-Thing: value", "X-Thing", "value", ""},
		{"canonical name, trimmed value", "x-thing:\t a, b \t", "X-Thing", "a, b", ""},
		{"empty value", "X-Empty:", "X-Empty", "", ""},
		{"colon in value", "Link: <http://a/>; rel=x", "Link", "<http://a/>; rel=x", ""},
		{"no colon", "X-Thing value", "", "", "Name: value"},
		{"space in name", "X Thing: v", "", "", "not a token"},
		{"empty name", ": v", "", "", "not a token"},
		{"CR in value", "X-A: a\rB: b", "", "", "control character"},
		{"LF in value", "X-A: a\nB: b", "", "", "control character"},
		{"NUL in value", "X-A: a\x00", "", "", "control character"},
		{"upgrade", "Upgrade: h2c", "", "", "server itself"},
		{"connection", "connection: close", "", "", "server itself"},
		{"accept", "Sec-WebSocket-Accept: x", "", "", "server itself"},
		{"content length", "Content-Length: 0", "", "", "server itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name, value, err := ParseHeader(tc.line)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseHeader(%q) = %q, %q, %v; want an error about %q", tc.line, name, value, err, tc.err)
				}
				return
			}
			if err != nil || name != tc.wantName || value != tc.value {
				t.Fatalf("ParseHeader(%q) = %q, %q, %v; want %q, %q", tc.line, name, value, err, tc.wantName, tc.value)
			}
		})
	}
}

func TestRedirectHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, scheme, port, method, host, target string
		status                                   int
		location                                 string
	}{
		{"https other port", "https", "8443", "GET", "example.com:8080", "/a/b?c=d", 301, "https://example.com:8443/a/b?c=d"},
		{"https default port", "https", "443", "GET", "example.com:80", "/x?y", 301, "https://example.com/x?y"},
		{"http", "http", "8080", "HEAD", "example.com", "/", 301, "http://example.com:8080/"},
		{"ipv6", "https", "443", "GET", "[::1]:80", "/p", 301, "https://[::1]/p"},
		{"ipv6 other port", "https", "8443", "GET", "[::1]:80", "/p", 301, "https://[::1]:8443/p"},
		{"post keeps its method", "https", "443", "POST", "example.com", "/form", 308, "https://example.com/form"},
		{"escaped path", "https", "443", "GET", "h", "/a%20b/%2F?q=%26", 301, "https://h/a%20b/%2F?q=%26"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.target, nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			(&Server{log: slog.New(slog.DiscardHandler)}).redirectHandler(tc.scheme, tc.port).ServeHTTP(w, r)
			if w.Code != tc.status || w.Header().Get("Location") != tc.location {
				t.Fatalf("%d %q, want %d %q", w.Code, w.Header().Get("Location"), tc.status, tc.location)
			}
		})
	}
}

func TestListenUnix(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "wsx")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s")

	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	ln, err := listenUnix(path, 0o660)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket file mode %v (%v), want 0660", fi.Mode().Perm(), err)
	}
	if a := ln.Addr().String(); a != path { // what the listening line shows
		t.Fatalf("address %q, want %q", a, path)
	}
	if _, err := listenUnix(path, 0); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Fatalf("over a live socket: %v", err)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket file left after Close: %v", err)
	}

	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := listenUnix(path, 0); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("over a regular file: %v", err)
	}
}

func TestWithHeaders(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: Config{
		Header:     textproto.MIMEHeader{"X-All": {"a"}},
		HeaderHTTP: textproto.MIMEHeader{"X-Http": {"h"}},
	}}
	h := s.withHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, upgrade := range []bool{false, true} {
		r := httptest.NewRequest("GET", "/", nil)
		if upgrade {
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Connection", "Upgrade")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Header().Get("X-All") != "a" || (w.Header().Get("X-Http") == "h") == upgrade {
			t.Errorf("upgrade %v: headers %v", upgrade, w.Header())
		}
	}
}

// TestURLAddr: a listener on every interface is named localhost in the
// URLs the log shows ([::] and 0.0.0.0 are nothing to connect to); one on
// an address keeps it.
func TestURLAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "localhost:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 80}, "localhost:80"},
		{&net.TCPAddr{Port: 8080}, "localhost:8080"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "[::1]:8080"},
	} {
		if got := urlAddr(tc.addr); got != tc.want {
			t.Errorf("urlAddr(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

//go:build !tiny

package server

import (
	"bufio"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/handshake"
)

// readRequest parses a request line and Host as net/http's server does
// (absolute-form targets set Host from the request line).
func readRequest(t *testing.T, line, host string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(line + "\r\nHost: " + host + "\r\n\r\n")))
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return r
}

func TestCheckRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line, host string
		reason           string // "" if accepted
	}{
		{"plain", "GET /a/b.sh/c?x=../y HTTP/1.1", "example.com", ""},
		{"dots in names", "GET /a..b/.c/...%2e/~ HTTP/1.1", "example.com:8080", ""},
		{"double-encoded dotdot is a name", "GET /%252e%252e/x HTTP/1.1", "example.com", ""},
		{"no Host", "GET / HTTP/1.0", "", ""},
		{"absolute-form", "GET http://other.example:1234/x HTTP/1.1", "example.com", "not a path"},
		{"absolute-form, same host", "GET http://example.com/x HTTP/1.1", "example.com", "not a path"},
		{"authority-form", "CONNECT example.com:443 HTTP/1.1", "example.com", "not a path"},
		{"dotdot", "GET /../x HTTP/1.1", "h", dotSegmentReason},
		{"dot", "GET /a/./x HTTP/1.1", "h", dotSegmentReason},
		{"trailing dotdot", "GET /a/.. HTTP/1.1", "h", dotSegmentReason},
		{"trailing dot", "GET /a/. HTTP/1.1", "h", dotSegmentReason},
		{"encoded dotdot", "GET /a/%2e%2E/x HTTP/1.1", "h", dotSegmentReason},
		{"half-encoded dot", "GET /a/%2e/x HTTP/1.1", "h", dotSegmentReason},
		{"encoded slash", "GET /a%2fb HTTP/1.1", "h", "%2F"},
		{"encoded slash, upper case", "GET /a%2Fb HTTP/1.1", "h", "%2F"},
		{"encoded slash in the query is data", "GET /a?b=%2F HTTP/1.1", "h", ""},
		{"bad port", "GET / HTTP/1.1", "a.b:99999", "Host"},
		{"bad name", "GET / HTTP/1.1", "a;b", "Host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkRequest(fromHTTP(readRequest(t, tc.line, tc.host)))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var herr *handshake.Error
			if !errors.As(err, &herr) || herr.Status != http.StatusBadRequest || !strings.Contains(herr.Reason, tc.reason) {
				t.Fatalf("got %v, want 400 with %q", err, tc.reason)
			}
		})
	}
}

func TestSplitHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, name, port string
		ok               bool
	}{
		{"", "", "", true},
		{"example.com", "example.com", "", true},
		{"Example.COM.", "Example.COM.", "", true},
		{"a-b_c:1", "a-b_c", "1", true},
		{"192.0.2.1:65535", "192.0.2.1", "65535", true},
		{"[::1]", "::1", "", true},
		{"[2001:db8::1]:8080", "2001:db8::1", "8080", true},
		{"[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", "80", true},

		{"a.b:99999", "", "", false},
		{"a.b:65536", "", "", false},
		{"a.b:0", "", "", false},
		{"a.b:abc", "", "", false},
		{"a.b:", "", "", false},
		{"a.b:080", "", "", false},
		{"a.b:+80", "", "", false},
		{"a.b:-1", "", "", false},
		{"a.b: 80", "", "", false},
		{"a.b:80:81", "", "", false},
		{":80", "", "", false},
		{":", "", "", false},
		{"::1", "", "", false},
		{"[::1]:0x50", "", "", false},
		{"[::1", "", "", false},
		{"[::1]x", "", "", false},
		{"[::1]:", "", "", false},
		{"[]", "", "", false},
		{"[192.0.2.1]", "", "", false},
		{"[fe80::1%25eth0]", "", "", false},
		{"[v1.x]", "", "", false},
		{"a;b", "", "", false},
		{"a$b", "", "", false},
		{"a'b", "", "", false},
		{"a(b)", "", "", false},
		{"a%41", "", "", false},
		{"a b", "", "", false},
		{"é.example", "", "", false},
	}
	for _, tc := range tests {
		name, port, err := splitHost(tc.host)
		if tc.ok != (err == nil) || name != tc.name || port != tc.port {
			t.Errorf("splitHost(%q) = %q, %q, %v; want %q, %q, ok %v", tc.host, name, port, err, tc.name, tc.port, tc.ok)
		}
	}
}

// TestRedirectRefuses: the redirect listener refuses what the endpoint's
// does about the target and Host, and leaves the path to it.
func TestRedirectRefuses(t *testing.T) {
	t.Parallel()
	h := (&Server{log: slog.New(slog.DiscardHandler)}).redirectHandler("https", "8443")
	for _, tc := range []struct {
		line, host string
		status     int
	}{
		{"GET http://evil.example/x HTTP/1.1", "example.com", 400},
		{"GET /x HTTP/1.1", "example.com:99999", 400},
		{"GET /x HTTP/1.1", "a'b", 400},
		{"GET /a/../x HTTP/1.1", "example.com", 301},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, readRequest(t, tc.line, tc.host))
		if w.Code != tc.status {
			t.Errorf("%s, Host %s: %d %q, want %d", tc.line, tc.host, w.Code, w.Body, tc.status)
		}
	}
}

// FuzzSplitHost: a Host splitHost accepts is put back together from its
// name and port exactly, its port is 1 to 65535, and its name is plain.
func FuzzSplitHost(f *testing.F) {
	for _, h := range []string{
		"", "example.com", "a.b:8080", "[::1]", "[::1]:80", "a.b:99999", "a.b:", ":80",
		"[::1]:0x50", "a;b", "[fe80::1%25eth0]", "a.b:080",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		name, port, err := splitHost(h)
		if err != nil {
			if name != "" || port != "" {
				t.Fatalf("splitHost(%q) = %q, %q with %v", h, name, port, err)
			}
			return
		}
		back := name
		if strings.Contains(name, ":") {
			back = "[" + name + "]"
		}
		if port != "" {
			back += ":" + port
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				t.Fatalf("splitHost(%q): port %q", h, port)
			}
		}
		if back != h {
			t.Fatalf("splitHost(%q) = %q, %q: put back, %q", h, name, port, back)
		}
		if strings.ContainsAny(name, "[]%;$'()! \\/@") || hasControl(name) {
			t.Fatalf("splitHost(%q): name %q", h, name)
		}
	})
}

//go:build !tiny

package handshake

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        *Error
		preset     http.Header // headers the caller set on w before WriteTo
		text       string
		status     int
		wantHeader http.Header
	}{
		{name: "400", err: refuse("missing Sec-WebSocket-Key header"),
			text: "handshake: 400 Bad Request: missing Sec-WebSocket-Key header", status: 400},
		{name: "426", err: checkVersion([]string{"8"}),
			text:   `handshake: 426 Upgrade Required: unsupported Sec-WebSocket-Version "8", this server speaks version 13`,
			status: 426, wantHeader: http.Header{"Sec-Websocket-Version": {"13"}}},
		{name: "403 with the caller's header", err: &Error{Status: 403, Reason: "origin not allowed"},
			preset: http.Header{"Retry-After": {"1"}},
			text:   "handshake: 403 Forbidden: origin not allowed", status: 403,
			wantHeader: http.Header{"Retry-After": {"1"}}},
		{name: "unknown status text", err: &Error{Status: 499, Reason: "x"}, text: "handshake: 499: x", status: 499},
		{name: "1xx is written as 500", err: &Error{Status: 101, Reason: "x"}, text: "handshake: 101 Switching Protocols: x", status: 500},
		{name: "zero is written as 500", err: &Error{Reason: "x"}, text: "handshake: 0: x", status: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("Error() = %q, want %q", got, tc.text)
			}
			w := httptest.NewRecorder()
			for k, v := range tc.preset {
				w.Header()[k] = v
			}
			tc.err.WriteTo(w)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			if got, want := w.Body.String(), tc.err.Reason+"\n"; got != want {
				t.Errorf("body %q, want %q", got, want)
			}
			want := http.Header{
				"Content-Type":           {"text/plain; charset=utf-8"},
				"X-Content-Type-Options": {"nosniff"},
				"Connection":             {"close"},
			}
			for k, v := range tc.wantHeader {
				want[k] = v
			}
			for k, v := range want {
				if got := w.Header()[k]; len(got) != len(v) || got[0] != v[0] {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

package handshake

import (
	"strings"
	"testing"
)

func TestCheckHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		err         string // a substring of the error, "" for none
	}{
		{"X-Thing", "value", ""},
		{"X-Tab", "a\tb", ""},
		{"X-Empty", "", ""},
		{"X-Obs-Text", "caf\xc3\xa9", ""},
		{"X Thing", "v", "not a token"},
		{"", "v", "not a token"},
		{"X\r\nY", "v", "not a token"},
		{"X:Y", "v", "not a token"},
		{"X-A", "a\r\nSet-Cookie: x=1", "control character"},
		{"X-A", "a\nB: b", "control character"},
		{"X-A", "a\x00", "control character"},
		{"X-A", "a\x7f", "control character"},
		{"Upgrade", "h2c", "server itself"},
		{"connection", "close", "server itself"},
		{"SEC-WEBSOCKET-ACCEPT", "x", "server itself"},
		{"Content-Length", "0", "server itself"},
		{"Transfer-Encoding", "chunked", "server itself"},
	}
	for _, tc := range tests {
		err := CheckHeader(tc.name, tc.value)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckHeader(%q, %q) = %v, want an error about %q (none if empty)", tc.name, tc.value, err, tc.err)
		}
	}
}

func TestIsToken(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"chat", "v2.chat", "a!#$%&'*+-.^_`|~Z9"} {
		if !IsToken(s) {
			t.Errorf("IsToken(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "a b", "a,b", "a;b", "a/b", `a"b`, "a\x00", "a\x7f", "caf\xc3\xa9", "{}", "a=b"} {
		if IsToken(s) {
			t.Errorf("IsToken(%q) = true, want false", s)
		}
	}
}

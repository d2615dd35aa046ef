//go:build !tiny

package server

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/procio"
)

func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("entry without '=': %q", kv)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("%s set twice in %q", k, env)
		}
		m[k] = v
	}
	return m
}

func TestEnvInjection(t *testing.T) {
	t.Setenv("WSEXEC_TEST_PASS", "passed")
	t.Setenv("REMOTE_ADDR", "from-parent")
	t.Setenv("HTTP_X_OPERATOR", "from-operator")
	// A name with '-' can be set in the parent, unlike one with '=', so it
	// shows that the name check, not the parent's lack of it, keeps it out.
	t.Setenv("WSEXEC-TEST-BAD", "x")
	base := newBaseEnv([]string{"WSEXEC_TEST_PASS", "REMOTE_ADDR", "WSEXEC-TEST-BAD", "WSEXEC_TEST_UNSET", "HTTP_X_OPERATOR"})

	r := httptest.NewRequest(http.MethodGet, "http://example.com:8080/p?q=1", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header = http.Header{
		"X-Ok":             {"a", "b"},
		"Proxy":            {"http://evil"},
		"X_forwarded_for":  {"spoofed"},
		"Remote-Addr":      {"spoofed"},
		"X-Newline":        {"line1\nREMOTE_USER=root"},
		"X-Nul":            {"a\x00b"},
		"Cookie":           {"a=1", "b=2"},
		"Weird!Name":       {"x"},
		"Wsexec-Test-Pass": {"from-header"},
		"X-Operator":       {"from-header"},
	}
	env := envMap(t, base.build(envRequest{r: fromHTTP(r), id: "7", software: "wsexec/test", scriptName: "/p"}))

	tests := []struct {
		key, want string
		set       bool
	}{
		{"WSEXEC_TEST_PASS", "passed", true},
		{"REMOTE_ADDR", "192.0.2.7", true}, // the server's value, not the parent's
		{"REMOTE_PORT", "5555", true},
		{"SERVER_NAME", "example.com", true},
		{"SERVER_PORT", "8080", true},
		{"UNIQUE_ID", "7", true},
		{"HTTP_X_OK", "a, b", true},
		{"HTTP_COOKIE", "a=1; b=2", true},
		{"HTTP_REMOTE_ADDR", "spoofed", true}, // prefixed, so harmless
		{"HTTP_WSEXEC_TEST_PASS", "from-header", true},
		{"HTTP_X_OPERATOR", "from-operator", true}, // a --passenv name is not the client's to set
		{"HTTP_X_NEWLINE", "line1 REMOTE_USER=root", true},
		{"HTTP_X_NUL", "a b", true},
		{"REMOTE_USER", "", true},
		{"HTTP_PROXY", "", false},
		{"HTTP_X_FORWARDED_FOR", "", false},
		{"HTTPS", "", false},
		{"WSEXEC_TEST_UNSET", "", false},
		{"WSEXEC-TEST-BAD", "", false}, // an invalid --passenv name
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got, ok := env[tc.key]
			if ok != tc.set || got != tc.want {
				t.Fatalf("%s = %q (set %v), want %q (set %v)", tc.key, got, ok, tc.want, tc.set)
			}
		})
	}
	for k := range env {
		if strings.ContainsAny(k, "!-") {
			t.Errorf("invalid variable name %q", k)
		}
	}
}

func TestEnvHTTPS(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	env := envMap(t, newBaseEnv(nil).build(envRequest{r: fromHTTP(r)}))
	if env["HTTPS"] != "on" {
		t.Fatalf("HTTPS = %q, want on", env["HTTPS"])
	}
	if env["SERVER_PORT"] != "443" {
		t.Fatalf("SERVER_PORT = %q, want https's 443 for a Host without a port", env["SERVER_PORT"])
	}
}

// TestEnvServerName: SERVER_NAME and SERVER_PORT come from Host, an IPv6
// name without its brackets whether a port follows or not, and the
// scheme's default port when Host has none (as websocketd: the port the
// client connected to, a proxy's included), not the listener's.
func TestEnvServerName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ host, name, port string }{
		{"example.com:8080", "example.com", "8080"},
		{"example.com", "example.com", "80"},
		{"[::1]:8080", "::1", "8080"},
		{"[::1]", "::1", "80"},
		{"", "", "80"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = tc.host
		env := envMap(t, newBaseEnv(nil).build(envRequest{r: fromHTTP(r)}))
		if env["SERVER_NAME"] != tc.name || env["SERVER_PORT"] != tc.port {
			t.Errorf("Host %q: SERVER_NAME %q SERVER_PORT %q, want %q %q", tc.host, env["SERVER_NAME"], env["SERVER_PORT"], tc.name, tc.port)
		}
	}
}

func TestHeaderEnvName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"User-Agent", "HTTP_USER_AGENT", true},
		{"x-lower-9", "HTTP_X_LOWER_9", true},
		{"X_Under", "", false},
		{"Proxy", "", false},
		{"proxy", "", false},
		{"Host", "", false},
		{"A=B", "", false},
		{"Ü", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := headerEnvName(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("headerEnvName(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if valid := validHeaderEnvName(tc.in); valid != tc.ok {
			t.Errorf("validHeaderEnvName(%q) = %v, want %v", tc.in, valid, tc.ok)
		}
	}
	if raceEnabled {
		return // the race detector allocates on its own
	}
	if n := testing.AllocsPerRun(100, func() { validHeaderEnvName("User-Agent") }); n != 0 {
		t.Errorf("validHeaderEnvName allocates %v times, want 0", n)
	}
}

// TestEnvAllocs pins what building a connection's environment costs: the
// slice, and one buffer (and its Builder) for every value (envBuf),
// whatever the number of variables and headers, rather than a string each.
func TestEnvAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	r := httptest.NewRequest(http.MethodGet, "http://example.com:8080/p/x?q=1", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header = http.Header{
		"User-Agent":               {"test/1.0"},
		"Origin":                   {"http://example.com"},
		"Sec-Websocket-Key":        {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version":    {"13"},
		"Sec-Websocket-Extensions": {"permessage-deflate", "x-other"},
		"Cookie":                   {"a=1", "b=2"},
		"Upgrade":                  {"websocket"},
		"Connection":               {"Upgrade"},
	}
	base := newBaseEnv(nil)
	q := envRequest{r: fromHTTP(r), id: "1796603626958196701", software: "wsexec/test", scriptName: "/p", pathInfo: "/x"}
	env := envMap(t, base.build(q))
	if env["HTTP_COOKIE"] != "a=1; b=2" || env["HTTP_SEC_WEBSOCKET_EXTENSIONS"] != "permessage-deflate, x-other" || env["PATH_INFO"] != "/x" {
		t.Errorf("HTTP_COOKIE %q, HTTP_SEC_WEBSOCKET_EXTENSIONS %q, PATH_INFO %q",
			env["HTTP_COOKIE"], env["HTTP_SEC_WEBSOCKET_EXTENSIONS"], env["PATH_INFO"])
	}
	if n := testing.AllocsPerRun(100, func() { base.build(q) }); n > 3 {
		t.Errorf("building the environment allocates %v times, want at most 3", n)
	}
}

func TestValidEnvName(t *testing.T) {
	good := []string{"PATH", "_X", "a1"}
	bad := []string{"", "1A", "A-B", "A=B", "A B"}
	for _, n := range good {
		if !validEnvName(n) {
			t.Errorf("%q refused", n)
		}
	}
	for _, n := range bad {
		if validEnvName(n) {
			t.Errorf("%q accepted", n)
		}
	}
	// "A=B" could never be in the parent's environment; "A-B" can.
	t.Setenv("WSEXEC-TEST-BAD", "x")
	if pass := newBaseEnv([]string{"WSEXEC-TEST-BAD"}).pass; pass != nil {
		t.Errorf("an invalid --passenv name reached the environment: %q", pass)
	}
}

// TestEnvIdentity: the gates' identity reaches the program as AUTH_TYPE,
// REMOTE_USER and AUTH_* (over a --passenv variable of the same name),
// with control characters replaced; the password basic auth checked does
// not reach it; through a trusted proxy, a Host without a port means the
// client's scheme's port.
func TestEnvIdentity(t *testing.T) {
	t.Setenv("AUTH_ROLE", "from-parent")
	t.Setenv("WSEXEC_TEST_KEEP", "kept")
	base := newBaseEnv([]string{"AUTH_ROLE", "WSEXEC_TEST_KEEP"})
	r := httptest.NewRequest(http.MethodGet, "http://example.com/p", nil)
	r.Header.Set("Authorization", "Basic YWxpY2U6c2VjcmV0")
	who := identity{authType: authTypeBasic, user: "al\nice", extra: []string{"AUTH_ROLE=admin"}, hidePassword: true}
	env := envMap(t, base.build(envRequest{r: fromHTTP(r), who: who}))
	want := map[string]string{"AUTH_TYPE": "Basic", "REMOTE_USER": "al ice", "AUTH_ROLE": "admin", "WSEXEC_TEST_KEEP": "kept", "SERVER_PORT": "80"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if v, ok := env["HTTP_AUTHORIZATION"]; ok {
		t.Errorf("HTTP_AUTHORIZATION = %q: the password reached the program", v)
	}
	who.hidePassword = false // an auth command's token, say: the program may need it
	if env := envMap(t, base.build(envRequest{r: fromHTTP(r), who: who})); env["HTTP_AUTHORIZATION"] != "Basic YWxpY2U6c2VjcmV0" {
		t.Errorf("without basic auth, HTTP_AUTHORIZATION = %q", env["HTTP_AUTHORIZATION"])
	}

	nets, _ := ParseTrustedProxies([]string{"127.0.0.1"})
	r.RemoteAddr = "127.0.0.1:4000"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", "203.0.113.5")
	fr := fromHTTP(r)
	if err := trustedProxies(nets).forward(fr); err != nil {
		t.Fatal(err)
	}
	env = envMap(t, base.build(envRequest{r: fr}))
	if env["SERVER_PORT"] != "443" || env["HTTPS"] != "on" || env["REMOTE_ADDR"] != "203.0.113.5" || env["REMOTE_PORT"] != "" {
		t.Errorf("through a proxy: SERVER_PORT %q, HTTPS %q, REMOTE_ADDR %q, REMOTE_PORT %q; want 443, on, 203.0.113.5, empty",
			env["SERVER_PORT"], env["HTTPS"], env["REMOTE_ADDR"], env["REMOTE_PORT"])
	}
}

// TestEnvPty: a program on a terminal gets TERM=dumb unless --passenv
// passes TERM, and COLUMNS and LINES saying the terminal's size whatever
// --passenv says; each once. Without a pty none of them is set.
func TestEnvPty(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("COLUMNS", "200")
	t.Setenv("LINES", "60")
	size := procio.WindowSize{Columns: 80, Rows: 24}
	tests := []struct {
		name                 string
		pass                 []string
		pty                  bool
		term, columns, lines string // "" for unset
	}{
		{"pty", nil, true, "dumb", "80", "24"},
		{"pty, TERM passed", []string{"TERM"}, true, "xterm-256color", "80", "24"},
		{"pty, size passed", []string{"COLUMNS", "LINES"}, true, "dumb", "80", "24"},
		{"pipe", nil, false, "", "", ""},
		{"pipe, all passed", []string{"TERM", "COLUMNS", "LINES"}, false, "xterm-256color", "200", "60"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := newBaseEnv(tc.pass)
			if tc.pty {
				base = base.withPty(size)
			}
			r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
			env := envMap(t, base.build(envRequest{r: fromHTTP(r)}))
			for _, v := range []struct{ key, want string }{{"TERM", tc.term}, {"COLUMNS", tc.columns}, {"LINES", tc.lines}} {
				if got, ok := env[v.key]; got != v.want || ok != (v.want != "") {
					t.Errorf("%s = %q (set: %t), want %q", v.key, got, ok, v.want)
				}
			}
		})
	}
}

package e2e

// The CGI environment a program gets.

import (
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envHeader is the request header the environment tests send: a custom
// header, a repeated one, and Proxy, which must not become HTTP_PROXY.
func envHeader() http.Header {
	hdr := http.Header{}
	hdr.Set("X-Custom", "custom value")
	hdr.Add("X-Repeated", "one")
	hdr.Add("X-Repeated", "two")
	hdr.Set("Proxy", "http://evil.example:3128")
	hdr.Set("User-Agent", "wsexec-test")
	return hdr
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	s := startServer(t, "../examples/bash/env.sh")
	hdr := envHeader()
	env := readEnv(t, dial(t, s.addr, "/some/path?name=bob&x=1", hdr))
	host, port, _ := net.SplitHostPort(s.addr)
	want := map[string]string{
		"QUERY_STRING":      "name=bob&x=1",
		"REQUEST_URI":       "/some/path?name=bob&x=1",
		"SCRIPT_NAME":       "/",
		"PATH_INFO":         "/some/path",
		"REQUEST_METHOD":    "GET",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_NAME":       host,
		"SERVER_PORT":       port,
		"REMOTE_ADDR":       "127.0.0.1",
		"REMOTE_HOST":       "127.0.0.1",
		"HTTP_HOST":         s.addr,
		"HTTP_X_CUSTOM":     "custom value",
		"HTTP_X_REPEATED":   "one, two",
		"HTTP_USER_AGENT":   "wsexec-test",
		"HTTP_UPGRADE":      "websocket",
		"AUTH_TYPE":         "",
		"REMOTE_USER":       "",
		"PATH_TRANSLATED":   "/some/path", // websocketd's value
		"PATH":              os.Getenv("PATH"),
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS", "HOME"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s is set (%q); it must not be", k, v)
		}
	}
	if !strings.HasPrefix(env["SERVER_SOFTWARE"], "wsexec/") {
		t.Errorf("SERVER_SOFTWARE = %q", env["SERVER_SOFTWARE"])
	}
	if _, err := strconv.Atoi(env["REMOTE_PORT"]); err != nil {
		t.Errorf("REMOTE_PORT = %q", env["REMOTE_PORT"])
	}
	// UNIQUE_ID is a decimal number, as websocketd's timestamp: the
	// server's start in nanoseconds plus the connection's number, so it
	// is not reused after a restart; the connect line logs it (which
	// may reach the log after the program's output reached the client).
	if id, err := strconv.ParseUint(env["UNIQUE_ID"], 10, 64); err != nil || id < 1e18 {
		t.Errorf("UNIQUE_ID = %q, want a nanosecond count", env["UNIQUE_ID"])
	}
	waitFor(t, 5*time.Second, "the connect line naming UNIQUE_ID "+env["UNIQUE_ID"], func() bool {
		return strings.Contains(s.logText(), "unique_id="+env["UNIQUE_ID"])
	})
	restarted := startServer(t, "../examples/bash/env.sh")
	if again := readEnv(t, dial(t, restarted.addr, "/", nil))["UNIQUE_ID"]; again == env["UNIQUE_ID"] {
		t.Errorf("another server's first connection has the same UNIQUE_ID %s", again)
	}
}

func TestReverseLookup(t *testing.T) {
	t.Parallel()
	names, err := net.LookupAddr("127.0.0.1")
	if err != nil || len(names) == 0 {
		t.Skipf("127.0.0.1 has no reverse name here: %v", err)
	}
	want := names[0] // with its final dot, as websocketd gives it
	s := startServer(t, "--reverselookup", "../examples/bash/env.sh")
	if got := readEnv(t, dial(t, s.addr, "/", nil))["REMOTE_HOST"]; got != want {
		t.Fatalf("REMOTE_HOST = %q, want %q", got, want)
	}
	plain := startServer(t, "../examples/bash/env.sh")
	if got := readEnv(t, dial(t, plain.addr, "/", nil))["REMOTE_HOST"]; got != "127.0.0.1" {
		t.Fatalf("without --reverselookup REMOTE_HOST = %q, want the address", got)
	}
}

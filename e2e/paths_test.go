package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/internal/wstest"
)

// What a request's target, path and Host can reach, through the real
// binary: program files behind --staticdir, dot segments, absolute-form
// targets and malformed Host headers (docs/security.md points here).

// programMark is in every file of the tests below that is a program's, or
// names one: it must never reach a client.
const programMark = "PROGRAM-FILE-MARK"

// writeFiles writes each name (relative to base) with its body and mode,
// making the directories on the way.
func writeFiles(t *testing.T, base string, files map[string]os.FileMode, body string) {
	t.Helper()
	for name, mode := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// checkHidden fails unless every target is a 404 that shows no program's
// source, and every target of served a 200.
func checkHidden(t *testing.T, addr string, hidden, served []string) {
	t.Helper()
	for _, target := range hidden {
		r := rawRequest(t, addr, "GET", target, false)
		if r.status != http.StatusNotFound || strings.Contains(r.body, programMark) || strings.Contains(r.body, sourceMark) {
			t.Errorf("GET %s: %d %.80q, want 404", target, r.status, r.body)
		}
	}
	for _, target := range served {
		if r := rawRequest(t, addr, "GET", target, false); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %.80q, want 200", target, r.status, r.body)
		}
	}
}

// TestStaticHidesCommandFiles: when the COMMAND is an interpreter, its
// script is the program: neither it nor any file another argument names
// (alone or as -name=value) is served from --staticdir, whether asked for
// by its name, a symlink, a hard link or an editor's backup of it.
func TestStaticHidesCommandFiles(t *testing.T) {
	t.Parallel()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	www := filepath.Join(base, "www")
	writeFiles(t, www, map[string]os.FileMode{
		"app.conf": 0o644, "data.txt": 0o644,
		"app.sh~": 0o644, "app.sh.bak": 0o644, "app.sh.orig": 0o644, "app.sh.BAK": 0o644,
		"#app.sh#": 0o644, "app.sh.~2~": 0o644, ".app.sh.swp": 0o644,
		"app.conf.old": 0o644, "data.txt.save": 0o644, "app.sh.orig~": 0o644,
	}, programMark+"\n")
	writeFiles(t, www, map[string]os.FileMode{"app.sh": 0o644}, "# "+programMark+"\necho app-ran\n")
	writeFiles(t, www, map[string]os.FileMode{"page.html": 0o644, "notes.txt": 0o644, "notes.txt.bak": 0o644}, "plain\n")
	if err := os.Mkdir(filepath.Join(www, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(www, "app.sh"), filepath.Join(www, "lib", "hard.sh")); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"app.sh", "link.sh"}, {"lib", "linkdir"}} {
		if err := os.Symlink(l[0], filepath.Join(www, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel := func(name string) string {
		p, err := filepath.Rel(wd, filepath.Join(www, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// As `cd www && wsexec --staticdir=. sh app.sh --conf=app.conf data.txt`,
	// from the test's directory: relative names, as the program sees them.
	s := startServer(t, "--staticdir="+www, "sh", rel("app.sh"), "--conf="+rel("app.conf"), filepath.Join(www, "data.txt"))
	if got := readText(t, dial(t, s.addr, "/", nil)); got != "app-ran" {
		t.Fatalf("the program said %q", got)
	}
	checkHidden(t, s.addr, []string{
		"/app.sh", "/app.conf", "/data.txt", "/link.sh", "/lib/hard.sh", "/linkdir/hard.sh",
		"/app.sh~", "/app.sh.bak", "/app.sh.orig", "/app.sh.BAK", "/%23app.sh%23", "/app.sh.~2~",
		"/.app.sh.swp", "/app.conf.old", "/data.txt.save", "/app.sh.orig~",
	}, []string{"/", "/page.html", "/notes.txt", "/notes.txt.bak", "/lib/"})
	checkListing(t, s.addr, "/", "notes.txt.bak", "app.sh", "app.conf", "data.txt", "link.sh")
	checkListing(t, s.addr, "/lib/", "", "hard.sh")
	if !strings.Contains(s.logText(), "msg=\"not served\"") {
		t.Errorf("no debug line says why a file was not served:\n%s", s.logText())
	}
}

// TestStaticHidesScriptLinks: the scripts of --dir and everything under
// --cgidir stay hidden from --staticdir when reached by a hard link or a
// symlink from elsewhere, and so do editors' backups beside the scripts
// of --dir. A hard link between two plain files is still served.
func TestStaticHidesScriptLinks(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	writeFiles(t, rt.ws, map[string]os.FileMode{
		"env.sh~": 0o644, "env.sh.orig": 0o644, "sub/deeper/env.sh.bak": 0o644,
	}, "# "+sourceMark+"\n")
	for _, l := range [][2]string{
		{"ws/env.sh", "env-copy.sh"},
		{"cgi-bin/hello.cgi", "cgi-copy.txt"},
		{"cgi-bin/plain.cgi", "plain-copy.txt"},
		{"pub/a.txt", "a-again.txt"},
	} {
		if err := os.Link(filepath.Join(rt.www, l[0]), filepath.Join(rt.www, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{{"cgi-bin/hello.cgi", "cgi-link.txt"}, {"ws/env.sh", "ws-link.txt"}} {
		if err := os.Symlink(l[0], filepath.Join(rt.www, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, "--staticdir="+rt.www, "--cgidir="+rt.cgi, "--dir="+rt.ws)
	checkHidden(t, s.addr, []string{
		"/env-copy.sh", "/cgi-copy.txt", "/plain-copy.txt", "/cgi-link.txt", "/ws-link.txt",
		"/ws/env.sh~", "/ws/env.sh.orig", "/ws/sub/deeper/env.sh.bak",
	}, []string{"/a-again.txt", "/pub/a.txt", "/ws/notexec.sh"})
	checkListing(t, s.addr, "/", "a-again.txt", "env-copy.sh", "cgi-copy.txt", "plain-copy.txt", "cgi-link.txt", "ws-link.txt")
	checkListing(t, s.addr, "/ws/", "notexec.sh", "env.sh~", "env.sh.orig")
}

// TestDotSegmentsRefused: a "." or ".." segment anywhere in the path, in
// the script's part or in PATH_INFO, plainly or percent-encoded, and an
// encoded slash, are refused with 400 on every route, and nothing runs.
func TestDotSegmentsRefused(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	dirs := startServer(t, "--staticdir="+rt.www, "--cgidir="+rt.cgi, "--dir="+rt.ws)
	single := startServer(t, "../examples/bash/env.sh")
	tests := []struct {
		name    string
		s       *instance
		target  string
		upgrade bool
		reason  string
	}{
		{"--dir: PATH_INFO climbs", dirs, "/env.sh/../../secret", true, "segment"},
		{"--dir: PATH_INFO dot", dirs, "/env.sh/./x", true, "segment"},
		{"--dir: PATH_INFO ends in dotdot", dirs, "/env.sh/x/..", true, "segment"},
		{"--dir: PATH_INFO encoded dotdot", dirs, "/env.sh/%2e%2e/%2E%2E/secret", true, "segment"},
		{"--dir: PATH_INFO half-encoded dotdot", dirs, "/env.sh/.%2e/x", true, "segment"},
		{"--dir: script path dotdot", dirs, "/sub/../env.sh", true, "segment"},
		{"--dir: encoded slash", dirs, "/sub%2fdeeper%2fenv.sh", true, "%2F"},
		{"--dir: encoded slash and dotdot", dirs, "/env.sh/..%2F..%2Fsecret", true, "%2F"},
		{"--cgidir: PATH_INFO climbs", dirs, "/hello.cgi/../../outside/evil.sh", false, "segment"},
		{"--cgidir: PATH_INFO dot", dirs, "/hello.cgi/./x", false, "segment"},
		{"--cgidir: encoded", dirs, "/hello.cgi/%2e%2e/x", false, "segment"},
		{"--staticdir: dotdot", dirs, "/pub/../hello.txt", false, "segment"},
		{"--staticdir: encoded slash", dirs, "/pub%2Fa.txt", false, "%2F"},
		{"command: dotdot", single, "/a/../b", true, "segment"},
		{"command: encoded dotdot", single, "/a/%2e%2e/b", true, "segment"},
		{"command: encoded slash", single, "/a%2fb", true, "%2F"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rawRequest(t, tc.s.addr, "GET", tc.target, tc.upgrade)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.reason) {
				t.Fatalf("%s: %d %q, want 400 with %q", tc.target, r.status, r.body, tc.reason)
			}
			if strings.Contains(r.body, evilMark) || strings.Contains(r.body, sourceMark) {
				t.Fatalf("%s: the body shows a file: %q", tc.target, r.body)
			}
		})
	}
	for _, s := range []*instance{dirs, single} {
		if log := s.logText(); strings.Contains(log, "msg=connect") || strings.Contains(log, "msg=cgi") {
			t.Errorf("a refused request ran a program:\n%s", log)
		}
		if n := len(children(t, s.pid())); n != 0 {
			t.Errorf("%d programs running after refusals", n)
		}
	}
}

// TestAbsoluteFormRefused: a request target that is not a path (absolute-
// form, as sent to a proxy, or CONNECT's authority-form) is refused with
// 400 on every route: the host would come from the request line, not from
// Host, and a --sameorigin check against it could be steered.
func TestAbsoluteFormRefused(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--sameorigin", "--staticdir="+rt.www, "--cgidir="+rt.cgi, "--dir="+rt.ws)
	tests := []struct {
		name, method, target string
		upgrade              bool
		extra                []string
	}{
		{"upgrade, other host, its origin", "GET", "http://other.example:1234/env.sh", true, []string{"Origin: http://other.example:1234"}},
		{"upgrade, same host", "GET", "http://" + s.addr + "/env.sh", true, nil},
		{"upgrade, https", "GET", "https://" + s.addr + "/env.sh", true, nil},
		{"CGI", "GET", "http://other.example/hello.cgi", false, nil},
		{"static", "GET", "http://" + s.addr + "/hello.txt", false, nil},
		{"authority-form", "CONNECT", s.addr, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := rawSend(s.addr, tc.method, rawHead(tc.method, tc.target, s.addr, tc.upgrade, tc.extra...))
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "request target") {
				t.Fatalf("%s %s: %d %q, want 400 about the request target", tc.method, tc.target, r.status, r.body)
			}
		})
	}
	if log := s.logText(); strings.Contains(log, "msg=connect") || strings.Contains(log, "msg=cgi") {
		t.Errorf("a refused request ran a program:\n%s", log)
	}
	// The same request in origin-form passes.
	if env := readEnv(t, dial(t, s.addr, "/env.sh", nil)); env["HTTP_HOST"] != s.addr {
		t.Fatalf("HTTP_HOST %q, want %q", env["HTTP_HOST"], s.addr)
	}
}

// TestHostRefused: a Host whose port is not a port number, whose name is
// empty or holds characters no host name has, is refused with 400 on every
// route; a valid one reaches the program as SERVER_NAME and SERVER_PORT
// (an IPv6 name without its brackets, with or without a port).
func TestHostRefused(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--cgidir="+rt.cgi, "--dir="+rt.ws)
	for _, host := range []string{
		"a.b:99999", "a.b:abc", "a.b:", "a.b:0", "a.b:080", "a.b:+80", "a.b:80:81",
		"[::1]:0x50", "[::1", "[::1]x", "::1", "[1.2.3.4]", "[fe80::1%25eth0]:80", "[v1.x]",
		":80", "a.b;id", "a$b", "a'b", "a(b)",
	} {
		for _, upgrade := range []bool{true, false} {
			target := "/hello.cgi"
			if upgrade {
				target = "/env.sh"
			}
			r, err := rawSend(s.addr, "GET", rawHead("GET", target, host, upgrade))
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Host") {
				t.Errorf("Host %q, GET %s: %d %q, want 400 about Host", host, target, r.status, r.body)
			}
		}
	}
	if log := s.logText(); strings.Contains(log, "msg=connect") || strings.Contains(log, "msg=cgi") {
		t.Errorf("a refused request ran a program:\n%s", log)
	}

	// A Host without a port means the scheme's (80 here), as in
	// websocketd: the port the client connected to, a proxy's included.
	for _, tc := range []struct{ host, name, port string }{
		{"example.com", "example.com", "80"},
		{"Example.COM:8080", "Example.COM", "8080"},
		{"a-b_c.d.", "a-b_c.d.", "80"},
		{"[::1]", "::1", "80"},
		{"[::1]:8080", "::1", "8080"},
		{"192.0.2.1:65535", "192.0.2.1", "65535"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			nc := rawConn(t, s.addr)
			c, resp, err := wstest.Handshake(nc, tc.host, "/env.sh", nil)
			if err != nil || c == nil {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			env := readEnv(t, c)
			if env["SERVER_NAME"] != tc.name || env["SERVER_PORT"] != tc.port || env["HTTP_HOST"] != tc.host {
				t.Fatalf("SERVER_NAME %q SERVER_PORT %q HTTP_HOST %q, want %q %q %q",
					env["SERVER_NAME"], env["SERVER_PORT"], env["HTTP_HOST"], tc.name, tc.port, tc.host)
			}
		})
	}
}

package e2e

// Routing: --dir, --staticdir, --cgidir and --devconsole.

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envLines parses a CGI body of VAR=value lines.
func envLines(body string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

func TestDirRouting(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--dir="+rt.ws)
	tests := []struct {
		name, target string
		want         map[string]string
	}{
		{"top level", "/env.sh?x=1", map[string]string{
			"SCRIPT_NAME":     "/env.sh",
			"PATH_INFO":       "",
			"PATH_TRANSLATED": "/env.sh", // websocketd's: the request's path
			"QUERY_STRING":    "x=1",
			"REQUEST_URI":     "/env.sh?x=1",
		}},
		{"nested with path info", "/sub/deeper/env.sh/extra/more?q=2&r", map[string]string{
			"SCRIPT_NAME":     "/sub/deeper/env.sh",
			"PATH_INFO":       "/extra/more",
			"PATH_TRANSLATED": "/sub/deeper/env.sh/extra/more",
			"QUERY_STRING":    "q=2&r",
			"REQUEST_URI":     "/sub/deeper/env.sh/extra/more?q=2&r",
		}},
		{"trailing slash", "/env.sh/", map[string]string{
			"SCRIPT_NAME": "/env.sh",
			"PATH_INFO":   "/",
		}},
		{"symlink inside", "/inlink.sh/p", map[string]string{
			"SCRIPT_NAME":     "/inlink.sh",
			"PATH_INFO":       "/p",
			"PATH_TRANSLATED": "/inlink.sh/p",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := readEnv(t, dial(t, s.addr, tc.target, nil))
			for k, v := range tc.want {
				if got, ok := env[k]; !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

// TestDirRefusals: every path that names no runnable script under --dir is
// refused with its status and a reason before any upgrade, and nothing is
// started.
func TestDirRefusals(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--dir="+rt.ws)
	tests := []struct {
		name, target string
		status       int
		reason       string
	}{
		{"missing", "/nope.sh", 404, "no such script"},
		{"root", "/", 404, "empty path segment"},
		{"directory", "/sub", 404, "a directory"},
		{"directory slash", "/sub/deeper/", 404, "empty path segment"},
		{"not executable", "/notexec.sh", 403, "not an executable script"},
		{"dot-file", "/.hidden.sh", 404, "dot-files"},
		{"dotdot", "/../../outside/evil.sh", 400, "segment"},
		{"dotdot after a directory", "/sub/../env.sh", 400, "segment"},
		{"encoded dotdot", "/%2e%2e/%2e%2e/outside/evil.sh", 400, "segment"},
		{"encoded dotdot, upper case", "/sub/%2E%2E/%2E%2E/%2E%2E/outside/evil.sh", 400, "segment"},
		{"encoded slash", "/..%2f..%2foutside%2fevil.sh", 400, "%2F"},
		{"double-encoded dotdot", "/%252e%252e/%252e%252e/outside/evil.sh", 404, "no such script"},
		{"symlink file out", "/evil.sh", 404, "no such script"},
		{"symlink directory out", "/escape/evil.sh", 404, "no such script"},
		{"absolute path", rt.outside + "/evil.sh", 404, "no such script"},
		{"double slash", "/" + rt.outside + "/evil.sh", 404, "empty path segment"},
		{"absolute-form target", "http://" + "example.com/../../outside/evil.sh", 400, "not a path"},
		{"NUL", "/env.sh%00.txt", 400, "control character"},
		{"newline", "/env.sh%0aX", 400, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rawRequest(t, s.addr, "GET", tc.target, true)
			if r.status != tc.status || !strings.Contains(r.body, tc.reason) {
				t.Fatalf("%s: %d %q, want %d with %q", tc.target, r.status, r.body, tc.status, tc.reason)
			}
			if strings.Contains(r.body, evilMark) || strings.Contains(r.body, sourceMark) {
				t.Fatalf("%s: the body shows a file: %q", tc.target, r.body)
			}
		})
	}
	t.Run("plain GET", func(t *testing.T) {
		for target, want := range map[string]int{"/env.sh": 426, "/nope.sh": 404, "/notexec.sh": 403, "/../x": 400} {
			if r := rawRequest(t, s.addr, "GET", target, false); r.status != want {
				t.Errorf("GET %s: %d %q, want %d", target, r.status, r.body, want)
			}
		}
	})
	if strings.Contains(s.logText(), "msg=connect") {
		t.Fatalf("a refused request started a program:\n%s", s.logText())
	}
	if n := len(children(t, s.pid())); n != 0 {
		t.Fatalf("%d programs running after refusals", n)
	}
	// Still serving.
	if env := readEnv(t, dial(t, s.addr, "/env.sh", nil)); env["SCRIPT_NAME"] != "/env.sh" {
		t.Fatalf("after the refusals: SCRIPT_NAME %q", env["SCRIPT_NAME"])
	}
}

// TestDirPicksUpNewScripts: --dir is read at each request.
func TestDirPicksUpNewScripts(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--dir="+rt.ws)
	if r := rawRequest(t, s.addr, "GET", "/later.sh", true); r.status != 404 {
		t.Fatalf("before: %d", r.status)
	}
	if err := os.WriteFile(filepath.Join(rt.ws, "later.sh"), []byte("#!/bin/sh\necho later\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, dial(t, s.addr, "/later.sh", nil)); got != "later" {
		t.Fatalf("got %q", got)
	}
}

// TestStaticAndCGI serves www with --staticdir, its cgi-bin with --cgidir and
// its ws with --dir: files are served, scripts run, and nothing is shown
// that lies outside, starts with a dot, or is a script's source.
func TestStaticAndCGI(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--staticdir="+rt.www, "--cgidir="+rt.cgi, "--dir="+rt.ws)

	t.Run("files", func(t *testing.T) {
		if r := rawRequest(t, s.addr, "GET", "/hello.txt", false); r.status != 200 || r.body != "hello static\n" {
			t.Fatalf("/hello.txt: %d %q", r.status, r.body)
		}
		if r := rawRequest(t, s.addr, "GET", "/pub/", false); r.status != 200 || !strings.Contains(r.body, "pub index") {
			t.Fatalf("/pub/: %d %q", r.status, r.body)
		}
		if r := rawRequest(t, s.addr, "HEAD", "/hello.txt", false); r.status != 200 {
			t.Fatalf("HEAD: %d", r.status)
		}
		if r := rawRequest(t, s.addr, "POST", "/hello.txt", false, "Content-Length: 0"); r.status != 405 {
			t.Fatalf("POST: %d, want 405", r.status)
		}
	})
	t.Run("listing", func(t *testing.T) {
		checkListing(t, s.addr, "/", "hello.txt", ".secret", ".git", "cgi-bin", "link-out")
	})
	refused := []struct{ name, target string }{
		{"dot-file", "/.secret"},
		{"dot-directory", "/.git/config"},
		{"encoded dot-file", "/%2esecret"},
		{"dot-file in a listed directory", "/pub/.b.txt"},
		{"dotdot", "/../outside/evil.sh"},
		{"encoded dotdot", "/%2e%2e/outside/evil.sh"},
		{"double-encoded dotdot", "/%252e%252e/outside/evil.sh"},
		{"symlink out", "/link-out/evil.sh"},
		{"CGI source", "/cgi-bin/hello.cgi"},
		{"CGI directory listing", "/cgi-bin/"},
		{"WebSocket script source", "/ws/env.sh"},
		{"CGI dot-file", "/.hidden.cgi"},
		{"CGI symlink out", "/evil.cgi"},
		{"CGI dotdot", "/../../outside/evil.sh"},
		{"CGI NUL", "/hello.cgi%00"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := rawRequest(t, s.addr, "GET", tc.target, false)
			if r.status < 400 || r.status > 404 {
				t.Fatalf("%s: %d %q, want a 400-404 refusal", tc.target, r.status, r.body)
			}
			for _, mark := range []string{evilMark, sourceMark, "SECRET"} {
				if strings.Contains(r.body, mark) {
					t.Fatalf("%s: %d, the body shows %s: %q", tc.target, r.status, mark, r.body)
				}
			}
		})
	}
	t.Run("--dir listing without the scripts", func(t *testing.T) {
		checkListing(t, s.addr, "/ws/", "notexec.sh", ">env.sh<", "inlink.sh", "evil.sh", ".hidden")
	})
	t.Run("CGI not executable is 403, not source", func(t *testing.T) {
		r := rawRequest(t, s.addr, "GET", "/plain.cgi", false)
		if r.status != 403 || strings.Contains(r.body, sourceMark) {
			t.Fatalf("%d %q", r.status, r.body)
		}
	})
	t.Run("CGI runs", func(t *testing.T) {
		r := rawRequest(t, s.addr, "GET", "/hello.cgi/extra/path?a=b", false, "X-Ok: yes", "X_Sneaky: no")
		if r.status != 200 || strings.Contains(r.body, sourceMark) {
			t.Fatalf("%d %q", r.status, r.body)
		}
		env := envLines(r.body)
		want := map[string]string{
			"SCRIPT_NAME":       "/hello.cgi",
			"PATH_INFO":         "/extra/path",
			"QUERY_STRING":      "a=b",
			"REQUEST_METHOD":    "GET",
			"GATEWAY_INTERFACE": "CGI/1.1",
			"HTTP_X_OK":         "yes",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s = %q, want %q", k, env[k], v)
			}
		}
		if !strings.HasPrefix(env["SERVER_SOFTWARE"], "wsexec/") {
			t.Errorf("SERVER_SOFTWARE = %q", env["SERVER_SOFTWARE"])
		}
		if v, ok := env["HTTP_X_SNEAKY"]; ok {
			t.Errorf("HTTP_X_SNEAKY = %q: a header with '_' reached the script", v)
		}
		waitFor(t, 5*time.Second, "the script's stderr in the log", func() bool {
			return strings.Contains(s.logText(), "cgi-stderr-line")
		})
	})
	t.Run("WebSocket still routes by --dir", func(t *testing.T) {
		if env := readEnv(t, dial(t, s.addr, "/env.sh", nil)); env["SCRIPT_NAME"] != "/env.sh" {
			t.Fatalf("SCRIPT_NAME %q", env["SCRIPT_NAME"])
		}
		if r := rawRequest(t, s.addr, "GET", "/hello.txt", true); r.status != 404 {
			t.Fatalf("upgrade to a static file: %d %q", r.status, r.body)
		}
	})
}

// TestStaticOnly: with --staticdir and no COMMAND (websocketd allows it)
// files are served and an upgrade is a 404, not a 101.
func TestStaticOnly(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--staticdir="+rt.www)
	if r := rawRequest(t, s.addr, "GET", "/hello.txt", false); r.status != 200 {
		t.Fatalf("/hello.txt: %d", r.status)
	}
	if r := rawRequest(t, s.addr, "GET", "/hello.txt", true); r.status != 404 || !strings.Contains(r.body, "no WebSocket endpoint") {
		t.Fatalf("upgrade: %d %q", r.status, r.body)
	}
	// Without --cgidir and --dir, scripts are files like any other.
	if r := rawRequest(t, s.addr, "GET", "/ws/env.sh", false); r.status != 200 {
		t.Fatalf("/ws/env.sh: %d", r.status)
	}
}

// TestStaticHidesCommand: the one command is not served as source when it
// lies in --staticdir; other executables there are plain files.
func TestStaticHidesCommand(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--staticdir="+rt.www, filepath.Join(rt.ws, "inlink.sh"))
	for _, target := range []string{"/ws/env.sh", "/ws/inlink.sh"} { // the command, by its real path and its link
		if r := rawRequest(t, s.addr, "GET", target, false); r.status != 404 || strings.Contains(r.body, sourceMark) {
			t.Errorf("%s: %d %q, want 404", target, r.status, r.body)
		}
	}
	if r := rawRequest(t, s.addr, "GET", "/ws/sub/deeper/env.sh", false); r.status != 200 {
		t.Errorf("another executable: %d, want 200", r.status)
	}
	if env := readEnv(t, dial(t, s.addr, "/any/path", nil)); env["PATH_INFO"] != "/any/path" {
		t.Fatalf("PATH_INFO %q", env["PATH_INFO"])
	}
}

func TestDevConsole(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--devconsole", "cat")
	resp, err := http.Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %s, type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !bytes.Contains(body, []byte("WebSocket")) {
		t.Fatalf("page does not look like the console: %.200s", body)
	}
}

// TestDevConsoleWithDir: the console is served at every --dir endpoint's
// URL, the same bytes whatever the request holds, and only there; a
// directory's URL gets the listing of its scripts (once it ends in a
// slash), with what the request holds escaped.
func TestDevConsoleWithDir(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile("../server/devconsole.html")
	if err != nil {
		t.Fatal(err)
	}
	rt := newRouteTree(t)
	s := startServer(t, "--devconsole", "--dir="+rt.ws)
	for _, target := range []string{
		"/env.sh",
		"/sub/deeper/env.sh/x?y=1",
		`/env.sh/"><script>alert(1)</script>?q=<img%20src=x%20onerror=alert(1)>`,
	} {
		r := rawRequest(t, s.addr, "GET", target, false, `X-Evil: "><script>alert(2)</script>`)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %q", target, r.status, r.header.Get("Content-Type"))
		}
		if r.body != string(page) {
			t.Fatalf("%s: the page is not server/devconsole.html as is (%d bytes, want %d)", target, len(r.body), len(page))
		}
		if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: headers %v", target, r.header)
		}
	}
	for target, want := range map[string]int{"/nope.sh": 404, "/notexec.sh": 403, "/../outside/evil.sh": 400, "/escape/": 404, "/.hidden/": 404} {
		if r := rawRequest(t, s.addr, "GET", target, false); r.status != want || strings.Contains(r.body, "<html") {
			t.Errorf("%s: %d %.60q, want %d", target, r.status, r.body, want)
		}
	}
	if r := rawRequest(t, s.addr, "GET", "/sub", false); r.status != 301 || r.header.Get("Location") != "/sub/" {
		t.Errorf("/sub: %d, Location %q; want a redirect to /sub/", r.status, r.header.Get("Location"))
	}
	if r := rawRequest(t, s.addr, "GET", "/", false); r.status != 200 || !strings.Contains(r.body, `href="/env.sh"`) ||
		!strings.Contains(r.body, `href="/sub/"`) || strings.Contains(r.body, "hidden") || strings.Contains(r.body, "notexec") || strings.Contains(r.body, "evil") {
		t.Errorf("the listing of /: %d %q", r.status, r.body)
	}
	if err := os.Mkdir(filepath.Join(rt.ws, `"><script>alert(3)<`), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := rawRequest(t, s.addr, "GET", "/", false); strings.Contains(r.body, "<script>") || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("a directory's name reaches the listing unescaped, or without a CSP: %q", r.body)
	}
	// The console's WebSocket: same URL, upgraded.
	if env := readEnv(t, dial(t, s.addr, "/env.sh", nil)); env["SCRIPT_NAME"] != "/env.sh" {
		t.Fatalf("SCRIPT_NAME %q", env["SCRIPT_NAME"])
	}
}

func TestRouteUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"dir and command", []string{"--dir=" + dir, "cat"}, "--dir with COMMAND: both given"},
		{"dir missing", []string{"--dir=" + missing}, "--dir"},
		{"dir is a file", []string{"--dir=" + file}, "not a directory"},
		{"dir empty", []string{"--dir="}, "--dir"},
		{"staticdir missing", []string{"--staticdir=" + missing, "cat"}, "--staticdir"},
		{"cgidir is a file", []string{"--cgidir=" + file, "cat"}, "--cgidir"},
		{"devconsole and staticdir", []string{"--devconsole", "--staticdir=" + dir, "cat"}, "--devconsole"},
		{"devconsole and cgidir", []string{"--devconsole", "--cgidir=" + dir, "--dir=" + dir}, "--devconsole"},
		{"neither command nor dir", []string{"--devconsole"}, "COMMAND: missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append([]string{"--port=0", "--address=127.0.0.1"}, tc.args...)...)
		})
	}
}

// TestCGIMaxForks: CGI scripts count against --maxforks.
func TestCGIMaxForks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	// Waits (at most 20 s) for the gate file, then answers.
	script := "#!/bin/sh\ni=0\nwhile [ ! -e " + gate + " ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n" +
		"printf 'Content-Type: text/plain\\r\\n\\r\\nslow\\n'\n"
	if err := os.WriteFile(filepath.Join(dir, "slow.cgi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--maxforks=1", "--cgidir="+dir)
	type result struct {
		r   rawResponse
		err error
	}
	first := make(chan result, 1)
	go func() {
		r, err := rawDo(s.addr, "GET", "/slow.cgi", false)
		first <- result{r, err}
	}()
	waitFor(t, 10*time.Second, "the first script to start", func() bool {
		return strings.Contains(s.logText(), "msg=cgi")
	})
	if r := rawRequest(t, s.addr, "GET", "/slow.cgi", false); r.status != http.StatusTooManyRequests {
		t.Errorf("second request: %d %q, want 429", r.status, r.body)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := <-first; res.err != nil || res.r.status != 200 || res.r.body != "slow\n" {
		t.Fatalf("first request: %d %q %v", res.r.status, res.r.body, res.err)
	}
}

// TestStaticSymlinksInside: a symlink in --staticdir to a file or a
// directory inside it is served, whether its target is relative, absolute,
// or a relative path that steps out and back in (websocketd 0.5 serves
// them too); a link out of the directory, or to a dot-file, is refused
// and left out of the listing.
func TestStaticSymlinksInside(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	for _, l := range [][2]string{
		{"hello.txt", "rel-in.txt"},
		{filepath.Join(rt.www, "hello.txt"), "abs-in.txt"},
		{"../www/hello.txt", "via-out.txt"},
		{"pub", "pubdir"},
		{filepath.Join(rt.www, "pub"), "abs-pubdir"},
		{".secret", "to-dot.txt"},
		{filepath.Join(rt.outside, "evil.sh"), "abs-out.sh"},
	} {
		if err := os.Symlink(l[0], filepath.Join(rt.www, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, "--staticdir="+rt.www)
	for target, want := range map[string]string{
		"/rel-in.txt": "hello static\n", "/abs-in.txt": "hello static\n", "/via-out.txt": "hello static\n",
		"/pubdir/a.txt": "a\n", "/abs-pubdir/a.txt": "a\n",
	} {
		if r := rawRequest(t, s.addr, "GET", target, false); r.status != 200 || r.body != want {
			t.Errorf("%s: %d %q, want 200 %q", target, r.status, r.body, want)
		}
	}
	for _, target := range []string{"/to-dot.txt", "/abs-out.sh", "/link-out/evil.sh"} {
		if r := rawRequest(t, s.addr, "GET", target, false); r.status != 404 || strings.Contains(r.body, "SECRET") || strings.Contains(r.body, evilMark) {
			t.Errorf("%s: %d %q, want 404", target, r.status, r.body)
		}
	}
	checkListing(t, s.addr, "/", "abs-in.txt", "to-dot.txt", "abs-out.sh", "link-out")
	checkListing(t, s.addr, "/", "via-out.txt")
}

// TestCGIMissingScriptWithCommand: with a COMMAND and --cgidir, a plain
// request for a script that is not there is a missing page (404, as in
// websocketd), not 426: every path is the COMMAND's endpoint, but plain
// HTTP is the CGI site's. Upgrades at any path still reach the COMMAND.
func TestCGIMissingScriptWithCommand(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	s := startServer(t, "--cgidir="+rt.cgi, "cat")
	for target, want := range map[string]int{"/hello.cgi": 200, "/nope.cgi": 404, "/": 404} {
		if r := rawRequest(t, s.addr, "GET", target, false); r.status != want {
			t.Errorf("GET %s: %d %q, want %d", target, r.status, r.body, want)
		}
	}
	echo(t, dial(t, s.addr, "/nope.cgi", nil), "the command at any path")
	// Without --cgidir the endpoint's plain URL says what it is for.
	if r := rawRequest(t, startServer(t, "cat").addr, "GET", "/nope.cgi", false); r.status != 426 {
		t.Errorf("without --cgidir: %d, want 426", r.status)
	}
}

package e2e

// Who may connect: --basicauth, --auth-command, and REMOTE_USER and
// AUTH_TYPE from the client certificate.

import (
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// writePasswd writes an htpasswd file of bcrypt entries, user then
// password pairs, with the $2y$ prefix htpasswd -B writes.
func writePasswd(t *testing.T, file string, userPass ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# made by the test\n")
	for i := 0; i+1 < len(userPass); i += 2 {
		h, err := bcrypt.GenerateFromPassword([]byte(userPass[i+1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(userPass[i] + ":" + strings.Replace(string(h), "$2a$", "$2y$", 1) + "\n")
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func basic(user, pass string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
}

// TestBasicAuth: with --basicauth every route asks for a password (the
// WebSocket, the dev console, static files, CGI); the program and a CGI
// script learn who it was (AUTH_TYPE, REMOTE_USER) but not the password;
// the log names the user refused, never the password.
func TestBasicAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "htpasswd")
	writePasswd(t, file, "alice", "s3cret pass", "bob", "hunter2")

	t.Run("WebSocket and console", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "--basicauth="+file, "--basicauth-realm=Test realm", "--devconsole", "../examples/bash/env.sh")
		for _, tc := range []struct {
			name string
			hdr  http.Header
		}{{"no credentials", nil}, {"wrong password", basic("alice", "guess-pw")}, {"unknown user", basic("mallory", "s3cret pass")}} {
			c, resp, err := dialWS(s.addr, "/", tc.hdr)
			if c != nil || err != nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: %v %v, want 401", tc.name, resp, err)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != `Basic realm="Test realm", charset="UTF-8"` {
				t.Errorf("%s: WWW-Authenticate %q", tc.name, got)
			}
		}
		env := readEnv(t, dial(t, s.addr, "/", basic("alice", "s3cret pass")))
		if env["AUTH_TYPE"] != "Basic" || env["REMOTE_USER"] != "alice" {
			t.Errorf("AUTH_TYPE %q, REMOTE_USER %q; want Basic, alice", env["AUTH_TYPE"], env["REMOTE_USER"])
		}
		if v, ok := env["HTTP_AUTHORIZATION"]; ok {
			t.Errorf("the program saw the password: HTTP_AUTHORIZATION=%q", v)
		}
		if r := rawRequest(t, s.addr, "GET", "/", false); r.status != http.StatusUnauthorized {
			t.Errorf("the console without a password: %d", r.status)
		}
		auth := "Authorization: " + basic("bob", "hunter2").Get("Authorization")
		if r := rawRequest(t, s.addr, "GET", "/", false, auth); r.status != http.StatusOK || !strings.Contains(r.body, "wsexecConsole") {
			t.Errorf("the console with a password: %d", r.status)
		}
		waitFor(t, 5*time.Second, "the refusals in the log", func() bool { return strings.Count(s.logText(), "msg=refused") >= 4 })
		log := s.logText()
		if !strings.Contains(log, `user \"alice\"`) || !strings.Contains(log, `user \"mallory\"`) || !strings.Contains(log, "user=alice") {
			t.Errorf("the log does not name the users refused and admitted:\n%s", log)
		}
		if strings.Contains(log, "guess-pw") || strings.Contains(log, "s3cret") {
			t.Errorf("a password is in the log:\n%s", log)
		}
	})

	t.Run("static files and CGI", func(t *testing.T) {
		t.Parallel()
		www, cgi := filepath.Join(dir, "www"), filepath.Join(dir, "cgi")
		for _, d := range []string{www, cgi} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(www, "page.html"), []byte("a page\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"type=$AUTH_TYPE user=$REMOTE_USER authz=$HTTP_AUTHORIZATION\"\n"
		if err := os.WriteFile(filepath.Join(cgi, "who.cgi"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, "--basicauth="+file, "--staticdir="+www, "--cgidir="+cgi)
		auth := "Authorization: " + basic("bob", "hunter2").Get("Authorization")
		for _, path := range []string{"/page.html", "/who.cgi"} {
			if r := rawRequest(t, s.addr, "GET", path, false); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s without a password: %d %v", path, r.status, r.header)
			}
		}
		if r := rawRequest(t, s.addr, "GET", "/page.html", false, auth); r.status != http.StatusOK || r.body != "a page\n" {
			t.Errorf("a static file with a password: %d %q", r.status, r.body)
		}
		if r := rawRequest(t, s.addr, "GET", "/who.cgi", false, auth); r.status != http.StatusOK || r.body != "type=Basic user=bob authz=\n" {
			t.Errorf("CGI with a password: %d %q", r.status, r.body)
		}
	})
}

// TestSIGHUPReloadsPasswords: SIGHUP reads the password file again: a new
// user is let in, a removed one is not, connections already open carry
// on; a broken file is logged, and the users before it stay.
func TestSIGHUPReloadsPasswords(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	writePasswd(t, file, "alice", "one")
	s := startServer(t, "--basicauth="+file, "cat")
	old := dial(t, s.addr, "/", basic("alice", "one"))
	echo(t, old, "before")

	writePasswd(t, file, "bob", "two")
	hangup(t, s, "msg=reloaded")
	if resp, err := upgrade(s.addr, basic("alice", "one")); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("alice after she was removed: %v %v, want 401", resp, err)
	}
	accepted(t, s.addr, basic("bob", "two"))
	echo(t, old, "still open")

	if err := os.WriteFile(file, []byte("bob:$apr1$abc$def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hangup(t, s, `msg="reload failed"`)
	if log := s.logText(); !strings.Contains(log, "not a bcrypt hash") {
		t.Fatalf("the reload error does not say what is wrong:\n%s", log)
	}
	accepted(t, s.addr, basic("bob", "two"))
}

// TestAuthCommand drives examples/bash/auth-token.sh: a token in the query
// string or a cookie admits, and names the user; no token is 403, a bad
// Authorization header 401 with the script's challenge, and the script's
// reason is logged.
func TestAuthCommand(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--auth-command=../examples/bash/auth-token.sh", "../examples/bash/env.sh")
	env := readEnv(t, dial(t, s.addr, "/?a=1&token=letmein", nil))
	if env["REMOTE_USER"] != "query-user" || env["AUTH_TYPE"] != "Token" || env["QUERY_STRING"] != "a=1&token=letmein" {
		t.Errorf("by query: REMOTE_USER %q, AUTH_TYPE %q, QUERY_STRING %q", env["REMOTE_USER"], env["AUTH_TYPE"], env["QUERY_STRING"])
	}
	env = readEnv(t, dial(t, s.addr, "/", http.Header{"Cookie": {"theme=dark; session=letmein"}}))
	if env["REMOTE_USER"] != "cookie-user" || env["AUTH_TYPE"] != "Cookie" || env["AUTH_ROLE"] != "admin" {
		t.Errorf("by cookie: REMOTE_USER %q, AUTH_TYPE %q, AUTH_ROLE %q", env["REMOTE_USER"], env["AUTH_TYPE"], env["AUTH_ROLE"])
	}

	resp, err := upgrade(s.addr, http.Header{"Cookie": {"session=wrong"}})
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no token: %v %v, want 403", resp, err)
	}
	resp, err = upgrade(s.addr, http.Header{"Authorization": {"Bearer nope"}})
	if err != nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="wsexec"` {
		t.Fatalf("bad bearer: %v %v, want 401 with the script's challenge", resp, err)
	}
	for _, want := range []string{`status=403 reason="not allowed" detail="exit status 1: no token from 127.0.0.1"`,
		`status=401 reason="authentication required" detail="exit status 1: a bad Authorization header from 127.0.0.1"`, "user=query-user"} {
		waitFor(t, 5*time.Second, "a log line with "+want, func() bool { return strings.Contains(s.logText(), want) })
	}
}

// TestAuthCommandOrder: the auth command runs only for requests every
// earlier gate let through (origin, path, basic auth), it sees who basic
// auth admitted, and one too slow is killed and refused with 503.
func TestAuthCommandOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	file := filepath.Join(dir, "htpasswd")
	writePasswd(t, file, "alice", "pw")
	ws := filepath.Join(dir, "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "env.sh"), []byte("#!/bin/sh\nenv\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// It logs each run, admits alice as "alice-checked", and sleeps when
	// asked to.
	auth := filepath.Join(dir, "auth.sh")
	script := "#!/bin/sh\necho \"$REQUEST_URI\" >>" + runs + "\n" +
		"case \"$QUERY_STRING\" in slow) sleep 10;; esac\n" +
		"[ \"$REMOTE_USER\" = alice ] && [ \"$AUTH_TYPE\" = Basic ] && echo REMOTE_USER=alice-checked\n"
	if err := os.WriteFile(auth, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--auth-command="+auth, "--auth-timeoutms=300", "--basicauth="+file,
		"--origin=http://good.example", "--dir="+ws)
	refusals := []struct {
		name   string
		target string
		hdr    http.Header
		status int
	}{
		{"no password", "/env.sh?nopw", nil, 401},
		{"no such script", "/none.sh?nopath", basic("alice", "pw"), 404},
		{"another origin", "/env.sh?origin", http.Header{"Origin": {"http://evil.example"}, "Authorization": basic("alice", "pw")["Authorization"]}, 403},
		{"too slow", "/env.sh?slow", basic("alice", "pw"), 503},
	}
	for _, tc := range refusals {
		c, resp, err := dialWS(s.addr, tc.target, tc.hdr)
		if c != nil || err != nil || resp.StatusCode != tc.status {
			t.Fatalf("%s: %v %v, want %d", tc.name, resp, err, tc.status)
		}
	}
	env := readEnv(t, dial(t, s.addr, "/env.sh?ok", basic("alice", "pw")))
	if env["REMOTE_USER"] != "alice-checked" || env["AUTH_TYPE"] != "Basic" {
		t.Errorf("REMOTE_USER %q, AUTH_TYPE %q: want the auth command's user over basic auth's type", env["REMOTE_USER"], env["AUTH_TYPE"])
	}
	b, err := os.ReadFile(runs)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "/env.sh?slow /env.sh?ok" {
		t.Fatalf("the auth command ran for %q; want only the requests past the other gates", got)
	}
	waitFor(t, 5*time.Second, "a 503 for the slow command in the log", func() bool {
		return strings.Contains(s.logText(), `status=503 reason="the authentication took too long"`)
	})
}

// TestClientCertificateIdentity: with --sslca the certificate's subject is
// REMOTE_USER, and AUTH_TYPE says so.
func TestClientCertificateIdentity(t *testing.T) {
	t.Parallel()
	p := &pki{t: t, dir: t.TempDir()}
	ca := p.ca("server-ca")
	cert, key, _ := p.leaf(ca, "server", true)
	clientCA := p.ca("client-ca")
	_, _, alice := p.leaf(clientCA, "alice", false)
	s := launch(t, "--port=0", "--address=127.0.0.1", "--ssl", "--sslcert="+cert, "--sslkey="+key,
		"--sslca="+clientCA.file, "../examples/bash/env.sh")
	c, _, err := dialTLS(s.addr, "/", &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{alice}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := readEnv(t, c)
	if env["REMOTE_USER"] != "CN=alice" || env["AUTH_TYPE"] != "CLIENT_CERT" || env["SSL_CLIENT_S_DN"] != "CN=alice" {
		t.Fatalf("REMOTE_USER %q, AUTH_TYPE %q, SSL_CLIENT_S_DN %q", env["REMOTE_USER"], env["AUTH_TYPE"], env["SSL_CLIENT_S_DN"])
	}
}

func TestAuthUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	md5 := filepath.Join(dir, "md5")
	if err := os.WriteFile(md5, []byte("carol:$apr1$abcdefgh$0123456789abcdefghijkl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--basicauth=" + filepath.Join(dir, "none")}, "--basicauth: " + filepath.Join(dir, "none") + ": no such file"},
		{"not bcrypt", []string{"--basicauth=" + md5}, `line 1: user "carol": not a bcrypt hash`},
		{"realm alone", []string{"--basicauth-realm=x"}, "--basicauth-realm"},
		{"bad realm", []string{"--basicauth=" + md5, `--basicauth-realm=a"b`}, "--basicauth"},
		{"missing auth command", []string{"--auth-command=/no/such/auth"}, "--auth-command"},
		{"negative auth-maxforks", []string{"--auth-maxforks=-1"}, "--auth-maxforks -1"},
		{"zero timeout", []string{"--auth-timeoutms=0"}, "--auth-timeoutms 0"},
		{"bad proxy", []string{"--trustedproxies=10.0.0.0/40"}, `--trustedproxies "10.0.0.0/40"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append(append([]string{"--port=0", "--address=127.0.0.1"}, tc.args...), "cat")...)
		})
	}
}

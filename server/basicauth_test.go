//go:build !tiny

package server

import (
	"errors"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// bcryptLine returns an htpasswd line for user and pass, with the $2y$
// prefix htpasswd -B writes (x/crypto/bcrypt writes $2a$; the two are the
// same algorithm).
func bcryptLine(t testing.TB, user, pass string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return user + ":" + strings.Replace(string(h), "$2a$", "$2y$", 1)
}

func TestParsePasswd(t *testing.T) {
	t.Parallel()
	alice, bob := bcryptLine(t, "alice", "secret"), bcryptLine(t, "bob", "hunter2")
	good := "# users\n\n" + alice + "\r\n  \n" + bob // CRLF, blanks, no final newline
	p, err := parsePasswd([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.hashes) != 2 || !p.verify("alice", "secret") || !p.verify("bob", "hunter2") {
		t.Fatalf("users %v: alice and bob do not both verify", p.hashes)
	}
	bad := []struct{ name, file, want string }{
		{"empty", "", "no user"},
		{"comments only", "# nobody\n", "no user"},
		{"no colon", "alice\n", "line 1: not user:hash"},
		{"no user", ":" + strings.TrimPrefix(alice, "alice:"), "line 1: not user:hash"},
		{"twice", alice + "\n" + alice + "\n", `line 2: user "alice" a second time`},
		{"md5", "carol:$apr1$abcdefgh$0123456789abcdefghijkl\n", `line 1: user "carol": not a bcrypt hash`},
		{"sha1", "dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "not a bcrypt hash"},
		{"plain", "erin:password\n", "not a bcrypt hash"},
		{"control character", "a\x01b:" + strings.TrimPrefix(alice, "alice:") + "\n", "control character"},
	}
	for _, tc := range bad {
		if _, err := parsePasswd([]byte(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

func basicRequest(auth ...string) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, a := range auth {
		h.Add("Authorization", a)
	}
	return h
}

// TestBasicAuthCheck: the right credentials name their user; anything else
// is a 401 with the challenge, whose logged detail names the user but
// never the password.
func TestBasicAuthCheck(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, file, []byte(bcryptLine(t, "alice", "sécret:colon")+"\n"))
	b, err := newBasicAuth(file, "")
	if err != nil {
		t.Fatal(err)
	}
	basic := func(user, pass string) string {
		r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	if user, err := b.check(basicRequest(basic("alice", "sécret:colon"))); err != nil || user != "alice" {
		t.Fatalf("right password: %q %v", user, err)
	}
	if user, err := b.check(basicRequest("bAsIc " + strings.TrimPrefix(basic("alice", "sécret:colon"), "Basic "))); err != nil || user != "alice" {
		t.Fatalf("scheme in another case: %q %v", user, err)
	}
	refused := []struct {
		name   string
		auth   []string
		detail string
	}{
		{"none", nil, "no credentials"},
		{"wrong password", []string{basic("alice", "guess")}, `user "alice"`},
		{"unknown user", []string{basic("mallory", "sécret:colon")}, `user "mallory"`},
		{"not basic", []string{"Bearer abc"}, "no credentials"},
		{"not base64", []string{"Basic !!!"}, "no credentials"},
		{"no colon", []string{"Basic YWxpY2U="}, "no credentials"},
		{"two headers", []string{basic("alice", "sécret:colon"), basic("alice", "sécret:colon")}, "no credentials"},
	}
	for _, tc := range refused {
		_, err := b.check(basicRequest(tc.auth...))
		var ae *authError
		if !errors.As(err, &ae) || ae.status != http.StatusUnauthorized {
			t.Errorf("%s: %v, want a 401", tc.name, err)
			continue
		}
		if got := ae.header.Get("WWW-Authenticate"); got != `Basic realm="wsexec", charset="UTF-8"` {
			t.Errorf("%s: challenge %q", tc.name, got)
		}
		if !strings.Contains(ae.detail, tc.detail) || strings.Contains(ae.Error(), "guess") || strings.Contains(ae.Error(), "sécret") {
			t.Errorf("%s: detail %q: want it to say %q, and no password", tc.name, ae.detail, tc.detail)
		}
	}
}

// TestBasicAuthUnknownUserTakesAsLong: a name that is not in the file
// costs a bcrypt comparison like a known name with a wrong password, so
// timing does not tell which names exist. The hashes here cost 2^12
// rounds, far above the scheduler's noise.
func TestBasicAuthUnknownUserTakesAsLong(t *testing.T) {
	t.Parallel()
	h, err := bcrypt.GenerateFromPassword([]byte("right"), 12)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePasswd([]byte("alice:" + string(h) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	timed := func(user string) time.Duration {
		start := time.Now()
		if p.verify(user, "wrong") {
			t.Fatalf("%s verified with a wrong password", user)
		}
		return time.Since(start)
	}
	known, unknown := timed("alice"), timed("nobody")
	if unknown < known/2 {
		t.Fatalf("an unknown user took %v, a known one %v: the difference tells names apart", unknown, known)
	}
}

// TestBasicAuthReload: Reload takes a new file (new users in, old ones
// out, and what was cached forgotten); a broken file is an error and the
// users before it stay.
func TestBasicAuthReload(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, file, []byte(bcryptLine(t, "alice", "one")+"\n"))
	s, err := New(Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"}, BasicAuthFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(user, pass string) bool { return s.basic.users.Load().verify(user, pass) }
	if !ok("alice", "one") {
		t.Fatal("alice does not verify")
	}
	writeFile(t, file, []byte(bcryptLine(t, "bob", "two")+"\n"))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if ok("alice", "one") || !ok("bob", "two") {
		t.Fatal("after a reload, alice (cached before) still verifies, or bob does not")
	}
	writeFile(t, file, []byte("bob:$apr1$x$y\n"))
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("a broken file: %v, want an error naming it", err)
	}
	if !ok("bob", "two") {
		t.Fatal("after a failed reload, the users before it are gone")
	}
}

func TestBasicAuthConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, file, []byte(bcryptLine(t, "alice", "one")+"\n"))
	base := Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"}}
	tests := []struct {
		name   string
		file   string
		realm  string
		fields string
	}{
		{"missing file", filepath.Join(t.TempDir(), "none"), "", "BasicAuthFile"},
		{"realm with a quote", file, `a"b`, "BasicAuthRealm"},
		{"realm alone", "", "x", "BasicAuthRealm"},
	}
	for _, tc := range tests {
		cfg := base
		cfg.BasicAuthFile, cfg.BasicAuthRealm = tc.file, tc.realm
		_, err := New(cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || strings.Join(ce.Fields, ",") != tc.fields {
			t.Errorf("%s: %v, want a ConfigError on %s", tc.name, err, tc.fields)
		}
	}
}

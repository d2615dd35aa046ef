//go:build !tiny

package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// maxPasswdFile bounds the htpasswd file read: a file larger than this is
// a mistake (a wrong path), not a list of users.
const maxPasswdFile = 16 << 20

// basicAuth is --basicauth: the users of an htpasswd file, each with a
// bcrypt hash (htpasswd -B). New loads the file and Reload loads it again;
// a file that does not load leaves the users before it in place.
type basicAuth struct {
	file      string
	challenge string // the WWW-Authenticate value of a 401
	users     atomic.Pointer[passwd]
}

// passwd is one load of the file. ok caches credentials that have passed
// bcrypt, so that a browser's every request does not cost a bcrypt
// comparison (tens of milliseconds by design): it holds a keyed hash of
// user and password, never the password, and goes with the load, so a
// reload forgets it.
type passwd struct {
	hashes map[string][]byte
	decoy  []byte // compared against for an unknown user (see check)
	key    [32]byte

	mu sync.Mutex
	ok map[[sha256.Size]byte]struct{}
}

// maxCached bounds passwd.ok; when it is full it starts again empty.
const maxCached = 1024

func newBasicAuth(file, realm string) (*basicAuth, error) {
	if realm == "" {
		realm = DefaultRealm
	}
	if !quotableRealm(realm) {
		return nil, &ConfigError{Fields: []string{"BasicAuthRealm"}, Reason: fmt.Sprintf("%q: printable ASCII without '\"' or '\\' only", realm)}
	}
	b := &basicAuth{file: file, challenge: `Basic realm="` + realm + `", charset="UTF-8"`}
	if err := b.load(); err != nil {
		return nil, &ConfigError{Fields: []string{"BasicAuthFile"}, Reason: err.Error()}
	}
	return b, nil
}

// quotableRealm reports whether realm can go in a quoted-string as it is.
func quotableRealm(realm string) bool {
	for i := 0; i < len(realm); i++ {
		if c := realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// load reads the file; its errors name the file.
func (b *basicAuth) load() error {
	f, err := os.Open(b.file)
	if err != nil {
		return fmt.Errorf("%s: %w", b.file, pathErr(err))
	}
	defer f.Close()
	data, err := readLimited(f, maxPasswdFile)
	if err != nil {
		return fmt.Errorf("%s: %w", b.file, err)
	}
	p, err := parsePasswd(data)
	if err != nil {
		return fmt.Errorf("%s: %w", b.file, err)
	}
	b.users.Store(p)
	return nil
}

// pathErr drops the operation and path from a file error, whose message
// names the path already.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readLimited reads f whole, or fails if it holds more than limit bytes.
func readLimited(f *os.File, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	return data, err
}

// parsePasswd reads htpasswd lines, "user:hash". Blank lines and lines
// starting with '#' are skipped. Only bcrypt hashes ($2y$, $2a$, $2b$:
// htpasswd -B) are taken: the others htpasswd writes (MD5 $apr1$, SHA-1,
// crypt) are fast to guess or unsalted, and refusing them says so at
// start-up rather than lock a user out without a word. A file without a
// user is an error too: it would refuse everyone.
func parsePasswd(data []byte) (*passwd, error) {
	p := &passwd{hashes: map[string][]byte{}, ok: map[[sha256.Size]byte]struct{}{}}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		user, hash, ok := bytes.Cut(line, []byte(":"))
		switch {
		case !ok || len(user) == 0:
			return nil, fmt.Errorf("line %d: not user:hash", n)
		case hasControl(string(user)):
			return nil, fmt.Errorf("line %d: a control character in the user name", n)
		case p.hashes[string(user)] != nil:
			return nil, fmt.Errorf("line %d: user %q a second time", n, user)
		}
		if _, err := bcrypt.Cost(hash); err != nil {
			return nil, fmt.Errorf("line %d: user %q: not a bcrypt hash (make it with htpasswd -B)", n, user)
		}
		p.hashes[string(user)] = bytes.Clone(hash)
		if p.decoy == nil {
			p.decoy = p.hashes[string(user)]
		}
	}
	if len(p.hashes) == 0 {
		return nil, errors.New("no user in it")
	}
	if _, err := rand.Read(p.key[:]); err != nil {
		return nil, err
	}
	return p, nil
}

// check returns the user whose credentials the headers h carry, or a 401 refusal
// with the challenge. The reason names the user, never the password.
//
// An unknown user costs a bcrypt comparison too (against another user's
// hash, its result ignored), so that the time taken does not tell which
// users exist. bcrypt's comparison itself is in constant time.
func (b *basicAuth) check(h textproto.MIMEHeader) (string, error) {
	user, pass, ok := basicCredentials(h)
	if !ok {
		return "", b.refusal("no credentials (Authorization: Basic)")
	}
	p := b.users.Load()
	if p.verify(user, pass) {
		return user, nil
	}
	return "", b.refusal("wrong user name or password for user " + quote(user))
}

// basicCredentials is net/http's Request.BasicAuth, with one
// Authorization header only: of two, a proxy and wsexec might each read
// another.
func basicCredentials(h textproto.MIMEHeader) (user, pass string, ok bool) {
	if len(h.Values("Authorization")) != 1 {
		return "", "", false
	}
	v := h.Get("Authorization")
	const prefix = "Basic "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok
}

func (b *basicAuth) refusal(reason string) error {
	return &authError{
		status: 401,
		reason: "authentication required",
		detail: reason,
		header: textproto.MIMEHeader{"Www-Authenticate": {b.challenge}},
	}
}

// verify reports whether pass is user's password.
func (p *passwd) verify(user, pass string) bool {
	mac := hmac.New(sha256.New, p.key[:])
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write([]byte(pass))
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	p.mu.Lock()
	_, cached := p.ok[sum]
	p.mu.Unlock()
	if cached {
		return true
	}
	hash, known := p.hashes[user]
	if !known {
		bcrypt.CompareHashAndPassword(p.decoy, []byte(pass))
		return false
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	p.mu.Lock()
	if len(p.ok) >= maxCached {
		clear(p.ok)
	}
	p.ok[sum] = struct{}{}
	p.mu.Unlock()
	return true
}

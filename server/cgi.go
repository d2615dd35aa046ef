//go:build !tiny

package server

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cgi"

	"github.com/wsexec/wsexec/handshake"
)

// serveCGI runs the CGI/1.1 script (RFC 3875) that the request's path names
// under --cgidir, with the standard library's net/http/cgi, and reports
// whether it answered. A path that names no script there (404) is left to
// the next handler; a file that is there but cannot run is refused (403),
// never passed on to be served as source.
//
// The path is resolved as for --dir (scriptDir.resolve): the first file on
// the way is the script, the rest is PATH_INFO, and nothing outside the
// directory (.., symlinks) or starting with "." is reachable. Scripts count
// against --maxforks like WebSocket programs. Their environment is
// net/http/cgi's, with SERVER_SOFTWARE set to wsexec's and the --passenv
// variables added (net/http/cgi always passes PATH and, on Linux,
// LD_LIBRARY_PATH); request headers whose names would not map to one
// variable unambiguously are dropped first, as for WebSocket programs.
func (s *Server) serveCGI(w http.ResponseWriter, hr *http.Request, r *request) bool {
	sc, err := s.rt.cgi.resolve(r.path)
	if err != nil {
		var herr *handshake.Error
		if errors.As(err, &herr) && herr.Status == http.StatusNotFound {
			return false
		}
		s.refuse(httpResponder{w}, s.log.With("remote", r.remoteAddr, "path", r.path), err)
		return true
	}
	log := s.log.With("remote", r.remoteAddr, "cgi", sc.file)
	if !s.acquire() {
		s.refuse429(httpResponder{w}, log)
		return true
	}
	defer s.running.Add(-1)

	// net/http/cgi takes HTTPS from r.TLS and sets no AUTH_TYPE or
	// REMOTE_USER; its Env comes after its own variables and wins.
	who := r.who
	env := []string{"SERVER_SOFTWARE=" + s.software, "AUTH_TYPE=" + sanitizeValue(who.authType), "REMOTE_USER=" + sanitizeValue(who.user)}
	if r.forwarded {
		if requestScheme(r) == "https" {
			env = append(env, "HTTPS=on")
		} else {
			env = append(env, "HTTPS=")
		}
	}
	h := &cgi.Handler{
		Path:       sc.path,
		Root:       sc.scriptName,
		Env:        env,
		InheritEnv: s.cgiPass,
		Logger:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Stderr:     stderrLog{log},
	}
	log.Info("cgi", "method", r.Method, "path", r.path)
	h.ServeHTTP(w, cgiRequest(hr, who.hidePassword))
	return true
}

// cgiRequest returns r without the headers that validHeaderEnvName refuses
// (an '_' in a name, Proxy), and without Authorization when hidePassword
// is set, copying r only when there is one.
func cgiRequest(r *http.Request, hidePassword bool) *http.Request {
	drop := func(name string) bool {
		return !validHeaderEnvName(name) || hidePassword && http.CanonicalHeaderKey(name) == "Authorization"
	}
	for name := range r.Header {
		if drop(name) {
			r = r.Clone(r.Context())
			for name := range r.Header {
				if drop(name) {
					delete(r.Header, name)
				}
			}
			return r
		}
	}
	return r
}

// stderrLog logs what a CGI script writes to stderr, a line at a time.
type stderrLog struct{ log *slog.Logger }

func (l stderrLog) Write(p []byte) (int, error) {
	for line := range bytes.SplitSeq(bytes.TrimRight(p, "\n"), []byte("\n")) {
		l.log.Info("stderr", "line", string(line))
	}
	return len(p), nil
}

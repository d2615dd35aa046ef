package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wsexec/wsexec/handshake"
)

// Routing: which handler a request goes to, once serve (server.go) has checked it
// (request.go).
//
//   - A WebSocket upgrade goes to its endpoint: the one command, or with
//     --dir the executable its path names (see scriptDir.resolve). A path
//     that names none is refused (404, 403) before anything is upgraded or
//     started.
//   - A plain HTTP request gets, in this order: the dev console if it is on
//     and the path is an endpoint (with --dir, a directory's path gets the
//     listing of its scripts, see dirlist.go); the CGI script the path
//     names under --cgidir; the file under --staticdir; 404 when --cgidir
//     or --staticdir is given (plain HTTP is then a site, and the page is
//     missing); 426 if the path is an endpoint (it wants a WebSocket
//     client); 404 otherwise.
//
// This is websocketd's order; websocketd answers 404 where wsexec says
// 426, which tells a person who opened an endpoint's URL in a browser,
// or curl, what the URL is for. --devconsole cannot be combined with
// --staticdir or --cgidir (websocketd refuses that too): with a single
// command every path is the endpoint, so the console would hide every file.

// endpoint is what one WebSocket connection runs: the program, its argv, and
// the CGI names for the request.
type endpoint struct {
	path       string   // the program to exec, absolute
	args       []string // argv; args[0] is the name the program sees
	scriptName string   // SCRIPT_NAME
	pathInfo   string   // PATH_INFO
}

// router holds the routing configuration, resolved once in New.
type router struct {
	command *endpoint  // the single command; nil with --dir or none
	dir     *scriptDir // --dir
	web                // plain HTTP's routes: --cgidir, --staticdir (web.go)
}

// newRouter checks the routing part of cfg and resolves its directories;
// log is the static files' (see newStatic).
func newRouter(cfg *Config, log *Logger) (*router, error) {
	rt := &router{}
	switch {
	case cfg.Dir != "" && len(cfg.Command) > 0:
		return nil, &ConfigError{Fields: []string{"Dir", "Command"}, Reason: "both given: use one or the other"}
	case cfg.Dir != "":
		d, err := newScriptDir(cfg.Dir)
		if err != nil {
			return nil, &ConfigError{Fields: []string{"Dir"}, Reason: err.Error()}
		}
		rt.dir = d
	case len(cfg.Command) > 0 && cfg.Path != "":
		rt.command = &endpoint{path: cfg.Path, args: cfg.Command}
	case len(cfg.Command) > 0:
		return nil, errors.New("command not resolved (Config.Path)")
	case cfg.StaticDir == "" && cfg.CGIDir == "":
		return nil, &ConfigError{Fields: []string{"Command"}, Reason: "missing: nothing to serve"}
	}
	var err error
	if rt.web, err = newWeb(cfg, rt, log); err != nil {
		return nil, err
	}
	return rt, nil
}

// endpointFor maps a request to its WebSocket endpoint, or to a refusal (a
// *handshake.Error) when its path names none.
func (rt *router) endpointFor(r *request) (*endpoint, error) {
	switch {
	case rt.command != nil:
		// As websocketd: the command is the script at the root, and the
		// whole path is its PATH_INFO, what programs written for
		// websocketd route on.
		ep := *rt.command
		ep.scriptName, ep.pathInfo = "/", r.path
		return &ep, nil
	case rt.dir != nil:
		sc, err := rt.dir.resolve(r.path)
		if err != nil {
			return nil, err
		}
		return &endpoint{
			path:       sc.path,
			args:       []string{sc.file},
			scriptName: sc.scriptName,
			pathInfo:   sc.pathInfo,
		}, nil
	}
	return nil, &handshake.Error{Status: 404, Reason: "no WebSocket endpoint here"}
}

// scriptDir is a directory of executables, each served at its path below
// the directory: websocketd's --dir, and --cgidir.
type scriptDir struct {
	root string // absolute, symlinks resolved once at start-up
}

func newScriptDir(dir string) (*scriptDir, error) {
	root, err := realDir(dir)
	if err != nil {
		return nil, err
	}
	return &scriptDir{root: root}, nil
}

// realDir makes dir absolute with its symlinks resolved, and checks that it
// is a directory. Its errors name dir.
func realDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	var fi os.FileInfo
	if err == nil {
		fi, err = os.Stat(abs)
	}
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err // the path it names is not the one given
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("%q: %w", dir, err)
	case !fi.IsDir():
		return "", fmt.Errorf("%q: not a directory", dir)
	}
	return abs, nil
}

// script is a URL path resolved to an executable under a scriptDir.
type script struct {
	file       string // the file under the directory, as the URL named it
	path       string // file with every symlink resolved: what is run
	scriptName string // the URL path up to and including the file
	pathInfo   string // the rest of the URL path, "" or starting with "/"
}

// xOK is access(2)'s X_OK, which package syscall does not name.
const xOK = 1

// resolve walks the URL path p (decoded, as in r.URL.Path) down from the
// directory, one segment at a time, to the first file: that file is the
// script and the rest of p is PATH_INFO. It refuses, with a
// *handshake.Error:
//
//   - 400: p holds a control character (NUL, newline...), or a "." or ".."
//     segment anywhere, in the script's path or in PATH_INFO;
//   - 404: p not absolute; a segment before the file that is empty or
//     starts with "." (dot-files are never endpoints); a missing file; a
//     path that ends at a directory; a file whose real path, symlinks
//     resolved, is outside the directory;
//   - 403: a file that is not a regular executable file.
//
// The directory is read at each request, so scripts may come and go. p is
// never cleaned: a ".." is refused, not interpreted, so no spelling of it
// (percent-encoded once, which net/http decodes, or twice, which then names
// a file called "%2e%2e") reaches outside the directory, nor reaches a
// script in its PATH_INFO. checkRequest has refused such paths already
// (request.go); resolve refuses them itself because it is where a path
// becomes a file name.
func (d *scriptDir) resolve(p string) (script, error) {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return script{}, notFound("not an absolute path")
	}
	if hasControl(p) {
		return script{}, badRequest("control character in path")
	}
	if hasDotSegment(p) {
		return script{}, badRequest(dotSegmentReason)
	}
	dir := d.root
	var sc script
	linked := false // a symlink on the way: the real path must be checked
	for {
		seg, tail, more := strings.Cut(rest, "/")
		if why := badSegment(seg); why != "" {
			return script{}, notFound(why)
		}
		name := filepath.Join(dir, seg)
		sc.scriptName += "/" + seg
		fi, err := os.Lstat(name)
		if err == nil && fi.Mode()&os.ModeSymlink != 0 {
			linked = true
			fi, err = os.Stat(name)
		}
		if err != nil {
			return script{}, notFound("no such script")
		}
		if fi.IsDir() {
			if !more {
				return script{}, notFound("a directory, not a script")
			}
			dir, rest = name, tail
			continue
		}
		// The first file is the script. Check where it really is before
		// saying anything more about it. Without a symlink on the way, name
		// is real: d.root is, and no segment is "..".
		real := name
		if linked {
			real, err = filepath.EvalSymlinks(name)
			if err != nil || !within(d.root, real) {
				return script{}, notFound("no such script")
			}
		}
		if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 || syscall.Access(real, xOK) != nil {
			return script{}, &handshake.Error{Status: 403, Reason: "not an executable script"}
		}
		sc.file, sc.path = name, real
		if more {
			sc.pathInfo = "/" + tail
		}
		return sc, nil
	}
}

// checkScripts warns at start-up when --dir holds no executable file:
// every request would then be refused (404), which is more likely a wrong
// directory than the plan. The walk stops at the first executable, and
// after maxScan entries (then it says nothing).
func (s *Server) checkScripts() {
	if s.rt.dir == nil {
		return
	}
	found, n := false, 0
	filepath.WalkDir(s.rt.dir.root, func(p string, d fs.DirEntry, err error) error {
		if n++; n > maxScan {
			found = true // too many to look through: assume one is there
			return filepath.SkipAll
		}
		if err != nil || p == s.rt.dir.root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") { // never served
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if fi, err := os.Stat(p); err == nil && isExec(fi.Mode()) {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	if !found {
		s.log.Warn("no executable file in the directory: every request will get 404 until one is added",
			"dir", s.cfg.Dir, "fix", "make the scripts executable (chmod +x) or check the path")
	}
}

func notFound(reason string) error {
	return &handshake.Error{Status: 404, Reason: reason}
}

// badSegment says what is wrong with one path segment on the way to a file,
// or "" if nothing is.
func badSegment(seg string) string {
	switch {
	case seg == "":
		return "empty path segment"
	case seg[0] == '.': // "." and ".." were refused before the walk
		return "dot-files are not served"
	}
	return ""
}

// hasControl reports whether s holds a C0 control character or DEL: NUL
// would cut a file name short, a newline would split a log line.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// within reports whether path is dir or lies below it. Both are clean and
// absolute.
func within(dir, path string) bool {
	if path == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(path, dir)
}

func isExec(m fs.FileMode) bool { return m.IsRegular() && m&0o111 != 0 }

// maxScan bounds the entries scriptIDs reads: a larger script directory
// makes every file with more than one link count as hidden.
const maxScan = 10000

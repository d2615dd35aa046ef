//go:build !tiny

package server

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Static files (--staticdir) over plain HTTP, with net/http's FileServer
// (ranges, conditional requests, index.html, directory listings) on a file
// system that:
//
//   - follows symlinks that stay inside the directory, relative or
//     absolute, and refuses those that leave it; every file is opened by
//     its real path through an os.Root, so neither ".." nor a symlink
//     changed meanwhile can reach outside the directory;
//   - refuses any path with a segment starting with "." (404) and leaves
//     dot-files out of listings, so .git, .htpasswd and the like stay
//     private (and so do the dot-files editors leave: .x.swp, .#x);
//   - never serves a program's files, so that no source is shown even when
//     a program lies inside the static directory (see hidden);
//   - answers only GET and HEAD (405 otherwise).
//
// A refused file is a 404, as if it were not there, and left out of
// listings; the reason is logged at debug level.

// hidden says which files a static directory never serves, by their real
// path (absolute, symlinks resolved) and their identity (device and inode,
// so that a hard link is the file it links to):
//
//   - anything under --cgidir (its other files are the scripts' own);
//   - under --dir, every executable and every file named as a backup
//     (stripBackup); HTML and other plain files beside the scripts are
//     served;
//   - the command, and every file an argument of it names (alone, or as
//     the value of -name=value: `python3 app.py --conf=app.ini`), as they
//     were at start-up, their hard links (os.SameFile) and their backups
//     beside them;
//   - a file outside --dir and --cgidir that is a hard link to a file
//     hidden there: a file with more than one link is looked for under
//     them (see scriptIDs), the first time one is met in a request.
type hidden struct {
	dirs   []string      // nothing below these
	execIn []string      // no executable and no backup below these
	files  []programFile // the command and the files its arguments name
}

// programFile is a file of the single command's program.
type programFile struct {
	real  string      // absolute, symlinks resolved
	named string      // absolute as named, its directory's symlinks resolved: where an editor leaves a backup of a symlink
	info  fs.FileInfo // for os.SameFile: a hard link is the same file
}

// programFiles returns the files of the command whose program is path
// (resolved) and whose arguments are args (as given, relative to the
// working directory, which the program shares): path itself and each
// existing file, not directory, that an argument or the value of a
// -name=value argument names. A directory is left out: serving the data
// directory a program is given (--root=www) is a common and fair use.
func programFiles(path string, args []string) []programFile {
	names := []string{path}
	for _, a := range args {
		names = append(names, a)
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			names = append(names, v)
		}
	}
	var files []programFile
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil || fi.IsDir() {
			continue
		}
		real, err := filepath.EvalSymlinks(name)
		if err != nil {
			continue
		}
		abs, err := filepath.Abs(name)
		if err != nil {
			continue
		}
		named := abs
		if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			named = filepath.Join(dir, filepath.Base(abs))
		}
		files = append(files, programFile{real: real, named: named, info: fi})
	}
	return files
}

// why says why the file at real path p, described by fi (its target's, if
// it is a symlink), is hidden, or "" if it is served. ids is where the
// identities of the script directories' files are gathered for one request.
func (h *hidden) why(p string, fi fs.FileInfo, ids *scriptIDs) string {
	for _, d := range h.dirs {
		if within(d, p) {
			return "under the CGI directory"
		}
	}
	for _, d := range h.execIn {
		if within(d, p) && (isExec(fi.Mode()) || stripBackup(filepath.Base(p)) != "") {
			return "a script, or a backup, under the script directory"
		}
	}
	for _, f := range h.files {
		if p == f.real || os.SameFile(fi, f.info) {
			return "the program: the command, or a file its arguments name"
		}
		// Bounded: each round strips at least one byte off the name.
		for stem := stripBackup(filepath.Base(p)); stem != ""; stem = stripBackup(stem) {
			if s := filepath.Join(filepath.Dir(p), stem); s == f.real || s == f.named {
				return "a backup of the program"
			}
		}
	}
	if fi.Mode().IsRegular() && ids.linked(fi) {
		return "a hard link to a file under the script or CGI directory"
	}
	return ""
}

// backupSuffixes end the names that editors, patch, diff3 and package
// managers give the copies of a file they keep beside it, compared without
// regard to case. With "~" (Emacs, vim's backupext, cp --backup: NAME~ and
// NAME.~N~) and Emacs's #NAME#, they are the backup names docs/security.md
// lists; the dot-files editors leave are hidden as dot-files.
var backupSuffixes = []string{".bak", ".backup", ".orig", ".old", ".save", ".swp", ".swo", ".rej"}

// stripBackup returns the name of the file that a file named name is a
// backup of, by its name alone, or "" when the name is not a backup's.
func stripBackup(name string) string {
	if len(name) > 2 && name[0] == '#' && name[len(name)-1] == '#' {
		return name[1 : len(name)-1]
	}
	if s, ok := strings.CutSuffix(name, "~"); ok {
		if i := strings.LastIndex(s, ".~"); i > 0 && i+2 < len(s) && strings.Trim(s[i+2:], "0123456789") == "" {
			return s[:i] // NAME.~N~
		}
		return s
	}
	for _, suf := range backupSuffixes {
		if len(name) > len(suf) && strings.EqualFold(name[len(name)-len(suf):], suf) {
			return name[:len(name)-len(suf)]
		}
	}
	return ""
}

// scriptIDs gathers, the first time it is asked about a file with more
// than one link, the identity (device and inode) of every file under
// --cgidir and every executable under --dir, to find a hard link made
// outside them to one of their files. Scripts come and go, so the walk is
// done again for each request that meets such a file (one Open, or one
// listing), never kept longer; files with one link, nearly all, cost
// nothing. Where the walk cannot be sure (an unreadable directory, more
// than maxScan entries) it says hidden.
type scriptIDs struct {
	h      *hidden
	done   bool
	unsure bool
	ids    map[fileID]bool
}

type fileID struct{ dev, ino uint64 }

// idOf returns the identity and link count of fi; ok is false when the
// system does not say (then a file counts as linked).
func idOf(fi fs.FileInfo) (id fileID, links uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, 0, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, uint64(st.Nlink), true
}

// linked reports whether fi, a regular file, is also a file of a script
// directory.
func (s *scriptIDs) linked(fi fs.FileInfo) bool {
	if len(s.h.dirs)+len(s.h.execIn) == 0 {
		return false
	}
	id, links, ok := idOf(fi)
	if ok && links <= 1 {
		return false
	}
	if !s.done {
		s.scan()
	}
	return !ok || s.unsure || s.ids[id]
}

func (s *scriptIDs) scan() {
	s.done = true
	s.ids = make(map[fileID]bool)
	n := 0
	walk := func(root string, all bool) {
		filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
			n++
			if err != nil || n > maxScan {
				s.unsure = true
				return filepath.SkipAll
			}
			if !d.Type().IsRegular() {
				return nil // symlinks are followed by resolve only to files under root, walked here
			}
			fi, err := d.Info()
			if err != nil {
				return nil // gone since it was listed
			}
			if all || isExec(fi.Mode()) {
				if id, _, ok := idOf(fi); ok {
					s.ids[id] = true
				}
			}
			return nil
		})
	}
	for _, d := range s.h.dirs {
		walk(d, true)
	}
	for _, d := range s.h.execIn {
		walk(d, false)
	}
}

// newStatic returns the handler for the static directory dir; log is told
// why a file is not served.
func newStatic(dir string, hide hidden, log *slog.Logger) (http.Handler, error) {
	root, err := realDir(dir)
	if err != nil {
		return nil, err
	}
	fsys := &staticFS{root: root, hide: hide, log: log}
	files := http.FileServer(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	}), nil
}

// staticFS is the http.FileSystem of a static directory.
type staticFS struct {
	root string // absolute, symlinks resolved
	hide hidden
	log  *slog.Logger
}

// Open opens name, a slash-separated path that FileServer has cleaned.
// A symlink is followed wherever it points inside the directory, by a
// relative or an absolute target (as websocketd 0.5 does); the file is
// then judged by its real path, so a link to a dot-file, to a program's
// file or out of the directory is refused like the file itself.
func (s *staticFS) Open(name string) (http.File, error) {
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	if rel == "" {
		rel = "."
	}
	if why := dotFile(rel); why != "" {
		s.log.Debug("not served", "file", rel, "why", why)
		return nil, fs.ErrNotExist
	}
	real, err := filepath.EvalSymlinks(filepath.Join(s.root, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, err // 403
		}
		return nil, fs.ErrNotExist
	}
	inside, err := filepath.Rel(s.root, real)
	if err != nil || !within(s.root, real) {
		s.log.Debug("not served", "file", rel, "why", "a link out of the directory")
		return nil, fs.ErrNotExist
	}
	if why := dotFile(filepath.ToSlash(inside)); why != "" {
		s.log.Debug("not served", "file", rel, "why", "a link to "+why)
		return nil, fs.ErrNotExist
	}
	// The directory is opened for each file so that one replaced while the
	// server runs is followed, and no descriptor is held between requests.
	// The real path is opened through an os.Root: should a link change
	// between EvalSymlinks and here, the root still keeps the open inside.
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(inside)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, err // 403
		}
		return nil, fs.ErrNotExist // gone, or a path that escapes: 404
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fs.ErrNotExist
	}
	ids := &scriptIDs{h: &s.hide}
	if why := s.hide.why(real, fi, ids); why != "" {
		f.Close()
		s.log.Debug("not served", "file", rel, "why", why)
		return nil, fs.ErrNotExist
	}
	return &staticFile{File: f, real: real, fs: s, ids: ids}, nil
}

// dotFile says why the slash-separated path rel, inside the directory, is
// not served for a segment starting with ".", or "" when it has none.
func dotFile(rel string) string {
	for _, seg := range strings.Split(rel, "/") {
		if seg != "." && strings.HasPrefix(seg, ".") {
			return "a dot-file"
		}
	}
	return ""
}

// staticFile is an open file or directory whose listings leave out
// dot-files and what Open would refuse.
type staticFile struct {
	*os.File
	real string
	fs   *staticFS
	ids  *scriptIDs // shared by Open and every entry of a listing
}

func (f *staticFile) keep(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	// Resolve the entry as Open would, so that no link to outside the
	// directory, to a dot-file or to a program is listed.
	real, err := filepath.EvalSymlinks(filepath.Join(f.real, name))
	if err != nil || !within(f.fs.root, real) {
		return false
	}
	if inside, err := filepath.Rel(f.fs.root, real); err != nil || dotFile(filepath.ToSlash(inside)) != "" {
		return false
	}
	fi, err := os.Stat(real)
	return err == nil && f.fs.hide.why(real, fi, f.ids) == ""
}

// ReadDir is what FileServer's listing calls (fs.ReadDirFile); it must
// filter too, or the embedded *os.File's would be used.
func (f *staticFile) ReadDir(n int) ([]fs.DirEntry, error) {
	for {
		ents, err := f.File.ReadDir(n)
		kept := ents[:0]
		for _, e := range ents {
			if f.keep(e.Name()) {
				kept = append(kept, e)
			}
		}
		// With n > 0 an empty batch with no error would read as a bug:
		// keep reading while filtering empties a batch that was not the last.
		if len(kept) > 0 || err != nil || n <= 0 {
			return kept, err
		}
	}
}

// Readdir is http.File's listing method; see ReadDir.
func (f *staticFile) Readdir(n int) ([]fs.FileInfo, error) {
	ents, err := f.ReadDir(n)
	infos := make([]fs.FileInfo, 0, len(ents))
	for _, e := range ents {
		fi, ierr := e.Info()
		if ierr != nil {
			continue // vanished since it was listed
		}
		infos = append(infos, fi)
	}
	return infos, err
}

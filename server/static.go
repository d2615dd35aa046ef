package server

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Static files (--staticdir) over plain HTTP, with net/http's FileServer
// (ranges, conditional requests, index.html, directory listings) on a file
// system that:
//
//   - opens every file through an os.Root, so neither ".." nor a symlink
//     can reach outside the directory;
//   - refuses any path with a segment starting with "." (404) and leaves
//     dot-files out of listings, so .git, .htpasswd and the like stay
//     private;
//   - refuses anything under --cgidir, any executable under --dir and the
//     command itself (real paths, symlinks resolved), so a program is never
//     served as source even when it lies inside the static directory;
//   - answers only GET and HEAD (405 otherwise).

// hidden says which files a static directory never serves. Every path is
// real: absolute, symlinks resolved.
type hidden struct {
	dirs   []string // nothing below these
	execIn []string // no executable below these
	files  []string // not these
}

// has reports whether the file at real path p, of mode m, is hidden.
func (h *hidden) has(p string, m fs.FileMode) bool {
	for _, d := range h.dirs {
		if within(d, p) {
			return true
		}
	}
	if m.IsRegular() && m&0o111 != 0 {
		for _, d := range h.execIn {
			if within(d, p) {
				return true
			}
		}
	}
	for _, f := range h.files {
		if p == f {
			return true
		}
	}
	return false
}

// newStatic returns the handler for the static directory dir.
func newStatic(dir string, hide hidden) (http.Handler, error) {
	root, err := realDir(dir)
	if err != nil {
		return nil, err
	}
	fsys := &staticFS{root: root, hide: hide}
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
}

// Open opens name, a slash-separated path that FileServer has cleaned.
func (s *staticFS) Open(name string) (http.File, error) {
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	if rel == "" {
		rel = "."
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg != "." && strings.HasPrefix(seg, ".") {
			return nil, fs.ErrNotExist
		}
	}
	// The directory is opened for each file so that one replaced while the
	// server runs is followed, and no descriptor is held between requests.
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, err // 403
		}
		return nil, fs.ErrNotExist // missing, or a path that escapes: 404
	}
	// os.Root has kept f inside the directory; now keep programs out.
	real, err := filepath.EvalSymlinks(filepath.Join(s.root, filepath.FromSlash(rel)))
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if err != nil || s.hide.has(real, fi.Mode()) {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return &staticFile{File: f, real: real, fs: s}, nil
}

// staticFile is an open file or directory whose listings leave out
// dot-files and what Open would refuse.
type staticFile struct {
	*os.File
	real string
	fs   *staticFS
}

func (f *staticFile) keep(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	// Resolve the entry as Open would, so that no link to outside the
	// directory and no program is listed.
	real, err := filepath.EvalSymlinks(filepath.Join(f.real, name))
	if err != nil || !within(f.fs.root, real) {
		return false
	}
	fi, err := os.Stat(real)
	return err == nil && !f.fs.hide.has(real, fi.Mode())
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

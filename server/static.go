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
//   - refuses anything whose real path lies in a script directory (--dir,
//     --cgidir), so a script is never served as source even when its
//     directory is inside the static one;
//   - answers only GET and HEAD (405 otherwise).

// newStatic returns the handler for the static directory dir. hide lists
// real directory paths whose contents are never served.
func newStatic(dir string, hide []string) (http.Handler, error) {
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
	root string   // absolute, symlinks resolved
	hide []string // real directories never served
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
	// os.Root has kept f inside the directory; now keep scripts out.
	real, err := filepath.EvalSymlinks(filepath.Join(s.root, filepath.FromSlash(rel)))
	if err != nil || s.hidden(real) {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return &staticFile{File: f, real: real, fs: s}, nil
}

// hidden reports whether the real path p lies in a script directory.
func (s *staticFS) hidden(p string) bool {
	for _, d := range s.hide {
		if within(d, p) {
			return true
		}
	}
	return false
}

// staticFile is an open file or directory whose listings leave out
// dot-files and script directories.
type staticFile struct {
	*os.File
	real string
	fs   *staticFS
}

func (f *staticFile) keep(name string) bool {
	return !strings.HasPrefix(name, ".") && !f.fs.hidden(filepath.Join(f.real, name))
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

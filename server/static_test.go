package server

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestStaticFS(t *testing.T) {
	t.Parallel()
	d, _ := scriptTree(t) // executables, dot-files, symlinks out
	root := d.root
	if err := os.WriteFile(filepath.Join(root, "%2e%2e", "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.txt", ".b.txt", "c.txt", ".d.txt", ".e.txt", "f.txt"} {
		if err := os.WriteFile(filepath.Join(root, "sub", name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys := &staticFS{root: root, hide: hidden{
		dirs:   []string{filepath.Join(root, "sub", "deep")},
		execIn: []string{filepath.Join(root, "%2e%2e")},
		files:  []string{filepath.Join(root, "ok.sh")},
	}}

	for _, name := range []string{
		"/.hidden.sh", "/.git/hook.sh", "/sub/.b.txt", "/up.sh", "/updir/outside.sh",
		"/abs/sh", "/../outside.sh", "/sub/deep/ok.sh", "/sub/deep", "/missing",
		"/ok.sh", "/in.sh", "/%2e%2e/ok.sh",
	} {
		if f, err := fsys.Open(name); !errors.Is(err, fs.ErrNotExist) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%q) = %v, want not found", name, err)
		}
	}
	for _, name := range []string{"/", "/plain.txt", "/sub/a.txt", "/%2e%2e", "/%2e%2e/notes.txt"} {
		f, err := fsys.Open(name)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		f.Close()
	}

	// Listings leave out dot-files and hidden directories, whatever the
	// batch size, and end with io.EOF when read in batches.
	want := []string{"a.txt", "c.txt", "f.txt"}
	for _, n := range []int{-1, 1, 2, 100} {
		f, err := fsys.Open("/sub")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := 0; i < 100; i++ {
			infos, err := f.Readdir(n)
			for _, fi := range infos {
				got = append(got, fi.Name())
			}
			if n <= 0 || errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("Readdir(%d) listed %q, want %q", n, got, want)
		}
	}
}

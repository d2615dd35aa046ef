//go:build !tiny

package server

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	fsys := &staticFS{root: root, log: slog.New(slog.DiscardHandler), hide: hidden{
		dirs:   []string{filepath.Join(root, "sub", "deep")},
		execIn: []string{filepath.Join(root, "%2e%2e")},
		files:  programFiles(filepath.Join(root, "ok.sh"), nil),
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

func TestStripBackup(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"app.sh~": "app.sh", "app.sh.~12~": "app.sh", "app.sh.~x~": "app.sh.~x", "#app.sh#": "app.sh",
		"app.sh.bak": "app.sh", "app.sh.BAK": "app.sh", "app.sh.backup": "app.sh", "app.sh.orig": "app.sh",
		"app.sh.old": "app.sh", "app.sh.save": "app.sh", "app.sh.swp": "app.sh", "app.sh.swo": "app.sh",
		"app.sh.rej": "app.sh", "app.sh.orig~": "app.sh.orig",
		"app.sh": "", "~": "", "#": "", "##": "", ".bak": "", "bak": "", "app.bakery": "", "app.sh.tmp": "",
	} {
		if got := stripBackup(name); got != want {
			t.Errorf("stripBackup(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestProgramFiles: the command's files are the program and each file an
// argument names, alone or after -name=, relative to the working
// directory; directories and names of nothing are left out.
func TestProgramFiles(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prog", "app.py", "conf.ini", "real.txt"} {
		if err := os.WriteFile(filepath.Join(base, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(base, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.txt", filepath.Join(base, "link.txt")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	files := programFiles(filepath.Join(base, "prog"), []string{
		"app.py", "--conf=conf.ini", "x=real.txt", "data", "--root=data", "missing", "-v", "link.txt",
	})
	var got []string
	for _, f := range files {
		got = append(got, strings.TrimPrefix(f.real, base+"/")+" "+strings.TrimPrefix(f.named, base+"/"))
	}
	want := []string{"prog prog", "app.py app.py", "conf.ini conf.ini", "real.txt link.txt"}
	if !slices.Equal(got, want) {
		t.Fatalf("programFiles: %q, want %q", got, want)
	}
}

// TestHiddenLinks: a hard link to a file of --cgidir or to an executable
// of --dir is hidden wherever it is, a hard link between plain files is
// not, and a script directory that cannot be searched hides every hard
// link.
func TestHiddenLinks(t *testing.T) {
	t.Parallel()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{
		{"cgi/data.txt", 0o644}, {"dir/run.sh", 0o755}, {"dir/page.html", 0o644}, {"www/plain.txt", 0o644},
	} {
		p := filepath.Join(base, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{
		{"cgi/data.txt", "www/cgi.txt"}, {"dir/run.sh", "www/run.sh"}, {"dir/page.html", "www/page.html"},
		{"www/plain.txt", "www/plain2.txt"},
	} {
		if err := os.Link(filepath.Join(base, l[0]), filepath.Join(base, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	h := &hidden{dirs: []string{filepath.Join(base, "cgi")}, execIn: []string{filepath.Join(base, "dir")}}
	ids := &scriptIDs{h: h}
	for name, hide := range map[string]bool{
		"cgi.txt": true, "run.sh": true, "page.html": false, "plain.txt": false, "plain2.txt": false,
	} {
		p := filepath.Join(base, "www", name)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if why := h.why(p, fi, ids); (why != "") != hide {
			t.Errorf("%s: why %q, want hidden %v", name, why, hide)
		}
	}

	// Where the walk cannot be sure (here a script directory that is gone;
	// the same holds past maxScan entries), every hard link counts as a
	// script's, and a file with one link is still served.
	h = &hidden{execIn: []string{filepath.Join(base, "gone")}}
	if err := os.WriteFile(filepath.Join(base, "www", "hello.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, hide := range map[string]bool{"plain.txt": true, "hello.txt": false} {
		p := filepath.Join(base, "www", name)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if why := h.why(p, fi, &scriptIDs{h: h}); (why != "") != hide {
			t.Errorf("%s with a script directory that is gone: why %q, want hidden %v", name, why, hide)
		}
	}
}

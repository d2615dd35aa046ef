//go:build !tiny

package server

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wsexec/wsexec/handshake"
)

// scriptTree builds a directory of scripts for the resolver, root, in a
// new temporary directory, base, and returns root as a scriptDir (d.root is
// root) and base. base has its symlinks resolved, so that a path under it
// is real unless a link in the tree makes it otherwise. Under base:
//
//	outside.sh                 executable, outside root
//	root/ok.sh                 executable
//	root/sub/deep/ok.sh        executable
//	root/plain.txt             not executable
//	root/.hidden.sh            executable dot-file
//	root/.git/hook.sh          executable in a dot-directory
//	root/fifo                  a named pipe
//	root/in.sh -> ok.sh        symlink inside
//	root/up.sh -> ../outside.sh
//	root/updir -> ..           directory symlink out
//	root/abs -> /bin           absolute symlink out
//	root/%2e%2e/ok.sh          a directory literally named "%2e%2e"
func scriptTree(t testing.TB) (d *scriptDir, base string) {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "root")
	exe := []byte("#!/bin/sh\necho hi\n")
	files := []struct {
		name string
		mode os.FileMode
	}{
		{"outside.sh", 0o755},
		{"root/ok.sh", 0o755},
		{"root/sub/deep/ok.sh", 0o755},
		{"root/plain.txt", 0o644},
		{"root/.hidden.sh", 0o755},
		{"root/.git/hook.sh", 0o755},
		{"root/%2e%2e/ok.sh", 0o755},
	}
	for _, f := range files {
		p := filepath.Join(base, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, exe, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	links := [][2]string{
		{"ok.sh", "root/in.sh"},
		{"../outside.sh", "root/up.sh"},
		{"..", "root/updir"},
		{"/bin", "root/abs"},
	}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(base, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o755); err != nil {
		t.Logf("no fifo: %v", err)
	}
	d, err = newScriptDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return d, base
}

func TestResolve(t *testing.T) {
	t.Parallel()
	d, base := scriptTree(t)
	root := d.root
	tests := []struct {
		name     string
		path     string
		status   int    // 0: resolves
		file     string // relative to root
		real     string // relative to root
		script   string
		pathInfo string
	}{
		{"script", "/ok.sh", 0, "ok.sh", "ok.sh", "/ok.sh", ""},
		{"nested", "/sub/deep/ok.sh", 0, "sub/deep/ok.sh", "sub/deep/ok.sh", "/sub/deep/ok.sh", ""},
		{"path info", "/sub/deep/ok.sh/a/b", 0, "sub/deep/ok.sh", "sub/deep/ok.sh", "/sub/deep/ok.sh", "/a/b"},
		{"trailing slash is path info", "/ok.sh/", 0, "ok.sh", "ok.sh", "/ok.sh", "/"},
		{"path info may say much", "/ok.sh/a..b/.c/%2e%2e/~", 0, "ok.sh", "ok.sh", "/ok.sh", "/a..b/.c/%2e%2e/~"},
		{"symlink inside", "/in.sh/x", 0, "in.sh", "ok.sh", "/in.sh", "/x"},
		{"literal %2e%2e directory", "/%2e%2e/ok.sh", 0, "%2e%2e/ok.sh", "%2e%2e/ok.sh", "/%2e%2e/ok.sh", ""},

		{"missing", "/nope.sh", 404, "", "", "", ""},
		{"root", "/", 404, "", "", "", ""},
		{"directory", "/sub", 404, "", "", "", ""},
		{"directory slash", "/sub/", 404, "", "", "", ""},
		{"dotdot", "/../outside.sh", 400, "", "", "", ""},
		{"dotdot inside", "/sub/../ok.sh", 400, "", "", "", ""},
		{"dot", "/./ok.sh", 400, "", "", "", ""},
		{"dotdot in path info", "/ok.sh/../../etc/passwd", 400, "", "", "", ""},
		{"dot in path info", "/sub/deep/ok.sh/a/.", 400, "", "", "", ""},
		{"dotdot after a missing file", "/nope.sh/..", 400, "", "", "", ""},
		{"double slash", "//ok.sh", 404, "", "", "", ""},
		{"not absolute", "ok.sh", 404, "", "", "", ""},
		{"empty", "", 404, "", "", "", ""},
		{"dot-file", "/.hidden.sh", 404, "", "", "", ""},
		{"dot-directory", "/.git/hook.sh", 404, "", "", "", ""},
		{"symlink file out", "/up.sh", 404, "", "", "", ""},
		{"symlink dir out", "/updir/outside.sh", 404, "", "", "", ""},
		{"absolute symlink out", "/abs/sh", 404, "", "", "", ""},
		{"absolute path", "/" + base + "/outside.sh", 404, "", "", "", ""},
		{"not executable", "/plain.txt", 403, "", "", "", ""},
		{"fifo", "/fifo", 403, "", "", "", ""},
		{"NUL", "/ok.sh\x00.txt", 400, "", "", "", ""},
		{"newline", "/ok.sh\n", 400, "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "fifo" {
				if _, err := os.Stat(filepath.Join(root, "fifo")); err != nil {
					t.Skip("no fifo on this file system")
				}
			}
			sc, err := d.resolve(tc.path)
			if tc.status != 0 {
				var herr *handshake.Error
				if !errors.As(err, &herr) || herr.Status != tc.status {
					t.Fatalf("resolve(%q) = %+v, %v; want status %d", tc.path, sc, err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve(%q): %v", tc.path, err)
			}
			want := script{
				file:       filepath.Join(root, tc.file),
				path:       filepath.Join(root, tc.real),
				scriptName: tc.script,
				pathInfo:   tc.pathInfo,
			}
			if sc != want {
				t.Fatalf("resolve(%q) = %+v, want %+v", tc.path, sc, want)
			}
		})
	}
}

// TestResolveFollowsChanges: the directory is read at each request.
func TestResolveFollowsChanges(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	d, err := newScriptDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.resolve("/new.sh"); err == nil {
		t.Fatal("resolved a script that does not exist yet")
	}
	if err := os.WriteFile(filepath.Join(root, "new.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := d.resolve("/new.sh"); err != nil {
		t.Fatalf("new script: %v", err)
	}
}

func TestNewScriptDirRefusesFile(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0o644)
	if _, err := newScriptDir(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("newScriptDir(file) = %v", err)
	}
	if _, err := newScriptDir(filepath.Join(f, "missing")); err == nil {
		t.Fatal("newScriptDir(missing) succeeded")
	}
}

func TestWithin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir, path string
		want      bool
	}{
		{"/a", "/a", true},
		{"/a", "/a/b", true},
		{"/a", "/ab", false},
		{"/a", "/", false},
		{"/", "/etc", true},
		{"/a/b", "/a", false},
	}
	for _, tc := range tests {
		if got := within(tc.dir, tc.path); got != tc.want {
			t.Errorf("within(%q, %q) = %v, want %v", tc.dir, tc.path, got, tc.want)
		}
	}
}

func TestNewRouterChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string // "" if accepted
	}{
		{"command", Config{Command: []string{"cat"}, Path: "/bin/cat"}, ""},
		{"dir", Config{Dir: dir}, ""},
		{"static only", Config{StaticDir: dir}, ""},
		{"cgi only", Config{CGIDir: dir}, ""},
		{"nothing", Config{}, "Command: missing"},
		{"both", Config{Command: []string{"cat"}, Path: "/bin/cat", Dir: dir}, "both"},
		{"unresolved", Config{Command: []string{"cat"}}, "not resolved"},
		{"console and static", Config{Dir: dir, StaticDir: dir, DevConsole: true}, "DevConsole with StaticDir"},
		{"console and cgi", Config{Dir: dir, CGIDir: dir, DevConsole: true}, "DevConsole with CGIDir"},
		{"missing dir", Config{Dir: filepath.Join(dir, "nope")}, "Dir: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newRouter(&tc.cfg, slog.New(slog.DiscardHandler))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("newRouter = %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzResolve: whatever the path, a script resolve accepts lies inside the
// directory, is executable, and its SCRIPT_NAME and PATH_INFO put back
// together are the path; a refusal is a 400, 403 or 404.
func FuzzResolve(f *testing.F) {
	d, base := scriptTree(f)
	root := d.root
	for _, p := range []string{
		"/ok.sh", "/sub/deep/ok.sh/a/b", "/in.sh", "/up.sh", "/updir/outside.sh",
		"/updir/root/ok.sh", "/abs/sh", "/../outside.sh", "/sub/../../outside.sh",
		"//ok.sh", "/.hidden.sh", "/ok.sh\x00", "/%2e%2e/ok.sh", "/plain.txt", "/fifo",
		"/" + base + "/outside.sh", "/sub/deep/", "",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		sc, err := d.resolve(p)
		if err != nil {
			var herr *handshake.Error
			if !errors.As(err, &herr) {
				t.Fatalf("resolve(%q): %v is not a *handshake.Error", p, err)
			}
			switch herr.Status {
			case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
			default:
				t.Fatalf("resolve(%q): status %d", p, herr.Status)
			}
			return
		}
		if !within(root, sc.path) {
			t.Fatalf("resolve(%q) = %q, outside %q", p, sc.path, root)
		}
		if real, err := filepath.EvalSymlinks(sc.path); err != nil || real != sc.path {
			t.Fatalf("resolve(%q): path %q is not real (%q, %v)", p, sc.path, real, err)
		}
		if real, err := filepath.EvalSymlinks(sc.file); err != nil || real != sc.path {
			t.Fatalf("resolve(%q): file %q leads to %q (%v), not %q", p, sc.file, real, err, sc.path)
		}
		if fi, err := os.Stat(sc.path); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			t.Fatalf("resolve(%q) = %q, not an executable file (%v)", p, sc.path, err)
		}
		if sc.scriptName+sc.pathInfo != p {
			t.Fatalf("resolve(%q): SCRIPT_NAME %q + PATH_INFO %q", p, sc.scriptName, sc.pathInfo)
		}
		if sc.pathInfo != "" && sc.pathInfo[0] != '/' {
			t.Fatalf("resolve(%q): PATH_INFO %q", p, sc.pathInfo)
		}
	})
}

// BenchmarkResolve is the per-connection cost of --dir: a stat per path
// segment, then the symlink walk and access(2) on the script.
func BenchmarkResolve(b *testing.B) {
	d, _ := scriptTree(b)
	for _, p := range []string{"/ok.sh", "/sub/deep/ok.sh/a/b"} {
		b.Run(strings.TrimPrefix(strings.ReplaceAll(p, "/", "_"), "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.resolve(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

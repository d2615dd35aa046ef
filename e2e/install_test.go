package e2e

// Installing wsexec: make install, and go install from a clone.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstall: `make install DESTDIR=... PREFIX=...` installs the
// binary and the man page under DESTDIR, the binary runs, and man renders
// the page. The build goes to a directory of the test's (BIN, MAN), not to
// the checkout's bin/.
func TestMakeInstall(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"make", "man"} {
		if _, err := exec.LookPath(tool); err != nil {
			requireClient(t, tool, err)
		}
	}
	tmp := t.TempDir()
	dest, build := filepath.Join(tmp, "dest"), filepath.Join(tmp, "build")
	mk := exec.Command("make", "--no-print-directory", "install", "DESTDIR="+dest, "PREFIX=/usr",
		"BIN="+filepath.Join(build, "wsexec"), "MAN="+filepath.Join(build, "wsexec.1"))
	mk.Dir = ".."
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	bin, page := filepath.Join(dest, "usr/bin/wsexec"), filepath.Join(dest, "usr/share/man/man1/wsexec.1")
	for file, mode := range map[string]os.FileMode{bin: 0o755, page: 0o644} {
		fi, err := os.Stat(file)
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v, mode %v; want it installed with %v", file, err, fi.Mode(), mode)
		}
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "wsexec version ") {
		t.Fatalf("installed wsexec --version: %v %q", err, out)
	}
	man := exec.Command("man", "-l", page)
	man.Env = append(os.Environ(), "MANWIDTH=80", "MANOPT=--warnings", "MANPAGER=cat", "PAGER=cat")
	var stderr strings.Builder
	man.Stderr = &stderr
	out, err := man.Output()
	if err != nil || stderr.Len() > 0 || !strings.Contains(string(out), "--port=PORT") {
		t.Fatalf("man -l %s: %v, stderr %q\n%s", page, err, stderr.String(), out)
	}
}

// TestGoInstallVersion: `go install .` in a clone gives a wsexec whose
// --version names the clone's commit (from the build information Go
// records; no -X main.version).
func TestGoInstallVersion(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("git not installed: %v", err)
	}
	if err := exec.Command("git", "-C", "..", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skipf("the source is not a git checkout: %v", err)
	}
	tmp := t.TempDir()
	clone := filepath.Join(tmp, "wsexec")
	if out, err := exec.Command("git", "clone", "--quiet", "..", clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	rev, err := exec.Command("git", "-C", clone, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	install := exec.Command("go", "install", ".")
	install.Dir = clone
	// GOFLAGS: a machine's go env may turn VCS stamping off
	// (-buildvcs=false); a user's default is auto, which this asks for.
	install.Env = append(os.Environ(), "GOBIN="+filepath.Join(tmp, "bin"), "GOFLAGS=-buildvcs=auto")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(tmp, "bin", "wsexec"), "--version").Output()
	if err != nil || !strings.Contains(string(out), strings.TrimSpace(string(rev))) {
		t.Fatalf("--version after go install: %v %q, want it to name commit %s", err, out, rev)
	}
}

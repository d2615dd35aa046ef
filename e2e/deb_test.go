package e2e

// The .deb of make deb, checked as a file and then installed into this
// machine with dpkg, as root: opt-in (WSEXEC_DPKG_TEST=1, which .ci/run
// sets), since it changes the machine it runs on.

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// debFiles are the files the package installs, with their modes as
// dpkg-deb --contents prints them; every one is root's.
var debFiles = map[string]string{
	"/usr/bin/wsexec":                     "-rwxr-xr-x",
	"/usr/share/man/man1/wsexec.1.gz":     "-rw-r--r--",
	"/lib/systemd/system/wsexec.service":  "-rw-r--r--",
	"/lib/systemd/system/wsexec.socket":   "-rw-r--r--",
	"/etc/default/wsexec":                 "-rw-r--r--",
	"/usr/share/doc/wsexec/README.md":     "-rw-r--r--",
	"/usr/share/doc/wsexec/copyright":     "-rw-r--r--",
	"/usr/share/doc/wsexec/changelog.gz":  "-rw-r--r--",
	"/usr/share/lintian/overrides/wsexec": "-rw-r--r--",
}

// debVersionRE is a Debian upstream version without a revision
// (deb-version(7)): a leading digit, then no hyphen.
var debVersionRE = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

// TestDebVersion: packaging/deb.sh makes git describe's output a Debian
// version: a tag's version, or 0.0~gitDATE.COMMIT without a tag, even for
// a commit whose abbreviated hash starts with a digit.
func TestDebVersion(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("git not installed: %v", err)
	}
	// The newest commit whose abbreviated hash starts with a digit, as a
	// tagless git describe prints it, and its commit date.
	log := output(t, "git", "-C", "..", "log", "--max-count=200", "--abbrev=7", "--format=%h %cd", "--date=format:%Y%m%d")
	var commit, date string
	for line := range strings.Lines(log) {
		if h, d, ok := strings.Cut(strings.TrimSpace(line), " "); ok && h[0] >= '0' && h[0] <= '9' {
			commit, date = h, d
			break
		}
	}
	if commit == "" {
		t.Skip("no commit of the last 200 has a hash starting with a digit")
	}
	tests := []struct{ describe, want string }{
		{"v1.2.0", "1.2.0"},
		{"v1.2.0-3-g0123abc", "1.2.0+3.g0123abc"},
		{"v1.2.0-3-g0123abc-dirty", "1.2.0+3.g0123abc.dirty"},
		{commit, "0.0~git" + date + "." + commit},
		{commit + "-dirty", "0.0~git" + date + "." + commit + ".dirty"},
		{"dev", "0.0~dev"},
	}
	for _, tc := range tests {
		got := strings.TrimSpace(output(t, "../packaging/deb.sh", "--debversion", tc.describe))
		if got != tc.want || !debVersionRE.MatchString(got) {
			t.Errorf("Debian version of %q: %q, want %q", tc.describe, got, tc.want)
		}
	}
}

// TestDebPackage: make deb builds the amd64 package; its control fields,
// conffiles, files, modes and owners are what they must be; dpkg -i
// installs it; wsexec --version runs from the PATH; systemd-analyze
// verify accepts the installed socket and service; the packaged
// placeholder in /etc/default/wsexec serves (a client is told wsexec is
// not configured); dpkg -r removes all but the conffile, and dpkg --purge
// that too.
func TestDebPackage(t *testing.T) {
	if os.Getenv("WSEXEC_DPKG_TEST") != "1" {
		t.Skip("installs a package into this machine with dpkg -i: set WSEXEC_DPKG_TEST=1 to run it, as root, on a machine of its own (.ci/run does)")
	}
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("WSEXEC_DPKG_TEST=1: dpkg -i needs root")
	}
	for _, tool := range []string{"make", "dpkg", "dpkg-deb", "systemd-analyze"} {
		_, err := exec.LookPath(tool)
		requireClient(t, tool, err)
	}
	if arch := strings.TrimSpace(output(t, "dpkg", "--print-architecture")); arch != "amd64" {
		t.Skipf("the package tested is amd64's; this machine's dpkg is %s", arch)
	}
	if err := exec.Command("dpkg-query", "-W", "wsexec").Run(); err == nil {
		t.Fatal("a wsexec package is installed already: the test would replace and then remove it")
	}

	tmp := t.TempDir()
	mk := exec.Command("make", "--no-print-directory", "deb", "DEBARCHS=amd64",
		"DISTDIR="+filepath.Join(tmp, "dist"), "CROSSDIR="+filepath.Join(tmp, "cross"), "MAN="+filepath.Join(tmp, "wsexec.1"))
	mk.Dir = ".."
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make deb: %v\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "dist", "wsexec_*_amd64.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb wrote %v, want one wsexec_VERSION_amd64.deb", debs)
	}
	deb := debs[0]
	checkDebFile(t, deb)

	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "wsexec").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge wsexec: %v\n%s", err, out)
		}
	})
	output(t, "dpkg", "-i", deb)

	// Debian's default PATH: the package's wsexec must be the one found.
	path := "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	version := exec.Command("sh", "-c", `command -v wsexec && wsexec --version`)
	version.Env = []string{path}
	out, err := version.Output()
	if err != nil || !strings.HasPrefix(string(out), "/usr/bin/wsexec\nwsexec version ") {
		t.Fatalf("wsexec --version from the PATH: %v %q; want /usr/bin/wsexec's", err, out)
	}

	verify := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/wsexec.socket", "/lib/systemd/system/wsexec.service")
	if out, err := verify.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The placeholder, as the service would run it (systemd splits
	// WSEXEC_ARGS at spaces); the socket decides the address, here
	// --port and --address.
	s := launchBinary(t, "/usr/bin/wsexec", nil, nil, append([]string{"--port=0", "--address=127.0.0.1"}, defaultArgs(t)...)...)
	c := dial(t, s.addr, "/", nil)
	if got := readText(t, c); !strings.Contains(got, "not configured") || !strings.Contains(got, "/etc/default/wsexec") {
		t.Fatalf("the packaged placeholder said %q; want it to say wsexec is not configured, and where to configure it", got)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %d after the placeholder, want %d", ce.Code, wsproto.CloseNormal)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("wsexec on SIGTERM: %v", err)
	}

	output(t, "dpkg", "-r", "wsexec")
	for file := range debFiles {
		_, err := os.Stat(file)
		if kept := file == "/etc/default/wsexec"; kept != (err == nil) {
			t.Errorf("after dpkg -r, %s: %v; want it kept only if it is the conffile", file, err)
		}
	}
	output(t, "dpkg", "--purge", "wsexec")
	for _, file := range append(slices.Collect(maps.Keys(debFiles)), "/usr/share/doc/wsexec") {
		if _, err := os.Lstat(file); !os.IsNotExist(err) {
			t.Errorf("after dpkg --purge, %s: %v; want it gone", file, err)
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", "wsexec").CombinedOutput(); err == nil {
		t.Errorf("dpkg-query -W wsexec after the purge: %s; want no such package", out)
	}
}

// checkDebFile checks the package as a file, with dpkg-deb: its control
// fields, its conffiles, and that it holds debFiles (modes, root's) and
// their directories, nothing else.
func checkDebFile(t *testing.T, deb string) {
	t.Helper()
	fields := map[string]string{}
	for _, f := range []string{"Package", "Version", "Architecture", "Maintainer", "Description", "Depends", "Pre-Depends"} {
		fields[f] = strings.TrimSpace(output(t, "dpkg-deb", "--field", deb, f))
	}
	switch {
	case fields["Package"] != "wsexec", fields["Architecture"] != "amd64":
		t.Errorf("control: Package %q, Architecture %q; want wsexec, amd64", fields["Package"], fields["Architecture"])
	case !debVersionRE.MatchString(fields["Version"]):
		t.Errorf("control: Version %q is not a Debian version without a revision", fields["Version"])
	case fields["Depends"] != "" || fields["Pre-Depends"] != "":
		t.Errorf("control: Depends %q, Pre-Depends %q; a static binary depends on nothing", fields["Depends"], fields["Pre-Depends"])
	case !strings.Contains(fields["Maintainer"], "<") || fields["Description"] == "":
		t.Errorf("control: Maintainer %q, Description %q; want both", fields["Maintainer"], fields["Description"])
	}
	if got := strings.TrimSpace(output(t, "dpkg-deb", "--info", deb, "conffiles")); got != "/etc/default/wsexec" {
		t.Errorf("conffiles %q, want /etc/default/wsexec", got)
	}
	dirs := map[string]bool{"/": true}
	for file := range debFiles {
		for d := filepath.Dir(file); d != "/"; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	seen := map[string]bool{}
	for line := range strings.Lines(output(t, "dpkg-deb", "--contents", deb)) {
		// drwxr-xr-x root/root 0 2026-01-01 00:00 ./usr/bin/
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Errorf("dpkg-deb --contents: unexpected line %q", line)
			continue
		}
		mode, owner, path := f[0], f[1], strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
		if path == "" {
			path = "/"
		}
		seen[path] = true
		want, isFile := debFiles[path]
		switch {
		case owner != "root/root":
			t.Errorf("%s is %s's, want root's", path, owner)
		case isFile && mode != want:
			t.Errorf("%s has mode %s, want %s", path, mode, want)
		case !isFile && !dirs[path]:
			t.Errorf("the package holds %s, which it should not", path)
		case !isFile && mode != "drwxr-xr-x":
			t.Errorf("directory %s has mode %s, want drwxr-xr-x", path, mode)
		}
	}
	for file := range debFiles {
		if !seen[file] {
			t.Errorf("the package lacks %s", file)
		}
	}
}

// defaultArgs reads WSEXEC_ARGS from the installed /etc/default/wsexec
// and splits it at spaces, as systemd's $WSEXEC_ARGS in ExecStart does.
func defaultArgs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/etc/default/wsexec")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "WSEXEC_ARGS="); ok {
			return strings.Fields(strings.Trim(v, `"`))
		}
	}
	t.Fatal("no WSEXEC_ARGS in /etc/default/wsexec")
	return nil
}

// output runs a command to its end and returns its stdout, failing the
// test with its stderr if it fails.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	// dpkg runs man-db's trigger, which rebuilds the manual's index: many
	// seconds on a busy machine.
	stdout, stderr, err := runCmdFor(t, exec.Command(name, args...), 2*time.Minute)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return stdout
}

package e2e

// The command line: usage errors, flag spellings, the COMMAND string,
// --version and --license.

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	notExec := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "COMMAND: missing"},
		{"port out of range", []string{"--port=70000", "cat"}, "--port"},
		{"bad log level", []string{"--loglevel=loud", "cat"}, "--loglevel"},
		{"negative closems", []string{"--closems=-1", "cat"}, "--closems"},
		{"negative maxforks", []string{"--maxforks=-1", "cat"}, "--maxforks"},
		{"negative maxframesize", []string{"--maxframesize=-1", "cat"}, "--maxframesize"},
		{"socketmode not octal", []string{"--unixsocket=/tmp/wsexec-never", "--socketmode=999", "cat"}, "--socketmode"},
		{"socketmode without a socket", []string{"--socketmode=0600", "cat"}, "--socketmode"},
		{"anyorigin with origin", []string{"--anyorigin", "--origin=example.com", "cat"}, "--anyorigin"},
		{"missing command", []string{"/nonexistent/program"}, "not found"},
		{"not executable", []string{notExec}, "not executable"},
		{"directory", []string{os.TempDir()}, "directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append([]string{"--port=0", "--address=127.0.0.1"}, tc.args...)...)
		})
	}
}

func TestPolicyUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"origin with path", []string{"--origin=http://a.example/x", "cat"}, "--origin"},
		{"origin bad port", []string{"--origin=a.example:99999", "cat"}, "--origin"},
		{"maxforks-mode", []string{"--maxforks-mode=503", "cat"}, "--maxforks-mode"},
		{"negative pingms", []string{"--pingms=-1", "cat"}, "--pingms"},
		{"pingms past a Duration", []string{"--pingms=5000000000000", "cat"}, "--pingms 5000000000000: must be at most"},
		{"closems past a Duration", []string{"--closems=9223372036854775807", "cat"}, "--closems"},
		{"maxheadersize too small", []string{"--maxheadersize=100", "cat"}, "--maxheadersize: 100 is less than"},
		{"passstderr with binary", []string{"--passstderr", "--binary", "cat"}, "--passstderr"},
		{"subprotocol not a token", []string{"--subprotocol=a b", "cat"}, "--subprotocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append([]string{"--port=0", "--address=127.0.0.1"}, tc.args...)...)
		})
	}
}

func TestSingleDashFlags(t *testing.T) {
	t.Parallel()
	h := headers101(t, "-port=0", "-address", "127.0.0.1", "-header-ws=X-Dash: one", "cat")
	if got := h.Get("X-Dash"); got != "one" {
		t.Fatalf("single-dash flags: X-Dash %q, want one", got)
	}
}

func TestCommandStringIsSplit(t *testing.T) {
	t.Parallel()
	s := startServer(t, `sh -c 'echo "one two"'`)
	c := dial(t, s.addr, "/", nil)
	if got := readText(t, c); got != "one two" {
		t.Fatalf("got %q", got)
	}
}

// TestVersionAndHelp: --version and --help print on stdout, so that
// $(wsexec --version) and wsexec --help | less work, and exit 0 with
// nothing on stderr. The help shows examples first, then the flags in
// their groups, in order, and where the docs are.
func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	out, stderr, err := runBin(t, "--version")
	if err != nil || !strings.HasPrefix(out, "wsexec version ") || stderr != "" {
		t.Fatalf("--version: %v, stdout %q, stderr %q", err, out, stderr)
	}
	out, stderr, err = runBin(t, "--help")
	if err != nil || stderr != "" {
		t.Fatalf("--help: %v, stderr %q", err, stderr)
	}
	rest := out
	for _, want := range []string{
		"Usage:", "Examples:", "wsexec --port=8080 ./count.sh", "--devconsole",
		"Listening:", "--port=PORT", "TLS:", "What is served (routing):", "--dir=DIR", "The program:",
		"Who may connect, and how:", "Limits:", "Logging:", "--logto=WHERE", "Other:", "--version",
		"Documentation:",
	} {
		_, after, ok := strings.Cut(rest, want)
		if !ok {
			t.Fatalf("--help: %q missing or out of order in:\n%s", want, out)
		}
		rest = after
	}
	for i, line := range strings.Split(out, "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, "Documentation:") {
			t.Errorf("--help line %d is %d columns: %q", i+1, len(line), line)
		}
	}
}

// TestFlagErrors: a flag the command line cannot parse is a usage error
// in wsexec's words (exit 2, one line on stderr), not the flag package's
// ("invalid value "abc" for flag -port: parse error").
func TestFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--port=abc", "cat"}, `--port "abc": not a number`},
		{[]string{"-port", "abc", "cat"}, `--port "abc": not a number`},
		{[]string{"--port=99999999999999999999", "cat"}, `--port "99999999999999999999": out of range`},
		{[]string{"--binary=maybe", "cat"}, `--binary "maybe": want true or false`},
		{[]string{"--nosuchflag", "cat"}, "unknown flag --nosuchflag (see --help)"},
		{[]string{"--prot=8080", "cat"}, "unknown flag --prot (did you mean --port?)"},
		{[]string{"--port"}, "--port needs a value"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			_, stderr, _ := runBin(t, tc.args...)
			if want := "wsexec: " + tc.want; !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr %q, want it to start %q", stderr, want)
			}
			runFail(t, tc.want, tc.args...)
		})
	}
}

// TestCommandHint: a COMMAND named without ./ that is a file in the
// working directory (not in PATH) is not found, as in a shell, and the
// error says what was meant.
func TestCommandHint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"buffered.py": 0o755, "plain.py": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{
		"buffered.py": "command not found: buffered.py (did you mean ./buffered.py?)",
		"plain.py":    "command not found: plain.py (./plain.py is here but not executable",
		"absent.py":   "command not found: absent.py",
	} {
		cmd := exec.Command(binPath, "--port=0", "--address=127.0.0.1", name)
		cmd.Dir = dir
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: %v, stderr %q; want status 2 and %q", name, err, stderr.String(), want)
		}
		if name == "absent.py" && strings.Contains(stderr.String(), "did you mean") {
			t.Errorf("%s: a hint for a file that is not there: %q", name, stderr.String())
		}
	}
}

func TestLicense(t *testing.T) {
	t.Parallel()
	out, _, err := runBin(t, "--license")
	want, rerr := os.ReadFile("../LICENSE")
	if err != nil || rerr != nil || out != string(want) || !strings.Contains(out, "MIT") {
		t.Fatalf("--license: %v %v %q", err, rerr, out)
	}
}

// TestPortInUse: a port another program holds is exit status 3, as
// websocketd's "can't start server", with the reason on stderr.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	runExit(t, 3, "address already in use", "--port="+port, "--address=127.0.0.1", "cat")
}

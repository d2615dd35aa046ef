package e2e

// The command line: usage errors, flag spellings, the COMMAND string,
// --version and --license.

import (
	"os"
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
		{"unknown flag", []string{"--nosuchflag", "cat"}, "nosuchflag"},
		{"bad port value", []string{"--port=abc", "cat"}, "port"},
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

func TestVersion(t *testing.T) {
	t.Parallel()
	out, stderr, err := runBin(t, "--version")
	if err != nil || !strings.Contains(out+stderr, "wsexec version") {
		t.Fatalf("--version: %v %q %q", err, out, stderr)
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

//go:build tiny

package main

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/server"
)

// configFor is the tiny build's configFrom for a command line (without
// the program's name), for TestConfigFromArgs.
func configFor(args []string) (server.Config, error) {
	t := newTinyFlags()
	if err := t.parse(args); err != nil {
		return server.Config{}, err
	}
	return configFrom(t, t.fs.Args(), io.Discard, io.Discard)
}

// runTiny runs the command line args (without the program's name) as
// main would.
func runTiny(args ...string) (status int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	status = run(append([]string{"wsexec"}, args...), &out, &errOut)
	return status, out.String(), errOut.String()
}

// TestTinyLacks: every flag the tiny build leaves out, and its alias, is
// a usage error naming it and why, before or after flags it has; never
// ignored, never "unknown".
func TestTinyLacks(t *testing.T) {
	n := 0
	for _, s := range flagSpecs {
		if s.notTiny == "" {
			continue
		}
		for _, name := range append([]string{s.name}, s.aliases...) {
			n++
			arg := "--" + name + "=1"
			if s.kind == boolFlag {
				arg = "--" + name
			}
			for _, args := range [][]string{{arg, "/bin/sh"}, {"-port", "0", arg, "/bin/sh"}} {
				status, stdout, stderr := runTiny(args...)
				want := "wsexec: --" + name + " is not in this build (wsexec tiny leaves out " + s.notTiny + "); use the full build\n"
				if status != 2 || stdout != "" || stderr != want {
					t.Errorf("%q: status %d, stdout %q, stderr %q; want 2 and %q", args, status, stdout, stderr, want)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("the tiny build lacks %d flags; the table lost its notTiny column?", n)
	}
}

// TestTinyKeeps: the flags the brief names are in the tiny build.
func TestTinyKeeps(t *testing.T) {
	keep := strings.Fields(`port address unixsocket uds socketmode binary framing closems passenv maxforks
		maxforks-mode maxframesize maxheadersize headertimeoutms closetimeoutms loglevel logto logformat dir
		header header-ws license origin anyorigin sameorigin pingms subprotocol compression passstderr`)
	tf := newTinyFlags()
	for _, name := range keep {
		if tf.fs.Lookup(name) == nil {
			t.Errorf("--%s is not in the tiny build", name)
		}
	}
	if got := len(tf.primary); got != len(keep) {
		t.Errorf("the tiny build has %d flag names, want %d", got, len(keep))
	}
}

func TestTinyUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--prot=1", "/bin/sh"}, "wsexec: unknown flag --prot (did you mean --port?)\n"},
		{[]string{"--frobnicate", "/bin/sh"}, "wsexec: unknown flag --frobnicate (see --help)\n"},
		{[]string{"--sslkye=x", "/bin/sh"}, "wsexec: unknown flag --sslkye (see --help)\n"}, // no suggestion of a flag it lacks
		{[]string{"--port"}, "wsexec: --port needs a value (--port=VALUE)\n"},
		{[]string{"--port=x", "/bin/sh"}, "wsexec: --port \"x\": not a number\n"},
		{[]string{"--port=0"}, "wsexec: COMMAND: missing: nothing to serve (usage: wsexec [flags] COMMAND [ARGS...] or wsexec [flags] --dir=DIR)\n"},
	} {
		status, stdout, stderr := runTiny(tc.args...)
		if status != 2 || stdout != "" || stderr != tc.want {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want 2 and %q", tc.args, status, stdout, stderr, tc.want)
		}
	}
}

// TestTinyHelp: --help lists the flags the build has, by group, not
// those it lacks, and says what it leaves out.
func TestTinyHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		status, help, stderr := runTiny(arg)
		if status != 0 || stderr != "" {
			t.Fatalf("%s: status %d, stderr %q", arg, status, stderr)
		}
		flat := strings.Join(strings.Fields(help), " ")
		for _, want := range []string{"Usage:", "\nListening:\n  --port=PORT (default 80)\n", "  --unixsocket=PATH, --uds=PATH\n",
			"\nLimits:\n", "  --help, -h\n", "  --version, -v\n", "README.md"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s lacks %q:\n%s", arg, want, help)
			}
		}
		if !strings.Contains(flat, "This is wsexec tiny") {
			t.Errorf("%s does not say it is the tiny build:\n%s", arg, help)
		}
		for _, s := range flagSpecs {
			listed := strings.Contains(help, "\n  --"+s.name+"=") || strings.Contains(help, "\n  --"+s.name+"\n")
			if listed != (s.notTiny == "") {
				t.Errorf("%s: --%s listed = %v, but the tiny build lacks it = %v", arg, s.name, listed, s.notTiny != "")
			}
			if s.notTiny != "" && !strings.Contains(flat, strings.Join(strings.Fields(s.notTiny), " ")) {
				t.Errorf("%s does not say that it leaves out %s", arg, s.notTiny)
			}
		}
	}
}

func TestTinyVersionLicense(t *testing.T) {
	for _, arg := range []string{"--version", "-v"} {
		status, stdout, stderr := runTiny(arg)
		if want := "wsexec version " + versionString() + " (tiny)\n"; status != 0 || stdout != want || stderr != "" {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want 0 and %q", arg, status, stdout, stderr, want)
		}
	}
	if status, stdout, _ := runTiny("--license"); status != 0 || stdout != license {
		t.Errorf("--license: status %d, stdout %.40q...", status, stdout)
	}
}

// TestTinyListenError: a port that cannot be listened on is exit status
// 3, as in the default build.
func TestTinyListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	done := make(chan int, 1)
	var stderr string
	go func() {
		status, _, e := runTiny("--address=127.0.0.1", "--port="+port, "--loglevel=none", "/bin/cat")
		stderr = e
		done <- status
	}()
	select {
	case status := <-done:
		if status != 3 || !strings.Contains(stderr, port) {
			t.Errorf("status %d, stderr %q; want 3 and the port", status, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wsexec is serving on a port already taken")
	}
}

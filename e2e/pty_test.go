package e2e

// --pty: a program's stdout is a terminal, so a program that block-buffers
// a pipe (python3 without -u) sends each line as it prints it; and the
// hint logged when a program without one seems to hold its output.

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// needPython skips a test that needs python3: it is the block-buffering
// program the tests use (its stdout buffers a pipe by 8 KiB).
func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found: these tests need a program that block-buffers a pipe")
	}
}

// TestPtyLineAtOnce: python3 without -u prints a line and then waits for
// stdin; through a pipe the line would stay in its buffer until it exits,
// through the terminal it reaches the client before the client sends
// anything. The program sees a terminal of 80x24 on stdout (by the ioctl
// and the environment), TERM=dumb, and pipes on stdin and stderr.
func TestPtyLineAtOnce(t *testing.T) {
	t.Parallel()
	needPython(t)
	const prog = `import os, sys
size = os.get_terminal_size(1)
print("hello", sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty(), size.columns, size.lines,
      os.environ.get("TERM"), os.environ.get("COLUMNS"), os.environ.get("LINES"))
line = sys.stdin.readline()
print("got", line.strip())
`
	s := startServer(t, "--pty", "python3", "-c", prog)
	c := dial(t, s.addr, "/", nil)
	if got, want := readText(t, c), "hello False True False 80 24 dumb 80 24"; got != want {
		t.Fatalf("first line %q, want %q", got, want)
	}
	write(t, c, wsproto.OpText, []byte("x"))
	if got := readText(t, c); got != "got x" {
		t.Fatalf("second line %q, want \"got x\"", got)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %d %q, want 1000", ce.Code, ce.Reason)
	}
}

// TestPtyNothingLostAtExit: a program that prints many lines and exits at
// once has every line delivered, none with a '\r' (no output processing),
// then the close that its exit status says, as in pipe mode.
func TestPtyNothingLostAtExit(t *testing.T) {
	t.Parallel()
	needPython(t)
	const n = 20000
	for _, tc := range []struct {
		name   string
		status int
		code   uint16
		reason string
	}{
		{"exit 0", 0, wsproto.CloseNormal, ""},
		{"exit 3", 3, wsproto.CloseInternalError, "exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prog := fmt.Sprintf("import sys\nfor i in range(%d): print('line', i)\nsys.exit(%d)", n, tc.status)
			s := startServer(t, "--pty", "python3", "-c", prog)
			c := dial(t, s.addr, "/", nil)
			for i := range n {
				if got, want := readText(t, c), "line "+strconv.Itoa(i); got != want {
					t.Fatalf("message %d: %q, want %q", i, got, want)
				}
			}
			if ce := readClose(t, c); ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Reason, tc.code, tc.reason)
			}
		})
	}
}

// TestPtyChurnLeaksNothing: many short connections through a terminal
// leave the server with no more fds than it had (no master left open) and
// no child.
func TestPtyChurnLeaksNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--loglevel=info", "--pty", "cat")
	if err := echoCycle(s.addr); err != nil { // warm up, then take the idle count
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "no children", func() bool { return len(children(t, s.pid())) == 0 })
	baseFDs := fdCount(t, s.pid())
	for i := range 300 {
		if err := echoCycle(s.addr); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	waitIdle(t, s, baseFDs)
}

// hintLine is the start of the log line that says a program's output may
// be block-buffered.
const hintLine = `msg="no output since input"`

// TestBufferHint: a program that reads its messages and writes nothing is
// named once in the log, with the cures; one that answers is not, nor one
// on a terminal.
func TestBufferHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		args          []string
		answers, hint bool
	}{
		{"silent", []string{"sh", "-c", "cat >/dev/null"}, false, true},
		{"answers", []string{"cat"}, true, false},
		{"silent on a pty", []string{"--pty", "sh", "-c", "cat >/dev/null"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, append([]string{"--loglevel=info"}, tc.args...)...)
			c := dial(t, s.addr, "/", nil)
			hints := func() int { return strings.Count(s.logText(), hintLine) }
			for i := range 2 {
				write(t, c, wsproto.OpText, []byte("message "+strconv.Itoa(i)))
				if tc.answers {
					readText(t, c)
				}
				if tc.hint && i == 0 {
					waitFor(t, 10*time.Second, "the hint", func() bool { return hints() > 0 })
				}
			}
			// Nothing to wait for: give a hint that must not come (another,
			// or one at all) the time it would take, and a bit more.
			time.Sleep(bufferHintWait)
			want := 0
			if tc.hint {
				want = 1
			}
			if n := hints(); n != want {
				t.Fatalf("%d hints in the log, want %d", n, want)
			}
			if tc.hint {
				for _, cure := range []string{"--pty", "python3 -u", "stdbuf -oL"} {
					if !strings.Contains(s.logText(), cure) {
						t.Errorf("the hint does not name %s", cure)
					}
				}
			}
		})
	}
}

// bufferHintWait is longer than the server's wait before the hint (2 s).
const bufferHintWait = 3 * time.Second

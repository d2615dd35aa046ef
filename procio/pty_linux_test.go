package procio

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func init() { osHelpers["tty"] = ttyHelper }

// ttyHelper reports what the program sees of its stdout terminal on one
// line, then writes ttyOutput.
func ttyHelper([]string) int {
	ws, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdout:", err)
		return 1
	}
	tm, err := unix.IoctlGetTermios(1, unix.TCGETS)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdout:", err)
		return 1
	}
	_, inErr := unix.IoctlGetTermios(0, unix.TCGETS)
	_, errErr := unix.IoctlGetTermios(2, unix.TCGETS)
	fmt.Printf("%dx%d opost=%t echo=%t stdin-tty=%t stderr-tty=%t ctty=%t\n",
		ws.Col, ws.Row, tm.Oflag&unix.OPOST != 0, tm.Lflag&unix.ECHO != 0,
		inErr == nil, errErr == nil, stdoutIsCtty())
	os.Stdout.WriteString(ttyOutput)
	return 0
}

// ttyOutput is what ttyHelper writes after its report: a terminal with
// output processing would turn each '\n' into "\r\n".
const ttyOutput = "a\tb\n\x1b[1mbold\x1b[0m\r\n\nlast"

// stdoutIsCtty reports whether the terminal on stdout is the process's
// controlling terminal: tty_nr of /proc/self/stat (0 for none) against
// the device of stdout.
func stdoutIsCtty() bool {
	var st unix.Stat_t
	if unix.Fstat(1, &st) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])) // state, ppid, pgrp, session, tty_nr
	nr, _ := strconv.ParseUint(f[4], 10, 32)
	major, minor := uint32(nr>>8)&0xfff, uint32(nr&0xff)|uint32(nr>>12)&0xfff00
	return nr != 0 && major == unix.Major(st.Rdev) && minor == unix.Minor(st.Rdev)
}

// TestPtyTerminal: with Pty, stdout is a terminal of the window size asked
// for (or the default), in raw mode, and the program's only terminal among
// its stdio; not its controlling terminal; what it writes arrives byte for
// byte.
func TestPtyTerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		size WindowSize
		want string
	}{
		{"default size", WindowSize{}, "80x24"},
		{"asked size", WindowSize{Columns: 132, Rows: 50}, "132x50"},
		{"columns only", WindowSize{Columns: 100}, "100x24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := helper("tty")
			cfg.Pty, cfg.WindowSize = true, tc.size
			cfg.Stderr = func(line []byte) { t.Errorf("stderr: %s", line) }
			p := start(t, cfg)
			out := within(t, 10*time.Second, readAll(p.Stdout()), "stdout EOF")
			want := tc.want + " opost=false echo=false stdin-tty=false stderr-tty=false ctty=false\n" + ttyOutput
			if out != want {
				t.Errorf("stdout\n%q\nwant\n%q", out, want)
			}
			if st := p.Wait(); !st.Success() {
				t.Errorf("exit %v", st)
			}
		})
	}
}

// TestPtyOutput: through a pty, every line a program writes before it
// exits arrives (the master's EIO at hang-up comes after them, and is EOF),
// exit statuses are the program's, and a grandchild still holding the
// terminal does not keep the reader waiting.
func TestPtyOutput(t *testing.T) {
	t.Parallel()
	lines := make([]string, 20000)
	for i := range lines {
		lines[i] = "line " + strconv.Itoa(i)
	}
	for _, tc := range []struct {
		name   string
		cfg    Config
		want   []string
		status int
	}{
		{"many lines then exit", helper("lines", strconv.Itoa(len(lines))), lines, 0},
		{"final line without newline", helper("nonewline"), []string{"first", "last"}, 0},
		{"nothing, exit 3", helper("exit3"), nil, 3},
		{"grandchild holds the terminal", helper("grandchild"), nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Pty, cfg.KillGrace = true, 100*time.Millisecond
			p := start(t, cfg)
			sink := &recordSink{}
			done := make(chan error, 1)
			go func() { done <- NewLineCodec(0).ReadMessages(p.Stdout(), sink) }()
			if err := within(t, 10*time.Second, done, "ReadMessages"); err != nil {
				t.Fatalf("ReadMessages: %v", err)
			}
			if tc.name == "grandchild holds the terminal" {
				if len(sink.msgs) != 1 {
					t.Fatalf("messages %q, want the grandchild's pid", sink.msgs)
				}
				pid, _ := strconv.Atoi(sink.msgs[0])
				if !eventually(10*time.Second, func() bool { return gone(pid) }) {
					t.Errorf("grandchild %d still alive", pid)
				}
			} else if !slices.Equal(sink.msgs, tc.want) {
				t.Errorf("%d messages, want %d; last %q", len(sink.msgs), len(tc.want), sink.msgs[max(0, len(sink.msgs)-3):])
			}
			if st := p.Wait(); st.ExitCode() != tc.status {
				t.Errorf("exit %v, want status %d", st, tc.status)
			}
		})
	}
}

// TestPtyBytesUnchanged: every byte value written to stdin comes back
// from cat through the terminal as it was (raw mode: no '\r' added, no
// eighth bit stripped, no control character acted on).
func TestPtyBytesUnchanged(t *testing.T) {
	t.Parallel()
	cfg := helper("cat")
	cfg.Pty = true
	p := start(t, cfg)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got := readAll(p.Stdout())
	if _, err := p.Stdin().Write(all); err != nil {
		t.Fatal(err)
	}
	p.Stdin().Close()
	if out := within(t, 10*time.Second, got, "stdout EOF"); out != string(all) {
		t.Errorf("stdout %q\nwant %q", out, all)
	}
}

// TestPtyQuiet: a quiet terminal ends ReadMessages with ErrQuiet, and
// NotifyStdout wakes its reader when a line comes, as with a pipe.
func TestPtyQuiet(t *testing.T) {
	t.Parallel()
	cfg := helper("echo")
	cfg.Pty, cfg.Quiet = true, 50*time.Millisecond
	p := start(t, cfg)
	codec, sink := NewLineCodec(0), &recordSink{}
	if err := codec.ReadMessages(p.Stdout(), sink); err != ErrQuiet {
		t.Fatalf("ReadMessages: %v, want ErrQuiet", err)
	}
	woken := make(chan struct{})
	if !p.NotifyStdout(func() { close(woken) }) {
		t.Skip("no watcher")
	}
	io.WriteString(p.Stdin(), "hello\n")
	within(t, 10*time.Second, woken, "NotifyStdout")
	// The echo helper runs until stdin closes: the line, then quiet.
	if err := codec.ReadMessages(p.Stdout(), sink); err != ErrQuiet {
		t.Fatalf("ReadMessages: %v, want the line then ErrQuiet", err)
	}
	if !slices.Equal(sink.msgs, []string{"hello"}) {
		t.Errorf("messages %q, want hello", sink.msgs)
	}
}

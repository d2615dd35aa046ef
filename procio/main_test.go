package procio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv selects a helper mode: the test binary re-runs itself as the
// child program, as the os/exec and net/http/cgi tests do.
const helperEnv = "PROCIO_HELPER"

// helperLife bounds how long a helper that waits for a signal lives, so that a
// failed test leaves nothing running for long.
const helperLife = time.Minute

// testExe is the test binary, run as the child.
var testExe string

// coverDir is the helpers' GOCOVERDIR when the tests run with coverage.
var coverDir string

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "procio test:", err)
		os.Exit(2)
	}
	testExe = exe
	if testing.CoverMode() != "" {
		// The helper is the instrumented test binary: without a directory
		// for its coverage data it complains on stderr, which tests read.
		if coverDir, err = os.MkdirTemp("", "procio-cover"); err != nil {
			fmt.Fprintln(os.Stderr, "procio test:", err)
			os.Exit(2)
		}
	}
	code := m.Run()
	if coverDir != "" {
		os.RemoveAll(coverDir)
	}
	if code == 0 {
		if stacks, ok := leakedGoroutines(); !ok {
			fmt.Fprintf(os.Stderr, "procio test: leaked goroutines:\n%s\n", stacks)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines waits a few seconds for every goroutine running procio
// code, other than this one, the shared watcher and the forker (which live
// as long as the process), to end; it returns their stacks if some do not.
func leakedGoroutines() (string, bool) {
	var leaked []string
	ok := eventually(5*time.Second, func() bool {
		leaked = leaked[:0]
		for _, g := range goroutineStacks()[1:] { // the first is this goroutine
			if strings.Contains(g, "wsexec/procio.") && !strings.Contains(g, "procio.(*watcher).run") &&
				!strings.Contains(g, "procio.forker.run") {
				leaked = append(leaked, g)
			}
		}
		return len(leaked) == 0
	})
	return strings.Join(leaked, "\n\n"), ok
}

// goroutineStacks returns the stack of every goroutine, the caller's first.
func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf)) // bounded: the goroutines are finite
	}
}

// runHelper is the child program. It returns the exit code.
func runHelper(mode string, args []string) int {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch mode {
	case "echo": // each stdin line back to stdout; exits at EOF
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Fprintf(out, "%s\n", sc.Bytes())
			out.Flush()
		}
	case "cat": // stdin to stdout, bytes unchanged
		io.Copy(os.Stdout, os.Stdin)
	case "lines": // args[0] numbered lines
		n, _ := strconv.Atoi(args[0])
		for i := range n {
			fmt.Fprintf(out, "line %d\n", i)
		}
	case "nonewline":
		out.WriteString("first\nlast")
	case "env": // argv[0], the working directory, then the environment
		dir, _ := os.Getwd()
		fmt.Fprintf(out, "argv0=%s\ndir=%s\n", os.Args[0], dir)
		for _, kv := range os.Environ() {
			fmt.Fprintln(out, kv)
		}
	case "ignore": // ignores SIGINT, SIGTERM and stdin's EOF
		signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
		fmt.Fprintln(out, "ready")
		out.Flush()
		io.Copy(io.Discard, os.Stdin)
		time.Sleep(helperLife)
	case "noread": // never reads stdin; dies of SIGINT
		fmt.Fprintln(out, "ready")
		out.Flush()
		time.Sleep(helperLife)
	case "sleep":
		time.Sleep(helperLife)
	case "bulkout": // a 40 KiB line on stdout, then sleeps without reading stdin
		fmt.Fprintf(out, "%s\n", bytes.Repeat([]byte{'x'}, 40<<10))
		out.Flush()
		time.Sleep(helperLife)
	case "grandchild": // forks a sleeper that shares stdout, reports its pid
		exe, _ := os.Executable()
		gc := &exec.Cmd{Path: exe, Args: []string{"sleeper"}, Env: []string{helperEnv + "=sleep"}, Stdout: os.Stdout}
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, gc.Process.Pid)
		out.Flush()
		if len(args) > 0 && args[0] == "wait" {
			io.Copy(io.Discard, os.Stdin)
		}
	case "detach": // forks a sleeper in a process group of its own, holding stdout and stderr; reports its pid and exits
		exe, _ := os.Executable()
		gc := &exec.Cmd{
			Path: exe, Args: []string{"sleeper"}, Env: []string{helperEnv + "=sleep"},
			Stdout: os.Stdout, Stderr: os.Stderr,
			SysProcAttr: &syscall.SysProcAttr{Setpgid: true}, // out of reach of the group's SIGKILL
		}
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, gc.Process.Pid)
	case "parent": // starts an "ignore" program with procio, reports its pid once it is ready, waits to be killed
		exe, _ := os.Executable()
		env := []string{helperEnv + "=ignore"}
		if dir := os.Getenv("GOCOVERDIR"); dir != "" {
			env = append(env, "GOCOVERDIR="+dir)
		}
		p, err := Start(Config{Path: exe, Args: []string{"ignorer"}, Env: env})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Wait for its "ready": a write once the parent is gone would end
		// it with SIGPIPE, and the test would pass without procio's help.
		if _, err := bufio.NewReader(p.Stdout()).ReadString('\n'); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, p.Pid())
		out.Flush()
		time.Sleep(helperLife)
	case "errecho": // each stdin line to stderr; exits at EOF
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Fprintf(os.Stderr, "%s\n", sc.Bytes())
		}
	case "exit3":
		return 3
	case "bigstderr": // one 1 MiB stderr line, a short one, then "done" on stdout
		w := bufio.NewWriter(os.Stderr)
		w.Write(bytes.Repeat([]byte{'x'}, 1<<20))
		w.WriteString("\nshort\r\nunterminated")
		w.Flush()
		fmt.Fprintln(out, "done")
	default:
		if h := osHelpers[mode]; h != nil {
			return h(args)
		}
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		return 2
	}
	return 0
}

// osHelpers are the helper modes of one system's tests, set by their
// files' init.
var osHelpers = map[string]func(args []string) int{}

// helper returns a Config that runs the test binary in the given mode.
func helper(mode string, args ...string) Config {
	env := []string{helperEnv + "=" + mode}
	if coverDir != "" {
		env = append(env, "GOCOVERDIR="+coverDir)
	}
	return Config{
		Path:       testExe,
		Args:       append([]string{"helper"}, args...),
		Env:        env,
		CloseGrace: AtOnce, // the tests that wait set their own
	}
}

// start starts cfg and stops it when the test ends.
func start(t *testing.T, cfg Config) *Process {
	t.Helper()
	p, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// eventually polls cond until it holds or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// gone reports whether pid no longer runs: it does not exist, or it is a
// zombie waiting for an init that may not reap (as in some containers).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// killDetached parses the pid a "detach" helper printed and kills that
// process when the test ends; nothing else would, as it left the group.
func killDetached(t *testing.T, line string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		t.Fatalf("detached pid %q: %v", line, err)
	}
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		if !eventually(10*time.Second, func() bool { return gone(pid) }) {
			t.Errorf("detached process %d still alive after SIGKILL", pid)
		}
	})
	return pid
}

// readAll reads r to EOF in the background; the result arrives on the channel.
func readAll(r io.Reader) <-chan string {
	c := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		c <- string(b)
	}()
	return c
}

// within receives from c, failing the test after d.
func within[T any](t *testing.T, d time.Duration, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
		panic("unreachable")
	}
}

// recordSink records what a codec hands it, as readable events:
// "msg(x)" a text message (or its last fragment), "frag(x)" a fragment with
// more to come, "bin(x)" a binary message, and "flush".
type recordSink struct {
	events []string
	msgs   []string // whole messages, fragments joined
	bins   []bool   // whether each of msgs is binary
	cur    []byte
}

func (s *recordSink) WriteFragment(binary bool, p []byte, fin bool) error {
	kind := "frag"
	switch {
	case binary:
		kind = "bin"
	case fin:
		kind = "msg"
	}
	if binary && !fin {
		kind = "binfrag"
	}
	s.events = append(s.events, kind+"("+string(p)+")")
	s.cur = append(s.cur, p...)
	if fin {
		s.msgs = append(s.msgs, string(s.cur))
		s.bins = append(s.bins, binary)
		s.cur = s.cur[:0]
	}
	return nil
}

func (s *recordSink) Flush() error {
	s.events = append(s.events, "flush")
	return nil
}

// discardSink counts and drops.
type discardSink struct{ n, flushes int }

func (s *discardSink) WriteFragment(_ bool, p []byte, _ bool) error {
	s.n += len(p)
	return nil
}

func (s *discardSink) Flush() error {
	s.flushes++
	return nil
}

// chunkReader returns its data at most size bytes per Read.
type chunkReader struct {
	data []byte
	size int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.size)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// chunksReader returns one chunk per Read (split if p is shorter).
type chunksReader struct{ chunks []string }

func (r *chunksReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func joinLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

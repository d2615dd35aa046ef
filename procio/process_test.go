package procio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestLineEcho(t *testing.T) {
	t.Parallel()
	p := start(t, helper("echo"))
	codec := NewLineCodec(0)
	sink := &recordSink{}
	done := make(chan error, 1)
	go func() { done <- codec.ReadMessages(p.Stdout(), sink) }()
	for _, msg := range []string{"hello", "", "wörld ✓"} {
		if err := codec.WriteMessage(p.Stdin(), Message{Reader: strings.NewReader(msg)}); err != nil {
			t.Fatalf("WriteMessage(%q): %v", msg, err)
		}
	}
	p.Stdin().Close()
	if err := within(t, 10*time.Second, done, "ReadMessages"); err != nil {
		t.Fatalf("ReadMessages: %v", err)
	}
	if want := []string{"hello", "", "wörld ✓"}; !slices.Equal(sink.msgs, want) {
		t.Errorf("messages %q, want %q", sink.msgs, want)
	}
	p.Stop()
	if st := p.Wait(); !st.Success() {
		t.Errorf("exit %v, want success", st)
	}
}

func TestOutput(t *testing.T) {
	t.Parallel()
	lines := make([]string, 1000)
	for i := range lines {
		lines[i] = "line " + strconv.Itoa(i)
	}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"many lines", helper("lines", "1000"), lines},
		{"final line without newline", helper("nonewline"), []string{"first", "last"}},
		{"nothing", helper("exit3"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, tc.cfg)
			sink := &recordSink{}
			if err := NewLineCodec(0).ReadMessages(p.Stdout(), sink); err != nil {
				t.Fatalf("ReadMessages: %v", err)
			}
			if !slices.Equal(sink.msgs, tc.want) {
				t.Errorf("got %d messages, want %d; first %q", len(sink.msgs), len(tc.want), sink.msgs[:min(3, len(sink.msgs))])
			}
		})
	}
}

func TestEnvDirArgs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := helper("env")
	cfg.Env = append(cfg.Env, "A=1", "B=two words")
	cfg.Dir = dir
	p := start(t, cfg)
	out := within(t, 10*time.Second, readAll(p.Stdout()), "read stdout")
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := joinLines(append([]string{"argv0=helper", "dir=" + real}, cfg.Env...)...) // cfg.Env ends with A and B
	if out != want {
		t.Errorf("child saw\n%s\nwant\n%s", out, want)
	}
}

func TestExitStatus(t *testing.T) {
	t.Parallel()
	p := start(t, helper("exit3"))
	within(t, 10*time.Second, p.Done(), "Done")
	st := p.Wait()
	if st.ExitCode() != 3 || ExitReason(st) != "exit status 3" {
		t.Errorf("ExitCode %d, ExitReason %q; want 3, \"exit status 3\"", st.ExitCode(), ExitReason(st))
	}
	p.Stop()
	if p.Wait() != st {
		t.Error("Wait after Stop returned another state")
	}
	if got := ExitReason(nil); got != "not exited" {
		t.Errorf("ExitReason(nil) = %q", got)
	}
}

// readyLine reads the helper's first stdout line, which says it is set up.
func readyLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	c := make(chan string, 1)
	go func() {
		s, _ := r.ReadString('\n')
		c <- strings.TrimSuffix(s, "\n")
	}()
	return within(t, 10*time.Second, c, "first line")
}

func TestStopEscalation(t *testing.T) {
	t.Parallel()
	const slack = 5 * time.Second
	tests := []struct {
		name       string
		mode       string
		closeGrace time.Duration
		killGrace  time.Duration
		want       string
		maxTime    time.Duration // closeGrace + 2×killGrace is the worst case
	}{
		{"exits on stdin close, not signalled", "echo", time.Minute, time.Minute, "exit status 0", slack},
		{"SIGINT at once", "noread", AtOnce, time.Minute, "signal: interrupt", slack},
		{"SIGINT after close grace", "noread", 50 * time.Millisecond, time.Minute, "signal: interrupt", slack},
		{"ignores SIGINT and SIGTERM", "ignore", 100 * time.Millisecond, 100 * time.Millisecond, "signal: killed", 300*time.Millisecond + slack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := helper(tc.mode)
			cfg.CloseGrace, cfg.KillGrace = tc.closeGrace, tc.killGrace
			p := start(t, cfg)
			out := bufio.NewReader(p.Stdout())
			if tc.mode != "echo" {
				if got := readyLine(t, out); got != "ready" {
					t.Fatalf("first line %q", got)
				}
			}
			begin := time.Now()
			p.Stop()
			elapsed := time.Since(begin)
			if got := ExitReason(p.Wait()); got != tc.want {
				t.Errorf("ended with %q, want %q", got, tc.want)
			}
			if elapsed > tc.maxTime {
				t.Errorf("Stop took %v, want at most %v", elapsed, tc.maxTime)
			}
			if _, err := out.ReadByte(); err != io.EOF {
				t.Errorf("stdout after Stop: %v, want EOF", err)
			}
		})
	}
}

func TestStopKillsGrandchild(t *testing.T) {
	t.Parallel()
	cfg := helper("grandchild", "wait") // exits when stdin closes, leaving the grandchild
	cfg.CloseGrace, cfg.KillGrace = time.Minute, 100*time.Millisecond
	p := start(t, cfg)
	pid, err := strconv.Atoi(readyLine(t, bufio.NewReader(p.Stdout())))
	if err != nil {
		t.Fatal(err)
	}
	if gone(pid) {
		t.Fatalf("grandchild %d not running before Stop", pid)
	}
	p.Stop()
	if got := ExitReason(p.Wait()); got != "exit status 0" {
		t.Errorf("ended with %q, want exit status 0", got)
	}
	if !eventually(10*time.Second, func() bool { return gone(pid) }) {
		t.Errorf("grandchild %d still alive after Stop", pid)
	}
}

// A program that exits while something it forked still holds stdout: the
// reader still gets everything and then EOF, and the survivor is killed.
func TestExitWhileGrandchildHoldsStdout(t *testing.T) {
	t.Parallel()
	cfg := helper("grandchild")
	cfg.KillGrace = 100 * time.Millisecond
	p := start(t, cfg)
	out := within(t, 10*time.Second, readAll(p.Stdout()), "stdout EOF")
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if !eventually(10*time.Second, func() bool { return gone(pid) }) {
		t.Errorf("grandchild %d still alive", pid)
	}
	if got := ExitReason(p.Wait()); got != "exit status 0" {
		t.Errorf("ended with %q, want exit status 0", got)
	}
}

// A program that exits while something outside its group holds stdout and
// stderr: the group's SIGKILL misses it, so supervise closes both read ends
// a KillGrace after that SIGKILL, and the reader gets EOF without a Stop.
// (The stderr watch is armed then, so closing stderr must end its reader
// itself.)
func TestExitWhileDetachedHoldsPipes(t *testing.T) {
	t.Parallel()
	const grace = 100 * time.Millisecond
	cfg := helper("detach")
	cfg.KillGrace = grace
	cfg.Stderr = func(line []byte) { t.Errorf("stderr %q", line) }
	p := start(t, cfg)
	br := bufio.NewReader(p.Stdout())
	pid := killDetached(t, readyLine(t, br))
	within(t, 10*time.Second, p.Done(), "Done")
	exited := time.Now()
	// supervise kills the group a grace after the exit and closes the
	// pipes a grace after that; allow a few more for a loaded machine.
	const bound = 20 * grace
	if rest := within(t, bound+10*time.Second, readAll(br), "stdout EOF"); rest != "" {
		t.Errorf("stdout after the pid: %q", rest)
	}
	if d := time.Since(exited); d > bound {
		t.Errorf("stdout EOF %v after the exit, want at most %v", d, bound)
	}
	if gone(pid) {
		t.Errorf("detached process %d gone: it, not procio, may have ended stdout", pid)
	}
	if got := ExitReason(p.Wait()); got != "exit status 0" {
		t.Errorf("ended with %q, want exit status 0", got)
	}
}

func TestStopUnblocksPumps(t *testing.T) {
	t.Parallel()
	cfg := helper("noread")
	p := start(t, cfg)
	out := bufio.NewReader(p.Stdout())
	if got := readyLine(t, out); got != "ready" {
		t.Fatalf("first line %q", got)
	}
	wrote := make(chan error, 1)
	go func() { // fills the pipe, then blocks: the program never reads
		_, err := p.Stdin().Write(make([]byte, 4<<20))
		wrote <- err
	}()
	read := make(chan error, 1)
	go func() { // blocks: the program prints nothing more
		_, err := out.ReadByte()
		read <- err
	}()
	p.Stop()
	if err := within(t, 5*time.Second, wrote, "stdin Write"); err == nil {
		t.Error("stdin Write succeeded although nothing read it")
	}
	if err := within(t, 5*time.Second, read, "stdout Read"); err != io.EOF {
		t.Errorf("stdout Read: %v, want EOF", err)
	}
	if err := p.Stdin().Close(); err != nil {
		t.Errorf("second Close of stdin: %v", err)
	}
}

func TestStderr(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var pieces []string
	cfg := helper("bigstderr")
	cfg.Stderr = func(p []byte) {
		mu.Lock()
		pieces = append(pieces, string(p))
		mu.Unlock()
	}
	p := start(t, cfg)
	if out := within(t, 10*time.Second, readAll(p.Stdout()), "stdout"); out != "done\n" {
		t.Errorf("stdout %q", out)
	}
	p.Stop() // the stderr reader has returned once Stop does
	mu.Lock()
	defer mu.Unlock()
	if len(pieces) < 3 {
		t.Fatalf("%d stderr pieces", len(pieces))
	}
	big := pieces[:len(pieces)-2]
	total := 0
	for i, s := range big {
		if len(s) == 0 || len(s) > 64<<10 || strings.Trim(s, "x") != "" {
			t.Fatalf("piece %d: %d bytes, not only x", i, len(s))
		}
		total += len(s)
	}
	if total != 1<<20 {
		t.Errorf("long line: %d bytes in %d pieces, want %d", total, len(big), 1<<20)
	}
	if tail := pieces[len(pieces)-2:]; !slices.Equal(tail, []string{"short", "unterminated"}) {
		t.Errorf("last lines %q", tail)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	p := start(t, helper("cat"))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	codec := NewBinaryCodec(0)
	sink := &recordSink{}
	done := make(chan error, 1)
	go func() { done <- codec.ReadMessages(p.Stdout(), sink) }()
	if err := codec.WriteMessage(p.Stdin(), Message{Reader: bytes.NewReader(all)}); err != nil {
		t.Fatal(err)
	}
	p.Stdin().Close()
	if err := within(t, 10*time.Second, done, "ReadMessages"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sink.msgs, ""); got != string(all) {
		t.Errorf("round trip changed the bytes: %q", got)
	}
}

func TestWaitAndStopConcurrently(t *testing.T) {
	t.Parallel()
	p := start(t, helper("noread"))
	var wg sync.WaitGroup
	states := make([]*os.ProcessState, 8)
	for i := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				p.Stop()
			}
			states[i] = p.Wait()
		}()
	}
	wg.Wait()
	for i, st := range states {
		if st == nil || st != states[0] {
			t.Fatalf("Wait %d returned %v, want the same state as Wait 0 (%v)", i, st, states[0])
		}
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no path", Config{}, nil},
		{"missing program", Config{Path: "/nonexistent/procio-test"}, os.ErrNotExist},
		{"missing dir", Config{Path: testExe, Dir: "/nonexistent/procio-test"}, os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Start(tc.cfg)
			if err == nil {
				p.Stop()
				t.Fatal("Start succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestForkPastLimit: an EBADF from a fork whose highest descriptor is the
// last the limit allows is the limit (the child had no number to move its
// exec pipe to); any other EBADF, or another error there, is not.
func TestForkPastLimit(t *testing.T) {
	t.Parallel()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	last := uintptr(lim.Cur - 1)
	tests := []struct {
		name  string
		err   error
		files []uintptr
		want  bool
	}{
		{"EBADF with the last descriptor", syscall.EBADF, []uintptr{5, last, 7}, true},
		{"EBADF below the limit", syscall.EBADF, []uintptr{5, 6, 7}, false},
		{"another error with the last descriptor", syscall.EINVAL, []uintptr{5, last, 7}, false},
		{"no error", nil, []uintptr{5, last, 7}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := forkPastLimit(tc.err, tc.files); got != tc.want {
				t.Fatalf("forkPastLimit(%v, %v) = %v, want %v", tc.err, tc.files, got, tc.want)
			}
		})
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(fds)
}

// TestNoLeaks runs every way of ending many times, with a pipe and with a
// pty for stdout, and checks that no fd, no goroutine and no child is
// left. Not parallel: it counts process-wide.
func TestNoLeaks(t *testing.T) {
	cycle := func(t *testing.T, mode string, pty bool) {
		cfg := helper(mode)
		cfg.Pty = pty
		cfg.KillGrace = 20 * time.Millisecond
		cfg.Stderr = func([]byte) {}
		p, err := Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		switch mode {
		case "echo": // the client goes away first
			codec := NewLineCodec(0)
			if err := codec.WriteMessage(p.Stdin(), Message{Reader: strings.NewReader("hi")}); err != nil {
				t.Fatal(err)
			}
			p.Stop()
		case "exit3", "grandchild": // the program ends first; the reader sees EOF
			io.Copy(io.Discard, p.Stdout())
			p.Stop()
		case "noread": // nobody reads stdout
			p.Stop()
		}
		if !gone(p.Pid()) {
			t.Errorf("%s: pid %d still there after Stop", mode, p.Pid())
		}
	}
	cycle(t, "echo", false) // warm up: the poller's fds, runtime goroutines
	fds, goroutines := countFDs(t), runtime.NumGoroutine()
	const n = 40
	for i := range n {
		cycle(t, []string{"echo", "exit3", "noread", "grandchild"}[i%4], runtime.GOOS == "linux" && i%8 >= 4)
	}
	if got := countFDs(t); got != fds {
		t.Errorf("%d fds open after %d cycles, %d before", got, n, fds)
	}
	if !eventually(5*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines }) {
		t.Errorf("%d goroutines after %d cycles, %d before", runtime.NumGoroutine(), n, goroutines)
	}
	var ws syscall.WaitStatus
	if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); !errors.Is(err, syscall.ECHILD) {
		t.Errorf("Wait4 found child %d (err %v): a child was not reaped", pid, err)
	}
}

// TestGraces: a zero Config means the default waits, AtOnce none, and
// anything else itself; server and Stop read them through Graces alone.
func TestGraces(t *testing.T) {
	for _, tc := range []struct {
		close, kill         time.Duration
		wantClose, wantKill time.Duration
	}{
		{0, 0, DefaultCloseGrace, DefaultKillGrace},
		{AtOnce, 0, 0, DefaultKillGrace},
		{-time.Hour, time.Second, 0, time.Second},
		{3 * time.Second, 7 * time.Millisecond, 3 * time.Second, 7 * time.Millisecond},
	} {
		c, k := Config{CloseGrace: tc.close, KillGrace: tc.kill}.Graces()
		if c != tc.wantClose || k != tc.wantKill {
			t.Errorf("Graces(%v, %v) = %v, %v; want %v, %v", tc.close, tc.kill, c, k, tc.wantClose, tc.wantKill)
		}
	}
}

package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// binPath is the wsexec binary built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsexec-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "wsexec")
	// The module root, where package main is: this package's parent.
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if n := settleGoroutines(base); n > base {
			fmt.Fprintf(os.Stderr, "leaked goroutines: %d at start, %d at end\n", base, n)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// settleGoroutines waits up to 5 s for the goroutine count to come back to
// base and returns the last count seen.
func settleGoroutines(base int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling a counter, not synchronising
		n = runtime.NumGoroutine()
	}
	return n
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// instance is a running wsexec binary.
type instance struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	log    bytes.Buffer
	exited chan struct{}
	err    error // cmd.Wait's result, once exited is closed
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer runs wsexec on a free loopback port with args (flags, then
// the command) and waits until it logs its address.
func startServer(t *testing.T, args ...string) *instance {
	t.Helper()
	return launch(t, append([]string{"--port=0", "--address=127.0.0.1"}, args...)...)
}

// launch runs wsexec with exactly args (plus a short --closems and debug
// logging) and waits for its first listening line; unlike startServer it
// adds no --port or --address.
func launch(t *testing.T, args ...string) *instance {
	t.Helper()
	all := append([]string{"--closems=200", "--loglevel=debug"}, args...)
	s := &instance{t: t, cmd: exec.Command(binPath, all...), exited: make(chan struct{})}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.addr = <-addr:
	case <-s.exited:
		t.Fatalf("wsexec exited before listening: %v\n%s", s.err, s.logText())
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		t.Fatalf("wsexec did not log its address\n%s", s.logText())
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("wsexec log:\n%s", s.logText())
		}
	})
	return s
}

func (s *instance) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *instance) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM and waits for the server to exit, killing it after a
// bound. It returns cmd.Wait's error.
func (s *instance) stop() error {
	select {
	case <-s.exited:
		return s.err
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("wsexec did not exit within 20 s of SIGTERM")
	}
	return s.err
}

// dial opens a WebSocket to the server as a client and fails the test if
// the handshake does not succeed.
func dial(t *testing.T, addr, target string, hdr http.Header) *wsproto.Conn {
	t.Helper()
	c, resp, err := dialWS(addr, target, hdr)
	if err != nil {
		t.Fatalf("dial %s%s: %v", addr, target, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("dial %s%s: status %s", addr, target, resp.Status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialWS performs a client handshake; see wstest.Dial.
func dialWS(addr, target string, hdr http.Header) (*wsproto.Conn, *http.Response, error) {
	return wstest.Dial(addr, target, hdr)
}

// readText reads one message and fails unless it is text.
func readText(t *testing.T, c *wsproto.Conn) string {
	t.Helper()
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	op, p, err := c.ReadMessage(nil)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if op != wsproto.OpText {
		t.Fatalf("read: opcode %v, want text", op)
	}
	return string(p)
}

// readPID reads one text message holding a process id and fails unless
// it is a positive number: a pid of 0 would make alive report false at
// once, and a check that the program is gone would pass without meaning.
func readPID(t *testing.T, c *wsproto.Conn) int {
	t.Helper()
	s := readText(t, c)
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		t.Fatalf("want a process id, got %q", s)
	}
	return pid
}

// readClose reads until the server's close frame and returns it.
func readClose(t *testing.T, c *wsproto.Conn) *wsproto.CloseError {
	t.Helper()
	c.NetConn().SetReadDeadline(time.Now().Add(15 * time.Second))
	for i := 0; i < 1_000_000; i++ {
		_, p, err := c.ReadMessage(nil)
		if err == nil {
			t.Logf("message before close: %q", truncate(p))
			continue
		}
		var ce *wsproto.CloseError
		if !errors.As(err, &ce) || !ce.Remote {
			t.Fatalf("want the server's close frame, got %v", err)
		}
		return ce
	}
	t.Fatal("no close frame after a million messages")
	return nil
}

func truncate(p []byte) []byte {
	if len(p) > 80 {
		return p[:80]
	}
	return p
}

func write(t *testing.T, c *wsproto.Conn, op wsproto.Opcode, p []byte) {
	t.Helper()
	c.NetConn().SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(op, p); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// echo sends msg as text and fails unless the same text comes back. The
// failure shows the start of each message and its length, as a megabyte
// printed in full would bury the log.
func echo(t *testing.T, c *wsproto.Conn, msg string) {
	t.Helper()
	write(t, c, wsproto.OpText, []byte(msg))
	if got := readText(t, c); got != msg {
		t.Fatalf("echo of %q (%d bytes): got %q (%d bytes)", truncate([]byte(msg)), len(msg), truncate([]byte(got)), len(got))
	}
}

// echoCycle is one short connection to a server running cat: dial, echo
// "hi", close, and wait until the server closes TCP. It returns an error
// rather than failing the test so that it can run in many goroutines.
func echoCycle(addr string) error {
	c, resp, err := dialWS(addr, "/", nil)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("status %s", resp.Status)
	}
	defer c.Close()
	c.NetConn().SetDeadline(time.Now().Add(20 * time.Second))
	if err := c.WriteMessage(wsproto.OpText, []byte("hi")); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return err
	}
	if _, p, err := c.ReadMessage(nil); err != nil || string(p) != "hi" {
		return fmt.Errorf("echo %q: %v", p, err)
	}
	c.WriteClose(wsproto.CloseNormal, "")
	for range 10 {
		if _, _, err := c.ReadMessage(nil); err != nil {
			break
		}
	}
	// The server closes TCP once the program is reaped: waiting for it
	// means the program is gone when this returns, however slowly a
	// loaded machine reaps, so a caller looping over cycles runs one
	// program at a time.
	_, err = io.Copy(io.Discard, c.NetConn())
	return err
}

// procState returns the state letter of pid from /proc ('R', 'S', 'Z'...),
// or 0 when there is no such process.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// alive reports whether pid is a process that has not exited. A zombie
// whose parent is not this test (an orphan waiting for init) counts as gone.
func alive(pid int) bool {
	s := procState(pid)
	return s != 0 && s != 'Z'
}

// children lists the direct children of pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, w := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(w)
			out = append(out, n)
		}
	}
	return out
}

func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitIdle waits until server s has no programs left and no more fds open
// than baseFDs, its count when idle.
func waitIdle(t *testing.T, s *instance, baseFDs int) {
	t.Helper()
	waitFor(t, 10*time.Second, "children to be reaped", func() bool { return len(children(t, s.pid())) == 0 })
	waitFor(t, 10*time.Second, fmt.Sprintf("fds back to %d", baseFDs), func() bool { return fdCount(t, s.pid()) <= baseFDs })
}

// memKiB reads a Vm* field (VmRSS, VmHWM) of pid in KiB.
func memKiB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// readEnv reads VAR=value messages until the server closes and returns them.
func readEnv(t *testing.T, c *wsproto.Conn) map[string]string {
	t.Helper()
	env := map[string]string{}
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < 10000; i++ {
		_, p, err := c.ReadMessage(nil)
		if err != nil {
			var ce *wsproto.CloseError
			if !errors.As(err, &ce) || ce.Code != wsproto.CloseNormal {
				t.Fatalf("want close 1000 after the environment, got %v", err)
			}
			return env
		}
		if k, v, ok := strings.Cut(string(p), "="); ok {
			env[k] = v
		}
	}
	t.Fatal("no end to the environment")
	return nil
}

func TestEchoThroughCat(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	c := dial(t, s.addr, "/", nil)
	for _, msg := range []string{"hello", "", "héllo wörld ✓", strings.Repeat("z", 5000)} {
		echo(t, c, msg)
	}
}

func TestCounterLineByLine(t *testing.T) {
	t.Parallel()
	s := startServer(t, "../examples/bash/count.sh", "3")
	c := dial(t, s.addr, "/", nil)
	for i := 1; i <= 3; i++ {
		if got := readText(t, c); got != strconv.Itoa(i) {
			t.Fatalf("line %d: got %q", i, got)
		}
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %d %q, want 1000", ce.Code, ce.Reason)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	s := startServer(t, "../examples/bash/env.sh")
	hdr := http.Header{}
	hdr.Set("X-Custom", "custom value")
	hdr.Add("X-Repeated", "one")
	hdr.Add("X-Repeated", "two")
	hdr.Set("Proxy", "http://evil.example:3128")
	hdr.Set("User-Agent", "wsexec-test")
	env := readEnv(t, dial(t, s.addr, "/some/path?name=bob&x=1", hdr))
	host, port, _ := net.SplitHostPort(s.addr)
	want := map[string]string{
		"QUERY_STRING":      "name=bob&x=1",
		"REQUEST_URI":       "/some/path?name=bob&x=1",
		"SCRIPT_NAME":       "/some/path",
		"PATH_INFO":         "",
		"REQUEST_METHOD":    "GET",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_NAME":       host,
		"SERVER_PORT":       port,
		"REMOTE_ADDR":       "127.0.0.1",
		"REMOTE_HOST":       "127.0.0.1",
		"HTTP_HOST":         s.addr,
		"HTTP_X_CUSTOM":     "custom value",
		"HTTP_X_REPEATED":   "one, two",
		"HTTP_USER_AGENT":   "wsexec-test",
		"HTTP_UPGRADE":      "websocket",
		"AUTH_TYPE":         "",
		"REMOTE_USER":       "",
		"UNIQUE_ID":         "1",
		"PATH":              os.Getenv("PATH"),
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS", "HOME"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s is set (%q); it must not be", k, v)
		}
	}
	if !strings.HasPrefix(env["SERVER_SOFTWARE"], "wsexec/") {
		t.Errorf("SERVER_SOFTWARE = %q", env["SERVER_SOFTWARE"])
	}
	if _, err := strconv.Atoi(env["REMOTE_PORT"]); err != nil {
		t.Errorf("REMOTE_PORT = %q", env["REMOTE_PORT"])
	}
}

func TestFinalLineWithoutNewline(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sh", "-c", `printf 'first\nlast'`)
	c := dial(t, s.addr, "/", nil)
	if got := readText(t, c); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	if got := readText(t, c); got != "last" {
		t.Fatalf("got %q, want last", got)
	}
	readClose(t, c)
}

func TestExitStatusCloseCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   uint16
		reason string
	}{
		{"exit 0", []string{"true"}, wsproto.CloseNormal, ""},
		{"exit 3", []string{"sh", "-c", "echo bye; exit 3"}, wsproto.CloseInternalError, "exit status 3"},
		{"killed", []string{"sh", "-c", "kill -9 $$"}, wsproto.CloseInternalError, "signal: killed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tc.args...)
			c := dial(t, s.addr, "/", nil)
			ce := readClose(t, c)
			if ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Reason, tc.code, tc.reason)
			}
		})
	}
}

// pids reads "PID GRANDCHILD_PID" printed by the program.
func pids(t *testing.T, c *wsproto.Conn) (int, int) {
	t.Helper()
	f := strings.Fields(readText(t, c))
	if len(f) != 2 {
		t.Fatalf("want two pids, got %q", f)
	}
	a, _ := strconv.Atoi(f[0])
	b, _ := strconv.Atoi(f[1])
	if a <= 0 || b <= 0 {
		t.Fatalf("bad pids %q", f)
	}
	return a, b
}

func TestClientCloseStopsProgram(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
	}{
		{"exits on stdin close", `sleep 1000 & echo $$ $!; cat`},
		{"ignores stdin close", `sleep 1000 & echo $$ $!; while :; do sleep 1; done`},
		{"ignores SIGINT and SIGTERM", `trap '' INT TERM; sleep 1000 & echo $$ $!; while :; do sleep 1; done`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "sh", "-c", tc.script)
			c := dial(t, s.addr, "/", nil)
			prog, grandchild := pids(t, c)
			c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
			if err := c.WriteClose(wsproto.CloseNormal, "bye"); err != nil {
				t.Fatal(err)
			}
			var ce *wsproto.CloseError
			if _, _, err := c.ReadMessage(nil); !errors.As(err, &ce) || ce.Code != wsproto.CloseNormal {
				t.Fatalf("want the server to echo close 1000, got %v", err)
			}
			// closems 200 ms + SIGINT, SIGTERM, SIGKILL 500 ms apart.
			waitFor(t, 5*time.Second, "the program and its grandchild to be gone", func() bool {
				return !alive(prog) && !alive(grandchild)
			})
		})
	}
}

func TestClientVanishesStopsProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sh", "-c", `sleep 1000 & echo $$ $!; cat`)
	c := dial(t, s.addr, "/", nil)
	prog, grandchild := pids(t, c)
	c.NetConn().(*net.TCPConn).SetLinger(0) // RST, no close frame
	c.Close()
	waitFor(t, 5*time.Second, "the program and its grandchild to be gone", func() bool {
		return !alive(prog) && !alive(grandchild)
	})
	// A vanished client is an abnormal closure (1006), not a shutdown.
	waitFor(t, 5*time.Second, "the disconnect line", func() bool {
		return strings.Contains(s.logText(), "msg=disconnect")
	})
	if log := s.logText(); !regexp.MustCompile(`msg=disconnect .*code=1006`).MatchString(log) {
		t.Fatalf("disconnect not logged with code 1006:\n%s", log)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--binary", "cat")
	c := dial(t, s.addr, "/", nil)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	write(t, c, wsproto.OpBinary, all)
	var got []byte
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(got) < len(all) {
		op, p, err := c.ReadMessage(nil)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		if op != wsproto.OpBinary {
			t.Fatalf("opcode %v, want binary", op)
		}
		got = append(got, p...)
	}
	if !bytes.Equal(got, all) {
		t.Fatalf("round trip changed the bytes:\n got %x\nwant %x", got, all)
	}
}

func TestLongLines(t *testing.T) {
	t.Parallel()
	t.Run("1 MiB echoed as one message", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "cat")
		c := dial(t, s.addr, "/", nil)
		echo(t, c, strings.Repeat("0123456789abcdef", 1<<16))
	})
	t.Run("16 MiB streamed in bounded memory", func(t *testing.T) {
		t.Parallel()
		const n = 16 << 20
		s := startServer(t, "sh", "-c", fmt.Sprintf(`head -c %d /dev/zero | tr '\0' a; echo; echo end`, n))
		before := memKiB(t, s.pid(), "VmRSS")
		c := dial(t, s.addr, "/", nil)
		c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
		op, r, err := c.NextReader()
		if err != nil || op != wsproto.OpText {
			t.Fatalf("next message: %v %v", op, err)
		}
		var total int
		buf := make([]byte, 64<<10)
		for {
			k, err := r.Read(buf)
			if bytes.Count(buf[:k], []byte("a")) != k {
				t.Fatalf("byte other than 'a' after %d bytes", total)
			}
			total += k
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", total, err)
			}
		}
		if total != n {
			t.Fatalf("got %d bytes, want %d", total, n)
		}
		if got := readText(t, c); got != "end" {
			t.Fatalf("next line %q, want end", got)
		}
		peak := memKiB(t, s.pid(), "VmHWM")
		if grew := peak - before; grew > 8<<10 {
			t.Fatalf("server peak RSS grew by %d KiB streaming a %d MiB line; want under 8 MiB", grew, n>>20)
		}
		t.Logf("server RSS %d KiB before, peak %d KiB", before, peak)
	})
}

func TestSequentialConnectionsLeakNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--loglevel=info", "cat")
	if err := echoCycle(s.addr); err != nil { // warm up, then take the idle count
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "no children", func() bool { return len(children(t, s.pid())) == 0 })
	baseFDs := fdCount(t, s.pid())
	const n = 1000
	for i := 0; i < n; i++ {
		if err := echoCycle(s.addr); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	waitIdle(t, s, baseFDs)
}

func TestSlowClientBlocksProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "yes", "flood")
	before := memKiB(t, s.pid(), "VmRSS")
	c := dial(t, s.addr, "/", nil) // and never read
	var child int
	waitFor(t, 5*time.Second, "the program to start", func() bool {
		if kids := children(t, s.pid()); len(kids) == 1 {
			child = kids[0]
			return true
		}
		return false
	})
	// Blocked means asleep in a pipe write: sample until it is seen asleep
	// many times in a row.
	asleep := 0
	waitFor(t, 20*time.Second, "the flooding program to block", func() bool {
		if procState(child) == 'S' {
			asleep++
		} else {
			asleep = 0
		}
		return asleep >= 20
	})
	if grew := memKiB(t, s.pid(), "VmHWM") - before; grew > 16<<10 {
		t.Fatalf("server peak RSS grew by %d KiB with a client not reading; want under 16 MiB", grew)
	}
	c.Close()
	waitFor(t, 5*time.Second, "the program to be gone", func() bool { return !alive(child) })
}

func TestShutdownClosesEveryConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	const n = 20
	conns := make([]*wsproto.Conn, n)
	for i := range conns {
		conns[i] = dial(t, s.addr, "/", nil)
		echo(t, conns[i], "up")
	}
	kids := children(t, s.pid())
	if len(kids) != n {
		t.Fatalf("%d programs running, want %d", len(kids), n)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if ce := readClose(t, c); ce.Code != wsproto.CloseGoingAway {
			t.Errorf("conn %d: close %d %q, want 1001", i, ce.Code, ce.Reason)
		}
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("wsexec exited with %v after SIGTERM, want status 0", s.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsexec still running 15 s after SIGTERM")
	}
	for _, pid := range kids {
		if alive(pid) {
			t.Errorf("program %d still running after shutdown", pid)
		}
	}
}

func TestMaxForks(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxforks=1", "cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "one")
	_, resp, err := dialWS(s.addr, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second connection: %s, want 429", resp.Status)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "maxforks") {
		t.Errorf("429 body %q does not name the limit", body)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	tests := []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"version 8", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusUpgradeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := dialWS(s.addr, "/", tc.hdr)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d", resp.Status, tc.status)
			}
		})
	}
	t.Run("plain GET", func(t *testing.T) {
		resp, err := http.Get("http://" + s.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired {
			t.Fatalf("status %s, want 426", resp.Status)
		}
	})
	if n := len(children(t, s.pid())); n != 0 {
		t.Fatalf("%d programs started by refused handshakes", n)
	}
}

func TestDevConsole(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--devconsole", "cat")
	resp, err := http.Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %s, type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !bytes.Contains(body, []byte("WebSocket")) {
		t.Fatalf("page does not look like the console: %.200s", body)
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
		{"no command", nil, "no command"},
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

// runFail runs wsexec with args, expects it to exit 2 (a usage error)
// with one line on stderr holding want, and to never listen.
func runFail(t *testing.T, want string, args ...string) {
	t.Helper()
	runExit(t, 2, want, args...)
}

// runExit runs wsexec with args, expects it to exit with status with one
// line on stderr holding want, and to never listen.
func runExit(t *testing.T, status int, want string, args ...string) {
	t.Helper()
	runExitWants(t, status, []string{want}, args...)
}

// runExitWants is runExit with a line that must hold every one of wants.
func runExitWants(t *testing.T, status int, wants []string, args ...string) {
	t.Helper()
	_, stderr, err := runBin(t, args...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != status {
		t.Fatalf("%v: exit %v, want status %d; stderr %q", args, err, status, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("%v: stderr %q: want one line", args, stderr)
	}
	for _, want := range wants {
		if !strings.Contains(lines[0], want) {
			t.Fatalf("%v: stderr %q: want one line mentioning %q", args, stderr, want)
		}
	}
	// The log line, not the word: "another server is listening" is an
	// error that names it.
	if strings.Contains(stderr, "msg=listening") {
		t.Fatalf("%v: it listened before refusing", args)
	}
}

// runBin runs wsexec with args to its end, killed after 10 s (a failure),
// and returns its stdout, its stderr and Wait's error.
func runBin(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return stdout.String(), stderr.String(), err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v: still running after 10 s; stderr %q", args, stderr.String())
		return "", "", nil
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, stderr, err := runBin(t, "--version")
	if err != nil || !strings.Contains(out+stderr, "wsexec version") {
		t.Fatalf("--version: %v %q %q", err, out, stderr)
	}
}

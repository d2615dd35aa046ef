package e2e

// TestMain builds the binary; the helpers below, shared by every file of
// the package, run it, talk to it and watch its processes.

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// listeningRE and listeningJSONRE find a listening line's address, in
// each --logformat. Each starts with a literal, which regexp finds fast:
// lines of 64 KiB of a program's stderr go past them.
var (
	listeningRE     = regexp.MustCompile(`msg=listening addr=(\S+)`)
	listeningJSONRE = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
)

// startServer runs wsexec on a free loopback port with args (flags, then
// the command) and waits until it logs its address.
func startServer(t *testing.T, args ...string) *instance {
	t.Helper()
	return launch(t, append([]string{"--port=0", "--address=127.0.0.1"}, args...)...)
}

// launch runs wsexec with exactly args (plus a short --closems and debug
// logging) and waits for its first listening line; unlike startServer it
// adds no --port or --address. Its log, from stdout and stderr both, is
// in logText.
func launch(t *testing.T, args ...string) *instance {
	t.Helper()
	return launchUnder(t, nil, args...)
}

// launchUnder is launch with wsexec run by wrapper (a command that ends by
// exec'ing its arguments, such as sh -c 'ulimit ...; exec "$0" "$@"'), or
// directly when wrapper is nil.
func launchUnder(t *testing.T, wrapper []string, args ...string) *instance {
	t.Helper()
	return launchWith(t, nil, wrapper, args...)
}

// launchWith is launchUnder with setup, if not nil, called on the command
// before it starts (to give it an environment or files).
func launchWith(t *testing.T, setup func(*exec.Cmd), wrapper []string, args ...string) *instance {
	t.Helper()
	return launchBinary(t, binPath, setup, wrapper, args...)
}

// launchBinary is launchWith for a wsexec binary other than the one
// TestMain built (another target's, or another build's).
func launchBinary(t *testing.T, bin string, setup func(*exec.Cmd), wrapper []string, args ...string) *instance {
	t.Helper()
	all := append([]string{bin, "--closems=200", "--loglevel=debug"}, args...)
	all = append(slices.Clone(wrapper), all...)
	s := &instance{t: t, cmd: exec.Command(all[0], all[1:]...), exited: make(chan struct{})}
	if setup != nil {
		setup(s.cmd)
	}
	// The log (stdout unless --logto says otherwise) and stderr (errors)
	// are read together, in the order written, as one text.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = w, w
	err = s.cmd.Start()
	w.Close()
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		defer out.Close()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			m := listeningRE.FindStringSubmatch(line)
			if m == nil {
				m = listeningJSONRE.FindStringSubmatch(line)
			}
			if m != nil {
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
	stdout, stderr, err := runBin(t, args...)
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
	if strings.Contains(stdout+stderr, "msg=listening") {
		t.Fatalf("%v: it listened before refusing", args)
	}
}

// runBin runs wsexec with args to its end, killed after 10 s (a failure),
// and returns its stdout, its stderr and Wait's error.
func runBin(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runCmd(t, exec.Command(binPath, args...))
}

// runCmd is runBin for a command made by the caller.
func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, error) {
	t.Helper()
	return runCmdFor(t, cmd, 10*time.Second)
}

// runCmdFor is runCmd with the bound d instead of 10 s.
func runCmdFor(t *testing.T, cmd *exec.Cmd, d time.Duration) (string, string, error) {
	t.Helper()
	args := cmd.Args
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
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v: still running after %v; stderr %q", args, d, stderr.String())
		return "", "", nil
	}
}

// tcpEstablished reports whether pid holds an accepted TCP socket besides
// its listener, from its fds (a socket fd other than the listener's).
func tcpEstablished(t *testing.T, pid int) bool {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	sockets := 0
	for _, e := range ents {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			sockets++
		}
	}
	return sockets >= 2
}

// rawConn opens a plain TCP connection to the server with a deadline that
// bounds the whole test step.
func rawConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	return nc
}

// rawUpgrade completes a handshake by hand and returns the connection and
// the reader holding what the server sent after its 101, for tests that
// read the server's frames without a wsproto.Conn.
func rawUpgrade(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc := rawConn(t, addr)
	if _, err := io.WriteString(nc, upgradeRequest+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s", resp.Status)
	}
	return nc, br
}

// upgradeRequest is a valid upgrade request without its final blank line.
const upgradeRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

// rawResponse is what the server answered to a request sent byte for byte.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawRequest sends a request whose target is written exactly as given (no
// cleaning, no re-encoding), with a WebSocket upgrade's headers when
// upgrade is set, and returns the answer.
func rawRequest(t *testing.T, addr, method, target string, upgrade bool, extra ...string) rawResponse {
	t.Helper()
	r, err := rawDo(addr, method, target, upgrade, extra...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return r
}

// rawDo is rawRequest for any goroutine: it returns its error.
func rawDo(addr, method, target string, upgrade bool, extra ...string) (rawResponse, error) {
	return rawSend(addr, method, rawHead(method, target, addr, upgrade, extra...))
}

// rawHead writes a whole request as rawRequest sends it, with host as its
// Host header.
func rawHead(method, target, host string, upgrade bool, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	if upgrade {
		b.WriteString("Upgrade: websocket\r\nConnection: Upgrade, close\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	} else {
		b.WriteString("Connection: close\r\n")
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// rawSend sends raw, a whole request, byte for byte on a new connection and
// returns the answer; method is the request's, for reading the answer.
func rawSend(addr, method, raw string) (rawResponse, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return rawResponse{}, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(nc, raw); err != nil {
		return rawResponse{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), &http.Request{Method: method})
	if err != nil {
		return rawResponse{}, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	var body []byte
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// upgrade asks addr for a WebSocket and returns the response, closing the
// connection if it was accepted.
func upgrade(addr string, hdr http.Header) (*http.Response, error) {
	c, resp, err := dialWS(addr, "/", hdr)
	if c != nil {
		c.Close()
	}
	return resp, err
}

// upgrade101 asks addr for a WebSocket, fails unless the answer is a 101,
// and returns the 101's headers.
func upgrade101(t *testing.T, addr string) http.Header {
	t.Helper()
	resp, err := upgrade(addr, nil)
	if err != nil {
		t.Fatalf("upgrade at %s: %v", addr, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade at %s: %s, want 101", addr, resp.Status)
	}
	return resp.Header
}

// headers101 launches wsexec with args, as launch does, and returns the
// headers of its 101 to an upgrade, failing unless it is a 101.
func headers101(t *testing.T, args ...string) http.Header {
	t.Helper()
	return upgrade101(t, launch(t, args...).addr)
}

// accepted dials with hdr, checks the echo of one message through cat and
// closes.
func accepted(t *testing.T, addr string, hdr http.Header) {
	t.Helper()
	c := dial(t, addr, "/", hdr)
	echo(t, c, "ping")
	c.WriteClose(wsproto.CloseNormal, "")
}

func origin(v ...string) http.Header {
	if len(v) == 0 {
		return nil
	}
	return http.Header{"Origin": v}
}

// countingConn counts the bytes read from the network.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// dialCounting dials addr offering hdr and returns the Conn, the response
// and the counter of bytes received.
func dialCounting(t *testing.T, addr string, hdr http.Header) (*wsproto.Conn, *http.Response, *countingConn) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: nc}
	c, resp, err := wstest.Handshake(cc, addr, "/", hdr)
	if err != nil || c == nil {
		nc.Close()
		t.Fatalf("handshake: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp, cc
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// shortTempDir is a temporary directory with a path short enough for a
// Unix socket (108 bytes on Linux; t.TempDir's can be longer).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// routeTree is the directory tree the routing and path tests serve.
type routeTree struct {
	base    string // holds everything below
	www     string // --staticdir
	ws      string // --dir, inside www
	cgi     string // --cgidir, inside www
	outside string // a directory next to www that nothing may reach
}

// Markers: text that must never reach a client that asked for something
// outside what is served.
const (
	evilMark   = "EVIL-OUTSIDE"       // in outside/evil.sh, its source and output
	sourceMark = "SCRIPT-SOURCE-MARK" // in the source of every script under www
)

// newRouteTree builds:
//
//	outside/evil.sh                 executable; prints evilMark (also a CGI header)
//	www/hello.txt, www/.secret, www/.git/config
//	www/pub/index.html, www/pub/a.txt, www/pub/.b.txt
//	www/link-out -> ../outside
//	www/ws/env.sh                   executable; prints its environment
//	www/ws/sub/deeper/env.sh        the same
//	www/ws/inlink.sh -> env.sh
//	www/ws/notexec.sh               0644
//	www/ws/.hidden.sh               executable
//	www/ws/evil.sh -> ../../outside/evil.sh
//	www/ws/escape -> ../../outside
//	www/cgi-bin/hello.cgi           executable CGI; prints its environment
//	www/cgi-bin/plain.cgi           0644
//	www/cgi-bin/.hidden.cgi         executable
//	www/cgi-bin/evil.cgi -> ../../outside/evil.sh
func newRouteTree(t *testing.T) routeTree {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rt := routeTree{
		base:    base,
		www:     filepath.Join(base, "www"),
		ws:      filepath.Join(base, "www", "ws"),
		cgi:     filepath.Join(base, "www", "cgi-bin"),
		outside: filepath.Join(base, "outside"),
	}
	envScript := "#!/bin/sh\n# " + sourceMark + "\nenv\n"
	cgiScript := "#!/bin/sh\n# " + sourceMark + "\necho cgi-stderr-line >&2\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nenv\n"
	evil := "#!/bin/sh\n# " + evilMark + "\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho " + evilMark + "\n"
	files := []struct {
		name, body string
		mode       os.FileMode
	}{
		{"outside/evil.sh", evil, 0o755},
		{"www/hello.txt", "hello static\n", 0o644},
		{"www/.secret", "SECRET\n", 0o644},
		{"www/.git/config", "SECRET\n", 0o644},
		{"www/pub/index.html", "<h1>pub index</h1>\n", 0o644},
		{"www/pub/a.txt", "a\n", 0o644},
		{"www/pub/.b.txt", "SECRET\n", 0o644},
		{"www/ws/env.sh", envScript, 0o755},
		{"www/ws/sub/deeper/env.sh", envScript, 0o755},
		{"www/ws/notexec.sh", envScript, 0o644},
		{"www/ws/.hidden.sh", envScript, 0o755},
		{"www/cgi-bin/hello.cgi", cgiScript, 0o755},
		{"www/cgi-bin/plain.cgi", cgiScript, 0o644},
		{"www/cgi-bin/.hidden.cgi", cgiScript, 0o755},
	}
	for _, f := range files {
		p := filepath.Join(base, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{
		{"../outside", "www/link-out"},
		{"env.sh", "www/ws/inlink.sh"},
		{"../../outside/evil.sh", "www/ws/evil.sh"},
		{"../../outside", "www/ws/escape"},
		{"../../outside/evil.sh", "www/cgi-bin/evil.cgi"},
	} {
		if err := os.Symlink(l[0], filepath.Join(base, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

// checkListing gets the directory listing at target and fails unless it
// is a 200 that shows shown and none of hidden.
func checkListing(t *testing.T, addr, target, shown string, hidden ...string) {
	t.Helper()
	r := rawRequest(t, addr, "GET", target, false)
	if r.status != 200 || !strings.Contains(r.body, shown) {
		t.Fatalf("%s: %d %q, want a 200 listing %s", target, r.status, r.body, shown)
	}
	for _, h := range hidden {
		if strings.Contains(r.body, h) {
			t.Errorf("the listing of %s shows %s: %q", target, h, r.body)
		}
	}
}

// waitBlocked waits until the program pid has been asleep (blocked in a
// write to a full pipe, in these tests) for a while without a break.
func waitBlocked(t *testing.T, pid int) {
	t.Helper()
	var since time.Time
	waitFor(t, 20*time.Second, "the program to block", func() bool {
		if procState(pid) != 'S' {
			since = time.Time{}
			return false
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) >= 300*time.Millisecond
	})
}

// peerBinary finds a peer's executable: $env, else Debian's path, else
// name on PATH.
func peerBinary(env, debianPath, name string) (string, error) {
	for _, p := range []string{os.Getenv(env), debianPath} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// Hostile input, faults and load (docs/security.md points here).

func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--headertimeoutms=300", "cat")
	nc := rawConn(t, s.addr)
	// Half a request, then nothing: the server must hang up by itself.
	if _, err := io.WriteString(nc, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpg"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := io.Copy(io.Discard, nc)
	if err != nil {
		t.Fatalf("after %v: %v (want the server to close the connection)", time.Since(start), err)
	}
	// The flag's 300 ms, not the 10 s default: a generous bound between.
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("cut off after %v: --headertimeoutms=300 not applied", took)
	}
	t.Logf("cut off after %v, %d bytes sent back", time.Since(start).Round(time.Millisecond), n)
	if kids := children(t, s.pid()); len(kids) != 0 {
		t.Fatalf("programs started for an incomplete request: %v", kids)
	}
}

func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	const limit = 8 << 10
	s := startServer(t, fmt.Sprintf("--maxheadersize=%d", limit), "cat")
	send := func(t *testing.T, size int) int {
		t.Helper()
		nc := rawConn(t, s.addr)
		pad := "X-Pad: " + strings.Repeat("p", size-len(upgradeRequest)-len("X-Pad: \r\n\r\n")) + "\r\n"
		req := upgradeRequest + pad + "\r\n"
		if len(req) != size {
			t.Fatalf("request of %d bytes, want %d", len(req), size)
		}
		if _, err := io.WriteString(nc, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(t, limit-64); got != http.StatusSwitchingProtocols {
		t.Errorf("headers under the limit: status %d, want 101", got)
	}
	if got := send(t, limit+64); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers over the limit: status %d, want 431", got)
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	tests := []struct{ name, raw string }{
		{"garbage request line", "HELLO\r\n\r\n"},
		{"bad HTTP version", "GET / HTTP/9.x\r\nHost: a\r\n\r\n"},
		{"header without colon", upgradeRequest + "NoColonHere\r\n\r\n"},
		{"space before colon", upgradeRequest + "Bad Name: x\r\n\r\n"},
		{"NUL in a header value", upgradeRequest + "X-A: a\x00b\r\n\r\n"},
		{"two Host headers", upgradeRequest + "Host: other\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nc := rawConn(t, s.addr)
			if _, err := io.WriteString(nc, tc.raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %s, want 400", resp.Status)
			}
		})
	}
	if kids := children(t, s.pid()); len(kids) != 0 {
		t.Fatalf("programs started for malformed requests: %v", kids)
	}
}

// TestHalfOpenFlood holds many connections that never finish their request:
// none of them may start a program, and a real client still gets through.
func TestHalfOpenFlood(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxforks=4", "cat")
	const n = 200
	for i := 0; i < n; i++ {
		nc := rawConn(t, s.addr)
		if _, err := io.WriteString(nc, upgradeRequest); err != nil { // no blank line
			t.Fatal(err)
		}
	}
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "through")
	if kids := children(t, s.pid()); len(kids) != 1 {
		t.Fatalf("%d programs running with %d half-open connections and one client, want 1", len(kids), n)
	}
}

// rawFrame is a masked client frame with an arbitrary first byte.
func rawFrame(b0 byte, masked bool, payload []byte) []byte {
	out := []byte{b0}
	mbit := byte(0)
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mbit|byte(n))
	case n < 1<<16:
		out = append(out, mbit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	key := [4]byte{1, 2, 3, 4}
	out = append(out, key[:]...)
	p := append([]byte(nil), payload...)
	wsproto.Mask(p, key, 0)
	return append(out, p...)
}

func TestProtocolViolationsThroughTheServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		frame []byte
		code  uint16
	}{
		{"unmasked frame", rawFrame(0x81, false, []byte("hi")), wsproto.CloseProtocolError},
		{"reserved bit", rawFrame(0xC1, true, []byte("hi")), wsproto.CloseProtocolError},
		{"reserved opcode", rawFrame(0x83, true, nil), wsproto.CloseProtocolError},
		{"fragmented ping", rawFrame(0x09, true, nil), wsproto.CloseProtocolError},
		{"continuation first", rawFrame(0x80, true, []byte("x")), wsproto.CloseProtocolError},
		{"invalid close code", rawFrame(0x88, true, []byte{0x03, 0xEC}), wsproto.CloseProtocolError},
		{"invalid UTF-8", rawFrame(0x81, true, []byte("a\xffb")), wsproto.CloseInvalidPayload},
		{"message over --maxframesize", rawFrame(0x82, true, make([]byte, 2000)), wsproto.CloseMessageTooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--maxframesize=1000", "sh", "-c", "echo $$; cat")
			c := dial(t, s.addr, "/", nil)
			prog := readPID(t, c)
			nc := c.NetConn()
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			if ce := readClose(t, c); ce.Code != tc.code {
				t.Fatalf("close %d %q, want %d", ce.Code, ce.Reason, tc.code)
			}
			// The server closes TCP after its close frame.
			if _, err := io.Copy(io.Discard, nc); err != nil {
				t.Fatalf("connection not closed by the server: %v", err)
			}
			waitFor(t, 5*time.Second, "the program to be stopped", func() bool { return !alive(prog) })
		})
	}
}

func TestProgramFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string // prints a pid to check, then fails
		code   uint16
		reason string
	}{
		{name: "killed mid-stream", script: `echo $$; kill -9 $$; sleep 1000`,
			code: wsproto.CloseInternalError, reason: "signal: killed"},
		{name: "closes stdout and keeps running", script: `echo $$; exec >&-; sleep 1000`,
			code: wsproto.CloseInternalError, reason: "signal: interrupt"},
		{name: "forks a child and exits", script: `sleep 1000 & echo $!; exit 0`,
			code: wsproto.CloseNormal},
		{name: "writes megabytes to stderr", script: `echo $$; head -c 8000000 /dev/zero | tr '\0' e >&2; exit 4`,
			code: wsproto.CloseInternalError, reason: "exit status 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--loglevel=info", "sh", "-c", tc.script)
			c := dial(t, s.addr, "/", nil)
			pid := readPID(t, c)
			ce := readClose(t, c)
			if ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Reason, tc.code, tc.reason)
			}
			waitFor(t, 5*time.Second, fmt.Sprintf("process %d to be gone", pid), func() bool { return !alive(pid) })
			waitFor(t, 5*time.Second, "no programs left", func() bool { return len(children(t, s.pid())) == 0 })
			// The server is still up.
			c2 := dial(t, s.addr, "/", nil)
			readPID(t, c2)
		})
	}
}

// TestProgramNeverReads sends to a program that never reads stdin: the
// client's writes must stall (the server stops reading the socket) with
// the server's memory bounded, and closing the client stops the program.
func TestProgramNeverReads(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sh", "-c", "echo $$; exec sleep 1000")
	before := memKiB(t, s.pid(), "VmRSS")
	c := dial(t, s.addr, "/", nil)
	pid := readPID(t, c)
	sent := fillUntilStalled(t, c, 256<<20) // far more than pipe and socket buffers hold
	t.Logf("writes stalled after %d KiB", sent>>10)
	if grew := memKiB(t, s.pid(), "VmHWM") - before; grew > 16<<10 {
		t.Fatalf("server peak RSS grew by %d KiB; want under 16 MiB", grew)
	}
	c.NetConn().(*net.TCPConn).SetLinger(0)
	c.Close()
	waitFor(t, 5*time.Second, "the program to be gone", func() bool { return !alive(pid) })
}

// fillUntilStalled writes 64 KiB messages to c, each with a write deadline
// of one second, until one times out: the server has stopped reading the
// socket because its program does not read stdin. It fails if limit bytes
// go through without a stall, and returns the bytes sent.
func fillUntilStalled(t *testing.T, c *wsproto.Conn, limit int) int {
	t.Helper()
	msg := bytes.Repeat([]byte("z"), 64<<10)
	for sent := 0; sent < limit; sent += len(msg) {
		c.NetConn().SetWriteDeadline(time.Now().Add(time.Second))
		err := c.WriteMessage(wsproto.OpBinary, msg)
		if err == nil {
			err = c.Flush()
		}
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, io.ErrShortWrite) || isTimeout(err) {
			return sent
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", sent, err)
		}
	}
	t.Fatalf("sent %d MiB to a program that never reads without stalling", limit>>20)
	return limit
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestGiantLine streams a 1 GiB line: it arrives whole, as fragments of
// one text message, and the server's memory stays flat. The frames are
// read raw (the server's UTF-8 is checked by the other tests) to keep the
// test fast under the race detector.
func TestGiantLine(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB through the server: skipped with -short")
	}
	t.Parallel()
	const n = 1 << 30
	s := startServer(t, "sh", "-c", fmt.Sprintf(`head -c %d /dev/zero | tr '\0' g; echo; echo end`, n))
	before := memKiB(t, s.pid(), "VmRSS")
	nc, br := rawUpgrade(t, s.addr)
	nc.SetDeadline(time.Now().Add(2 * time.Minute))
	var total int64
	var frames int
	for {
		h, err := wsproto.ReadHeader(br)
		if err != nil {
			t.Fatalf("after %d bytes in %d frames: %v", total, frames, err)
		}
		wantOp := wsproto.OpContinuation
		if frames == 0 {
			wantOp = wsproto.OpText
		}
		if h.Op != wantOp {
			t.Fatalf("frame %d: %v, want %v", frames, h.Op, wantOp)
		}
		if _, err := br.Discard(int(h.Length)); err != nil {
			t.Fatal(err)
		}
		total += h.Length
		frames++
		if h.Fin {
			break
		}
	}
	if total != n {
		t.Fatalf("line of %d bytes, want %d", total, n)
	}
	t.Logf("1 GiB line in %d frames", frames)
	peak := memKiB(t, s.pid(), "VmHWM")
	if grew := peak - before; grew > 8<<10 {
		t.Fatalf("server peak RSS grew by %d KiB streaming 1 GiB; want under 8 MiB", grew)
	}
	t.Logf("server RSS %d KiB before, peak %d KiB", before, peak)
}

func TestClientFaults(t *testing.T) {
	t.Parallel()
	t.Run("vanishes mid-message", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "sh", "-c", "echo $$; cat")
		c := dial(t, s.addr, "/", nil)
		pid := readPID(t, c)
		frame := rawFrame(0x82, true, make([]byte, 1000))
		nc := c.NetConn()
		if _, err := nc.Write(frame[:100]); err != nil {
			t.Fatal(err)
		}
		nc.(*net.TCPConn).SetLinger(0)
		nc.Close()
		waitFor(t, 5*time.Second, "the program to be gone", func() bool { return !alive(pid) })
	})
	t.Run("sends half a frame and stalls", func(t *testing.T) {
		t.Parallel()
		// Without pings a stalled client is indistinguishable from a quiet
		// one; --pingms bounds it: the server's reader waits inside the
		// frame, no pong comes, the watchdog drops the connection.
		s := startServer(t, "--pingms=100", "sh", "-c", "echo $$; cat")
		c := dial(t, s.addr, "/", nil)
		pid := readPID(t, c)
		frame := rawFrame(0x81, true, []byte(strings.Repeat("s", 100)))
		nc := c.NetConn()
		if _, err := nc.Write(frame[:50]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the program to be stopped", func() bool { return !alive(pid) })
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, nc); err != nil {
			t.Fatalf("the server did not close the connection: %v", err)
		}
	})
	t.Run("never answers close", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "--closetimeoutms=300", "sh", "-c", "echo bye")
		nc, br := rawUpgrade(t, s.addr)
		// Read the raw bytes (message and close frame) without answering:
		// the server must drop TCP once its close timeout passes.
		start := time.Now()
		got, err := io.ReadAll(br)
		if err != nil {
			t.Fatalf("server did not drop the connection: %v", err)
		}
		want := []byte("\x81\x03bye\x88\x02\x03\xe8")
		if !bytes.Equal(got, want) {
			t.Fatalf("got %x, want %x (the message, then close 1000)", got, want)
		}
		t.Logf("dropped %v after the 101", time.Since(start).Round(time.Millisecond))
		nc.Close()
		waitFor(t, 5*time.Second, "no programs left", func() bool { return len(children(t, s.pid())) == 0 })
	})
}

// TestLoad runs many short connections from many clients at once, then
// checks that the server's fds, children and memory come back to idle.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("5000 connection cycles: skipped with -short")
	}
	t.Parallel()
	s := startServer(t, "--loglevel=info", "--maxforks=128", "cat")
	// echoCycle waits for the server's TCP close, so that 64 workers hold
	// at most about 64 of the 128 slots however slowly the machine reaps.
	if err := echoCycle(s.addr); err != nil { // warm up, then take the idle values
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "no programs", func() bool { return len(children(t, s.pid())) == 0 })
	baseFDs, baseRSS := fdCount(t, s.pid()), memKiB(t, s.pid(), "VmRSS")

	const total, workers = 5000, 64
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= total {
				if err := echoCycle(s.addr); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitIdle(t, s, baseFDs)
	rss := memKiB(t, s.pid(), "VmRSS")
	t.Logf("after %d cycles with %d clients: fds %d (idle %d), RSS %d KiB (idle %d KiB)",
		total, workers, fdCount(t, s.pid()), baseFDs, rss, baseRSS)
	if rss > baseRSS+32<<10 {
		t.Errorf("RSS %d KiB after the load, idle was %d KiB", rss, baseRSS)
	}
}

// TestForkStorm opens far more connections at once than --maxforks allows:
// the extra ones get 429, nothing else fails, and the server recovers.
func TestForkStorm(t *testing.T) {
	t.Parallel()
	const limit, storm = 8, 100
	s := startServer(t, "--loglevel=info", fmt.Sprintf("--maxforks=%d", limit), "cat")
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	hold := make(chan struct{})
	errs := make(chan error, storm)
	for range storm {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, resp, err := dialWS(s.addr, "/", nil)
			switch {
			case err != nil:
				errs <- err
			case c == nil && resp.StatusCode == http.StatusTooManyRequests:
				refused.Add(1)
			case c == nil:
				errs <- fmt.Errorf("status %s", resp.Status)
			default:
				ok.Add(1)
				<-hold // keep the program running until the storm is over
				c.Close()
			}
		}()
	}
	waitFor(t, 30*time.Second, "every connection to be answered", func() bool {
		return ok.Load()+refused.Load()+int64(len(errs)) == storm
	})
	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() > limit || refused.Load() < storm-limit {
		t.Fatalf("%d accepted, %d refused with --maxforks=%d", ok.Load(), refused.Load(), limit)
	}
	waitFor(t, 10*time.Second, "programs to be reaped", func() bool { return len(children(t, s.pid())) == 0 })
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "again") // after the storm
}

// TestShutdownWithFreshConnection: a connection that never sent a byte
// (browsers open spare ones) must not hold up shutdown; net/http alone
// waits 5 s for such a connection.
func TestShutdownWithFreshConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	rawConn(t, s.addr) // connected, silent
	// The server must have accepted it before the signal.
	waitFor(t, 5*time.Second, "the connection to be accepted", func() bool { return tcpEstablished(t, s.pid()) })
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		t.Fatal("still running 3 s after SIGTERM with one silent connection open")
	}
}

// TestClientCloseCodeIsLogged: when the client closes and its program
// exits at once on stdin closing, the log must say the client's code, not
// the program's (both ends finish together).
func TestClientCloseCodeIsLogged(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	const n = 20
	for i := range n {
		c := dial(t, s.addr, "/", nil)
		echo(t, c, "x")
		c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.WriteClose(4000, "done"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(nil); err == nil {
			t.Fatalf("conn %d: a message after close", i)
		}
		c.Close()
	}
	waitFor(t, 10*time.Second, "every disconnect line", func() bool {
		return strings.Count(s.logText(), "msg=disconnect") == n
	})
	if got := strings.Count(s.logText(), "code=4000"); got != n {
		t.Fatalf("%d of %d disconnect lines say the client's code 4000:\n%s", got, n, s.logText())
	}
}

// TestWebsocketdValues: values websocketd accepts that wsexec reads the
// same way: 0 for "no limit", --loglevel=none, --anyorigin, --socketmode.
func TestWebsocketdValues(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "ws.sock")
	cmd := exec.Command(binPath, "--unixsocket="+sock, "--socketmode=0600", "--loglevel=none",
		"--maxforks=0", "--maxframesize=0", "--anyorigin", "cat")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	var fi os.FileInfo
	waitFor(t, 10*time.Second, "the socket file", func() bool {
		var err error
		fi, err = os.Stat(sock)
		return err == nil
	})
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, resp, err := wstest.Handshake(nc, "localhost", "/", http.Header{"Origin": {"https://anywhere.example"}})
	if err != nil || c == nil {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	big := bytes.Repeat([]byte("m"), 20<<20) // over the 16 MiB default, and no limit now
	wrote := make(chan error, 1)
	go func() { // cat echoes as it reads: read while writing
		c.NetConn().SetWriteDeadline(time.Now().Add(30 * time.Second))
		err := c.WriteMessage(wsproto.OpText, big)
		if err == nil {
			err = c.Flush()
		}
		wrote <- err
	}()
	c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
	_, got, err := c.ReadMessage(nil)
	if err != nil || len(got) != len(big) {
		t.Fatalf("echo of %d bytes (%v), want %d", len(got), err, len(big))
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	// Answer the server's 1001 at once, so that its shutdown does not wait
	// the close timeout on a busy machine.
	go func() {
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	}()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit: %v", waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if stderr.Len() != 0 {
		t.Fatalf("--loglevel=none printed %q", stderr.String())
	}
}

// TestHalfCloseWhileWriteBlocked: with pings on, a client that stops
// reading (the server's write blocks, a ping queued behind it) and then
// half-closes still has its program stopped.
func TestHalfCloseWhileWriteBlocked(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=100", "sh", "-c", "echo $$; exec yes")
	c := dial(t, s.addr, "/", nil)
	pid := readPID(t, c)
	// Never read again, but keep the watchdog fed with unsolicited pongs
	// (RFC 6455 §5.5.3), so the connection lives while the server's pings
	// queue behind its blocked write.
	pong := []byte{0x8a, 0x80, 0, 0, 0, 0} // masked, empty
	stopPongs, pongsDone := make(chan struct{}), make(chan error, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopPongs:
				pongsDone <- nil
				return
			case <-tick.C:
			}
			if _, err := c.NetConn().Write(pong); err != nil {
				pongsDone <- err
				return
			}
		}
	}()
	// Wait until the flood has filled the socket and the program has been
	// blocked writing for several ping intervals, then half-close.
	waitBlocked(t, pid)
	close(stopPongs)
	if err := <-pongsDone; err != nil {
		t.Fatalf("pong: %v\n%s", err, s.logText())
	}
	if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the program to be stopped", func() bool { return !alive(pid) })
}

// TestShutdownWithStalledProgram: shutdown ends a connection whose
// program does not read stdin and whose client does not answer close.
func TestShutdownWithStalledProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--closetimeoutms=300", "sh", "-c", "echo $$; exec sleep 1000")
	c := dial(t, s.addr, "/", nil)
	pid := readPID(t, c)
	fillUntilStalled(t, c, 64<<20) // until the pipe and socket are full
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("exit: %v\n%s", s.err, s.logText())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15 s after SIGTERM")
	}
	if alive(pid) {
		t.Fatal("program still running after shutdown")
	}
}

package e2e

// libwebsockets' C test client (Debian's libwebsockets-test-server
// package, test-apps/test-client.c upstream) against wsexec. The client
// opens two connections to one URL: one offering the subprotocol
// dumb-increment-protocol, which prints what it receives (at log level
// info, -d 15), and one offering lws-mirror-protocol, which sends short
// text messages ("c #RRGGBB x y r;") and ignores what comes back. Both
// offer permessage-deflate. With --echo only the second opens, and checks
// that what it sent comes back. The client logs on stderr and exits 0
// whatever happened, so each case reads what it printed, what the server
// logged and what the program recorded. docs/conformance.md has the
// findings.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lwsClientPath finds the client: $WSEXEC_LWS_CLIENT, else Debian's path,
// else libwebsockets-test-client on PATH.
var lwsClientPath = sync.OnceValues(func() (string, error) {
	return peerBinary("WSEXEC_LWS_CLIENT", "/usr/bin/libwebsockets-test-client", "libwebsockets-test-client")
})

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lwsProc is a running libwebsockets-test-client.
type lwsProc struct {
	cmd    *exec.Cmd
	out    lockedBuffer // stdout and stderr
	exited chan struct{}
	err    error // cmd.Wait's result, once exited is closed
}

// startLWS runs the client with args; a cleanup kills it if it still runs.
func startLWS(t *testing.T, bin string, args ...string) *lwsProc {
	t.Helper()
	p := &lwsProc{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("libwebsockets-test-client output:\n%s", p.out.String())
		}
	})
	return p
}

// wait waits for the client to exit and fails unless it exits 0 within d.
func (p *lwsProc) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("libwebsockets-test-client still running after %v", d)
	}
	if p.err != nil {
		t.Fatalf("libwebsockets-test-client: %v", p.err)
	}
}

// lwsDisconnect waits for the server's disconnect line of the connection
// that asked for subprotocol and returns it.
func lwsDisconnect(t *testing.T, s *instance, subprotocol string) string {
	t.Helper()
	connRE := regexp.MustCompile(`msg=connect conn=(\d+) .*subprotocol=` + regexp.QuoteMeta(subprotocol) + ` `)
	var line string
	waitFor(t, 10*time.Second, "the disconnect of the "+subprotocol+" connection", func() bool {
		log := s.logText()
		m := connRE.FindStringSubmatch(log)
		if m == nil {
			return false
		}
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, "msg=disconnect conn="+m[1]+" ") {
				line = l
				return true
			}
		}
		return false
	})
	return line
}

// mirrorMessage is what the mirror connection sends: a colour and a circle.
var mirrorMessage = regexp.MustCompile(`^c #[0-9A-F]{6} \d{1,3} \d{1,3} \d{1,2};$`)

// lwsProgram is the program wsexec runs for the test client's connections:
// mirror is the shell command for the lws-mirror-protocol connection
// (with "$0" a file in the test's directory), dumb the one for the
// dumb-increment-protocol connection.
func lwsProgram(dir, dumb, mirror string) []string {
	return []string{"sh", "-c", `case $HTTP_SEC_WEBSOCKET_PROTOCOL in
lws-mirror-protocol) ` + mirror + ` ;;
*) ` + dumb + ` ;;
esac`, filepath.Join(dir, "mirror")}
}

// TestLibwebsocketsClient runs the client's three useful modes against
// programs that echo, with permessage-deflate on and off, in line and
// binary mode.
func TestLibwebsocketsClient(t *testing.T) {
	t.Parallel()
	bin, err := lwsClientPath()
	requireClient(t, "libwebsockets-test-client (Debian's libwebsockets-test-server)", err)

	// A mode is how wsexec runs: line or binary mode, permessage-deflate
	// answered or declined.
	type mode struct {
		binary, deflate bool
	}
	modes := []mode{{false, true}, {false, false}, {true, true}, {true, false}}
	name := func(m mode) string {
		framing, compression := "lines", "off"
		if m.binary {
			framing = "binary"
		}
		if m.deflate {
			compression = "on"
		}
		return framing + ", compression " + compression
	}
	flags := func(m mode, more ...string) []string {
		f := []string{"--compression=off"}
		if m.deflate {
			f[0] = "--compression=on"
		}
		if m.binary {
			f = append(f, "--binary")
		}
		return append(f, more...)
	}
	checkDeflate := func(t *testing.T, m mode, c *lwsProc) {
		t.Helper()
		if got := strings.Contains(c.out.String(), "instantiating client ext permessage-deflate"); got != m.deflate {
			t.Errorf("permessage-deflate taken up by the client: %v, want %v", got, m.deflate)
		}
	}

	// --echo sends 1024 messages of 12 KiB of pseudo-random bytes as text
	// frames and checks the echo. Random bytes are not UTF-8, so wsexec
	// fails the connection at the first one (RFC 6455 §8.1), in binary
	// mode too (the frames are text), inflated first when compressed.
	for _, m := range modes {
		t.Run("--echo, "+name(m), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, flags(m, "cat")...)
			c := startLWS(t, bin, "--echo", "ws://"+s.addr+"/")
			c.wait(t, 30*time.Second)
			if out := c.out.String(); !strings.Contains(out, "mirror: LWS_CALLBACK_CLOSED") || !strings.Contains(out, "rxb 0, rx_count 0") {
				t.Errorf("the client did not report its connection closed with nothing echoed")
			}
			checkDeflate(t, m, c)
			if d := lwsDisconnect(t, s, "lws-mirror-protocol"); !strings.Contains(d, `code=1007 reason="invalid UTF-8 in text message"`) {
				t.Errorf("server logged %q, want close 1007 for invalid UTF-8", d)
			}
			waitFor(t, 5*time.Second, "the program to be stopped", func() bool { return len(children(t, s.pid())) == 0 })
		})
	}

	// --once: the mirror connection sends until it is closed, then the
	// client exits. Its program echoes a number of messages and exits, so
	// wsexec closes with 1000, which the client answers. With compression
	// the echo is padded to 32 bytes or more, which wsexec always
	// compresses: lws 4.1's client stops reading at an uncompressed
	// message on a compressed connection (docs/conformance.md).
	for _, m := range modes {
		if m.binary && m.deflate {
			continue // binary messages are stdout reads, of any size
		}
		t.Run("--once, server closes, "+name(m), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mirror := `head -n 500 | tee "$0"`
			if m.binary {
				mirror = `head -c 8000 | tee "$0"`
			}
			if m.deflate {
				mirror += ` | sed -u 's/^/echo padded to be compressed: /'`
			}
			s := startServer(t, flags(m, lwsProgram(dir, "exec cat", mirror)...)...)
			c := startLWS(t, bin, "--once", "ws://"+s.addr+"/")
			c.wait(t, 30*time.Second)
			if !strings.Contains(c.out.String(), "mirror: LWS_CALLBACK_CLOSED") {
				t.Errorf("the client did not report the mirror connection closed")
			}
			checkDeflate(t, m, c)
			if d := lwsDisconnect(t, s, "lws-mirror-protocol"); !strings.Contains(d, `code=1000 reason="" exit="exit status 0"`) {
				t.Errorf("server logged %q, want close 1000 after exit status 0", d)
			}
			waitFor(t, 5*time.Second, "the programs to be stopped", func() bool { return len(children(t, s.pid())) == 0 })
			got, err := os.ReadFile(filepath.Join(dir, "mirror"))
			if err != nil {
				t.Fatal(err)
			}
			if m.binary {
				// Raw bytes, no newline added: whole messages, then
				// the start of one where head stopped.
				msgs := strings.SplitAfter(string(got), ";")
				if len(got) != 8000 || len(msgs) < 250 {
					t.Fatalf("the program got %d bytes in %d messages, want 8000 bytes of messages of at most 27 bytes", len(got), len(msgs))
				}
				for _, msg := range msgs[:len(msgs)-1] {
					if !mirrorMessage.MatchString(msg) {
						t.Fatalf("the program got %q among the messages", msg)
					}
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
			if len(lines) != 500 {
				t.Fatalf("the program got %d lines, want 500", len(lines))
			}
			for _, l := range lines {
				if !mirrorMessage.MatchString(l) {
					t.Fatalf("the program got the line %q", l)
				}
			}
		})
	}

	// The same over TLS, the client checking the server's certificate
	// against the test CA (-A).
	t.Run("--once over wss://, server closes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, ca, _ := tlsServer(t, []string{"--compression=off"}, lwsProgram(dir, "exec cat", `head -n 500 | tee "$0"`)...)
		c := startLWS(t, bin, "--once", "-A", ca.file, "wss://"+s.addr+"/")
		c.wait(t, 30*time.Second)
		if d := lwsDisconnect(t, s, "lws-mirror-protocol"); !strings.Contains(d, `code=1000 reason="" exit="exit status 0"`) {
			t.Errorf("server logged %q, want close 1000 after exit status 0", d)
		}
		got, err := os.ReadFile(filepath.Join(dir, "mirror"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(got), "\n"); n != 500 {
			t.Fatalf("the program got %d lines, want 500", n)
		}
		waitFor(t, 5*time.Second, "the programs to be stopped", func() bool { return len(children(t, s.pid())) == 0 })
	})

	// --nomirror: both connections stay open without sending; the server
	// pings every 200 ms, which the client must answer within 400 ms, and
	// sends the dumb-increment connection 1..100. SIGINT then makes the
	// client drop both connections without a close frame.
	pongRE := regexp.MustCompile(`issuing pong 0 on wsi (0x[0-9a-f]+)`)
	rxRE := regexp.MustCompile(`I: rx \d+ '([^']*)'`)
	for _, m := range modes {
		if m.binary {
			continue // the client prints what it receives as lines
		}
		t.Run("--nomirror, pings, client vanishes, "+name(m), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, flags(m, append([]string{"--pingms=200"}, lwsProgram(t.TempDir(), "seq 1 100; exec cat", "exec cat")...)...)...)
			c := startLWS(t, bin, "--once", "--nomirror", "-d", "15", "ws://"+s.addr+"/")
			var rx []string
			waitFor(t, 30*time.Second, "100 messages and six pongs on each connection", func() bool {
				out := c.out.String()
				pongs := map[string]int{}
				for _, m := range pongRE.FindAllStringSubmatch(out, -1) {
					pongs[m[1]]++
				}
				rx = rx[:0]
				for _, m := range rxRE.FindAllStringSubmatch(out, -1) {
					rx = append(rx, m[1])
				}
				enough := len(pongs) == 2
				for _, n := range pongs {
					enough = enough && n >= 6
				}
				return enough && len(rx) >= 100
			})
			for i, v := range rx {
				if v != strconv.Itoa(i+1) {
					t.Fatalf("message %d received as %q; all: %q", i+1, v, rx)
				}
			}
			if len(rx) != 100 {
				t.Fatalf("%d messages received, want 100", len(rx))
			}
			checkDeflate(t, m, c)
			c.cmd.Process.Signal(syscall.SIGINT)
			c.wait(t, 10*time.Second)
			for _, sub := range []string{"dumb-increment-protocol", "lws-mirror-protocol"} {
				if d := lwsDisconnect(t, s, sub); !strings.Contains(d, `code=1006 reason="connection lost"`) {
					t.Errorf("server logged %q for the %s connection, want 1006 connection lost", d, sub)
				}
			}
			if strings.Contains(s.logText(), "ping timeout") {
				t.Error("the server dropped a connection for not answering pings")
			}
			waitFor(t, 5*time.Second, "the programs to be stopped", func() bool { return len(children(t, s.pid())) == 0 })
		})
	}
}

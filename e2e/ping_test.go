package e2e

// --pingms: a silent client is dropped, an answering one kept, a busy
// program waited for.

import (
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

var connectPID = regexp.MustCompile(`msg=connect .*pid=(\d+)`)

// programPID waits for the connect line of the server's only connection
// and returns its program's pid.
func programPID(t *testing.T, s *instance) int {
	t.Helper()
	var pid int
	waitFor(t, 5*time.Second, "the connect line", func() bool {
		if m := connectPID.FindStringSubmatch(s.logText()); m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		return pid > 0
	})
	return pid
}

func TestPingDropsSilentClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=100", "cat")
	// A client that completes the handshake and then reads and answers
	// nothing: the pings pile up in its socket buffer.
	c := dial(t, s.addr, "/", nil)
	pid := programPID(t, s)
	nc := c.NetConn()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	waitFor(t, 10*time.Second, "the program to be stopped", func() bool { return !alive(pid) })
	b, err := io.ReadAll(nc) // what the server sent: pings, then the end
	if err != nil {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	if !strings.HasPrefix(string(b), "\x89\x00") {
		t.Fatalf("the server sent %x, want pings", b)
	}
	waitFor(t, 5*time.Second, "the disconnect line", func() bool {
		return strings.Contains(s.logText(), "msg=disconnect")
	})
	if !strings.Contains(s.logText(), `reason="ping timeout"`) {
		t.Fatal("disconnect not logged as a ping timeout")
	}
}

// pingCounter is a net.Conn counting the empty pings (89 00) it reads; the
// server sends nothing else in TestPingKeepsAnsweringClient until asked.
type pingCounter struct {
	net.Conn
	mu    sync.Mutex
	pings int
	prev  byte
}

func (p *pingCounter) Read(b []byte) (int, error) {
	n, err := p.Conn.Read(b)
	p.mu.Lock()
	for _, c := range b[:n] {
		if p.prev == 0x89 && c == 0 {
			p.pings++
		}
		p.prev = c
	}
	p.mu.Unlock()
	return n, err
}

func (p *pingCounter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pings
}

func TestPingKeepsAnsweringClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=200", "cat")
	tcp, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	pc := &pingCounter{Conn: tcp}
	c, resp, err := wstest.Handshake(pc, s.addr, "/", nil)
	if err != nil || c == nil {
		tcp.Close()
		t.Fatalf("handshake: %v %v", resp, err)
	}
	defer c.Close()
	// Reading answers each ping with a pong, as every client library does.
	msgs := make(chan string, 1)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, p, err := c.ReadMessage(nil)
			if err != nil {
				readErr <- err
				return
			}
			msgs <- string(p)
		}
	}()
	// Six pings: three times the two intervals a silent client gets.
	waitFor(t, 15*time.Second, "six pings", func() bool {
		select {
		case err := <-readErr:
			t.Fatalf("connection ended after %d pings: %v", pc.count(), err)
		default:
		}
		return pc.count() >= 6
	})
	write(t, c, wsproto.OpText, []byte("still here"))
	select {
	case got := <-msgs:
		if got != "still here" {
			t.Fatalf("echo %q", got)
		}
	case err := <-readErr:
		t.Fatalf("connection ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no echo")
	}
	if strings.Contains(s.logText(), "ping timeout") {
		t.Fatal("a client answering pings was dropped")
	}
	c.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.WriteClose(wsproto.CloseNormal, "")
	<-readErr
}

// TestPingWaitsForBusyProgram: while the program does not read its stdin,
// the server cannot read the client's pongs either (they wait behind the
// message it is writing). That is back-pressure, not a dead client: the
// connection must survive it.
func TestPingWaitsForBusyProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=250", "sh", "-c", "sleep 2; exec cat") // 2 s: four pong deadlines
	c := dial(t, s.addr, "/", nil)
	big := strings.Repeat("z", 1<<20) // far more than a pipe holds
	got := make(chan string, 1)
	go func() {
		// Reading answers pings; the echo comes once cat runs.
		c.NetConn().SetReadDeadline(time.Now().Add(20 * time.Second))
		_, p, err := c.ReadMessage(nil)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(p)
	}()
	write(t, c, wsproto.OpText, []byte(big))
	if echo := <-got; echo != big {
		t.Fatalf("echo %.80q (%d bytes), want the 1 MiB message (dropped while the program was not reading?)", echo, len(echo))
	}
	// Close at once (after the echo the client stops answering pings, and
	// a loaded machine could let the server drop it before the log is
	// read): the connection must end with our close, not a ping timeout.
	if err := c.WriteClose(wsproto.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %v, want the echo of ours", ce)
	}
	waitFor(t, 10*time.Second, "the disconnect line", func() bool {
		return strings.Contains(s.logText(), "msg=disconnect")
	})
	if strings.Contains(s.logText(), "ping timeout") {
		t.Fatal("dropped while the program was not reading")
	}
}

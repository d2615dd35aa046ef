package e2e

// A program's life beside its connection: its exit status becomes the
// close code, a client that closes or vanishes stops it, shutdown closes
// every connection, and many connections leave nothing behind.

import (
	"errors"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

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

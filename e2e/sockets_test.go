package e2e

// Where it listens: Unix sockets, alone or beside TCP, and IPv6.

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

func dialUnix(t *testing.T, path, target string) *wsproto.Conn {
	t.Helper()
	nc, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatalf("dial unix %s: %v", path, err)
	}
	c, resp, err := wstest.Handshake(nc, "localhost", target, nil)
	if err != nil || c == nil {
		nc.Close()
		t.Fatalf("handshake over %s: %v %v", path, resp, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnixSocketLifecycle(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(shortTempDir(t), "ws.sock")

	// A socket file nobody accepts on: stale, to be replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no stale socket to test with: %v", err)
	}

	s := launch(t, "--unixsocket="+sock, "cat")
	if s.addr != sock {
		t.Fatalf("listening addr %q, want the socket path %q", s.addr, sock)
	}
	if strings.Contains(s.logText(), "addr=127.0.0.1") || strings.Count(s.logText(), "msg=listening") != 1 {
		t.Fatalf("a Unix socket alone must be the only listener:\n%s", s.logText())
	}
	c := dialUnix(t, sock, "/")
	echo(t, c, "over a unix socket")
	c.Close()

	// A live socket is refused, and left alone.
	runExit(t, 3, "another server is listening", "--unixsocket="+sock, "cat")
	c = dialUnix(t, sock, "/")
	echo(t, c, "still served")
	c.Close()

	// Shutdown removes the file.
	if err := s.stop(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file left after shutdown: %v", err)
	}
}

func TestUnixSocketNotASocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortTempDir(t), "file")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	runExit(t, 3, "not a socket", "--unixsocket="+path, "cat")
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Fatalf("the file was touched: %v %q", err, b)
	}
}

func TestUnixSocketWithTCP(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(shortTempDir(t), "ws.sock")
	s := launch(t, "--port=0", "--address=127.0.0.1", "--uds="+sock, "cat")
	echo(t, dial(t, s.addr, "/", nil), "tcp")
	echo(t, dialUnix(t, sock, "/"), "unix")
}

func TestIPv6Loopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
	// --address repeated: both listen, on the same port (--port=0 picks
	// one per address, so each is read from its own log line).
	s := launch(t, "--port=0", "--address=[::1]", "--address", "127.0.0.1", "../examples/bash/env.sh")
	if !strings.HasPrefix(s.addr, "[::1]:") {
		t.Fatalf("listening on %q, want [::1]:port", s.addr)
	}
	env := readEnv(t, dial(t, s.addr, "/", nil))
	if env["REMOTE_ADDR"] != "::1" || env["SERVER_NAME"] != "::1" {
		t.Fatalf("REMOTE_ADDR=%q SERVER_NAME=%q, want ::1", env["REMOTE_ADDR"], env["SERVER_NAME"])
	}
	var v4 string
	waitFor(t, 10*time.Second, "the second listening line", func() bool {
		m := listeningRE.FindAllStringSubmatch(s.logText(), -1)
		if len(m) < 2 {
			return false
		}
		v4 = m[1][1]
		return true
	})
	if !strings.HasPrefix(v4, "127.0.0.1:") {
		t.Fatalf("second listener %q, want 127.0.0.1:port", v4)
	}
	if got := readEnv(t, dial(t, v4, "/", nil))["REMOTE_ADDR"]; got != "127.0.0.1" {
		t.Fatalf("over IPv4: REMOTE_ADDR=%q", got)
	}
}

package e2e

// Socket activation: listening sockets handed over the way systemd hands
// them (fd 3 on, LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES), by the test
// itself and by systemd-socket-activate.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// activating runs wsexec from a shell that sets LISTEN_PID to pid and
// execs it: "$$", the shell's own pid, is wsexec's once it execs (the
// parent cannot know it before the fork: systemd sets it in the child).
func activating(pid string) []string {
	return []string{"sh", "-c", `LISTEN_PID=` + pid + ` exec "$0" "$@"`}
}

// handOver gives the command files as fds 3, 4... with LISTEN_FDS and,
// when not empty, LISTEN_FDNAMES.
func handOver(names string, files ...*os.File) func(*exec.Cmd) {
	return func(cmd *exec.Cmd) {
		cmd.ExtraFiles = files
		cmd.Env = append(os.Environ(), "LISTEN_FDS="+strconv.Itoa(len(files)))
		if names != "" {
			cmd.Env = append(cmd.Env, "LISTEN_FDNAMES="+names)
		}
	}
}

// listenerFile listens on network, address and returns the listener and
// a copy of its fd to hand over.
func listenerFile(t *testing.T, network, address string) (net.Listener, *os.File) {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f, err := ln.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return ln, f
}

// listenEnv are the variables of socket activation, which wsexec must
// not pass on: a program that saw them would take wsexec's sockets for
// its own.
var listenEnv = []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"}

// TestSocketActivation hands wsexec a TCP socket: it serves it in place
// of --port and --address (its only listener, named as systemd names it),
// and its programs do not see the variables, even when --passenv asks.
func TestSocketActivation(t *testing.T) {
	t.Parallel()
	ln, f := listenerFile(t, "tcp", "127.0.0.1:0")
	s := launchWith(t, handOver("web", f), activating("$$"),
		"--port=0", "--address=127.0.0.1", "--passenv=PATH,"+strings.Join(listenEnv, ","), "../examples/bash/env.sh")
	if s.addr != ln.Addr().String() {
		t.Fatalf("listening on %s, want the socket handed over, %s", s.addr, ln.Addr())
	}
	if n := strings.Count(s.logText(), "msg=listening"); n != 1 || !strings.Contains(s.logText(), "socket=web") {
		t.Fatalf("want one listening line, for the socket named web:\n%s", s.logText())
	}
	env := readEnv(t, dial(t, s.addr, "/", nil))
	if env["REMOTE_ADDR"] != "127.0.0.1" {
		t.Fatalf("the program's environment: %v", env)
	}
	for _, k := range listenEnv {
		if v, ok := env[k]; ok {
			t.Errorf("the program sees %s=%s", k, v)
		}
	}
}

// TestSocketActivationUnix hands wsexec a Unix socket and a TCP socket,
// unnamed: it serves both, and leaves the socket file, which is not its
// own, in place when it stops.
func TestSocketActivationUnix(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(shortTempDir(t), "ws.sock")
	_, uf := listenerFile(t, "unix", sock)
	tcp, tf := listenerFile(t, "tcp", "127.0.0.1:0")
	s := launchWith(t, handOver("", uf, tf), activating("$$"), "cat")
	if s.addr != sock {
		t.Fatalf("first listener %q, want the Unix socket %q", s.addr, sock)
	}
	for _, c := range []*wsproto.Conn{dialUnix(t, sock, "/"), dial(t, tcp.Addr().String(), "/", nil)} {
		echo(t, c, "hi")
		c.Close() // gone before the shutdown, which need not wait for them
	}
	if !strings.Contains(s.logText(), "url=ws+unix://"+sock) || !strings.Contains(s.logText(), "socket=inherited") {
		t.Fatalf("want the Unix socket's URL and socket=inherited in the log:\n%s", s.logText())
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("the inherited socket's file is gone: %v", err)
	}
}

// TestSocketActivationOtherPID: variables meant for another process
// (LISTEN_PID not wsexec's) are not acted on: wsexec listens where its
// flags say and leaves the fd alone, and its programs do not see them.
func TestSocketActivationOtherPID(t *testing.T) {
	t.Parallel()
	ln, f := listenerFile(t, "tcp", "127.0.0.1:0")
	s := launchWith(t, handOver("web", f), activating("1"),
		"--port=0", "--address=127.0.0.1", "--passenv=PATH,"+strings.Join(listenEnv, ","), "../examples/bash/env.sh")
	if s.addr == ln.Addr().String() || strings.Contains(s.logText(), "socket=") {
		t.Fatalf("served the socket meant for another process:\n%s", s.logText())
	}
	env := readEnv(t, dial(t, s.addr, "/", nil))
	for _, k := range listenEnv {
		if v, ok := env[k]; ok {
			t.Errorf("the program sees %s=%s", k, v)
		}
	}
}

// TestSocketActivationRefused: the flags that cannot go with inherited
// sockets are usage errors (status 2), an fd that is not a listening
// socket is status 1, each with one line saying why.
func TestSocketActivationRefused(t *testing.T) {
	t.Parallel()
	ln, tcp := listenerFile(t, "tcp", "127.0.0.1:0")
	file, err := os.Open("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	connFile, err := nc.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer connFile.Close()
	dir := shortTempDir(t)
	for _, tc := range []struct {
		name   string
		file   *os.File
		args   []string
		status int
		want   []string
	}{
		{"--unixsocket", tcp, []string{"--unixsocket=" + filepath.Join(dir, "s"), "cat"}, 2, []string{"--unixsocket with sockets from systemd", "cannot be combined"}},
		{"--redirport", tcp, []string{"--redirport=8081", "cat"}, 2, []string{"--redirport with sockets from systemd", "cannot be combined"}},
		{"a file", file, []string{"cat"}, 1, []string{"socket activation: fd 3", "not a socket"}},
		{"a connection (Accept=yes)", connFile, []string{"cat"}, 1, []string{"socket activation: fd 3", "Accept=no"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := activating("$$")
			cmd := exec.Command(w[0], append(w[1:], append([]string{binPath}, tc.args...)...)...)
			handOver("", tc.file)(cmd)
			_, stderr, err := runCmd(t, cmd)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.status {
				t.Fatalf("exit %v, want status %d; stderr %q", err, tc.status, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "msg=listening") {
				t.Fatalf("stderr %q: want one line, and no listening", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q: want %q", stderr, w)
				}
			}
		})
	}
}

// socketActivate finds systemd-socket-activate (Debian's systemd package).
func socketActivate() (string, error) {
	for _, p := range []string{"/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate", "/usr/lib/systemd/systemd-socket-activate"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("systemd-socket-activate")
}

// TestSystemdSocketActivate runs wsexec under systemd-socket-activate,
// which listens on a loopback port and starts wsexec with the socket at
// the first connection: that client and a later one are served.
func TestSystemdSocketActivate(t *testing.T) {
	t.Parallel()
	ssa, err := socketActivate()
	requireClient(t, "systemd-socket-activate", err)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// The first client: it connects as soon as the port listens, and its
	// handshake is answered once wsexec has started.
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			c, _, err := wstest.Dial(addr, "/", nil)
			if err != nil {
				time.Sleep(10 * time.Millisecond) // polling for the port, not synchronising
				continue
			}
			if c == nil {
				first <- errors.New("refused")
				return
			}
			first <- echoOnce(c, "first")
			return
		}
		first <- ctx.Err()
	}()
	s := launchUnder(t, []string{ssa, "--listen=" + addr, "--fdname=ws"}, "cat")
	if s.addr != addr || !strings.Contains(s.logText(), "socket=ws") {
		t.Fatalf("listening on %s, want the socket systemd-socket-activate made, %s, named ws:\n%s", s.addr, addr, s.logText())
	}
	if err := <-first; err != nil {
		t.Fatalf("the client that started it: %v", err)
	}
	echo(t, dial(t, addr, "/", nil), "second")
}

// echoOnce sends msg, checks its echo and closes c, returning what went
// wrong rather than failing: it runs in a goroutine of its own.
func echoOnce(c *wsproto.Conn, msg string) error {
	defer c.Close()
	c.NetConn().SetDeadline(time.Now().Add(15 * time.Second))
	if err := c.WriteMessage(wsproto.OpText, []byte(msg)); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return err
	}
	_, p, err := c.ReadMessage(nil)
	if err == nil && string(p) != msg {
		err = fmt.Errorf("echo %q, want %q", p, msg)
	}
	return err
}

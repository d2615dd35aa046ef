//go:build linux

// Linux only for syscall.Dup3, so that server's other tests build on
// macOS and FreeBSD (README, "Platforms and packages").

package server

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeFDs returns the first of n consecutive fd numbers, from 500 on, that
// are not open: where the tests put the sockets as systemd would at 3.
func freeFDs(t *testing.T, n int) int {
	t.Helper()
	for base := 500; base < 1000; base += n {
		free := true
		for fd := base; fd < base+n && free; fd++ {
			_, err := fcntl(fd, syscall.F_GETFD)
			free = err == syscall.EBADF
		}
		if free {
			return base
		}
	}
	t.Fatal("no free fds from 500 to 1000")
	return 0
}

func fcntl(fd, cmd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// placeAt puts a copy of f's fd at fd, as an inherited one; the test's
// cleanup closes it if inherit did not.
func placeAt(t *testing.T, f *os.File, fd int) {
	t.Helper()
	if err := syscall.Dup3(int(f.Fd()), fd, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) }) // EBADF once taken over: harmless
}

// fileOf returns a copy of what c (a listener or connection) holds, as
// an *os.File.
func fileOf(t *testing.T, c interface{ File() (*os.File, error) }) *os.File {
	t.Helper()
	f, err := c.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestInherit(t *testing.T) {
	self := os.Getpid()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	dir, err := os.MkdirTemp("", "wsx") // t.TempDir's may be too long for a socket
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sockPath := filepath.Join(dir, "s")
	unix, err := net.Listen("unix", sockPath)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	conn, err := net.Dial("tcp", tcp.Addr().String()) // a connected socket: what Accept=yes passes
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	tcpFile := fileOf(t, tcp.(*net.TCPListener))
	unixFile := fileOf(t, unix.(*net.UnixListener))
	udpFile := fileOf(t, udp.(*net.UDPConn))
	connFile := fileOf(t, conn.(*net.TCPConn))

	for _, tc := range []struct {
		name       string
		pid        int
		fds, names string
		files      []*os.File
		want       []string // the names of the sockets taken; nil: none
		err        string
	}{
		{name: "not activated", pid: self, files: []*os.File{tcpFile}},
		{name: "for another process", pid: self + 1, fds: "1", files: []*os.File{tcpFile}},
		{name: "no sockets", pid: self, fds: "0"},
		{name: "named", pid: self, fds: "2", names: "web:local", files: []*os.File{tcpFile, unixFile}, want: []string{"web", "local"}},
		{name: "unnamed", pid: self, fds: "1", files: []*os.File{tcpFile}, want: []string{""}},
		{name: "names not one per fd", pid: self, fds: "2", names: "web", files: []*os.File{tcpFile, unixFile}, want: []string{"", ""}},
		{name: "count not a number", pid: self, fds: "two", err: `LISTEN_FDS="two"`},
		{name: "negative count", pid: self, fds: "-1", err: `LISTEN_FDS="-1"`},
		{name: "a pipe", pid: self, fds: "1", files: []*os.File{pr}, err: "not a socket"},
		{name: "datagram", pid: self, fds: "1", files: []*os.File{udpFile}, err: "not a stream socket"},
		{name: "connected (Accept=yes)", pid: self, fds: "1", files: []*os.File{connFile}, err: "not a listening socket"},
		{name: "second bad", pid: self, fds: "2", files: []*os.File{tcpFile, pr}, err: "fd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := freeFDs(t, max(len(tc.files), 1))
			for i, f := range tc.files {
				placeAt(t, f, first+i)
			}
			socks, err := inherit(strconv.Itoa(tc.pid), tc.fds, tc.names, self, first)
			for _, s := range socks {
				defer s.Close()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(socks) != len(tc.want) {
				t.Fatalf("%d sockets, want %d", len(socks), len(tc.want))
			}
			if tc.want == nil {
				// Not ours: the fds are left as they are.
				for i := range tc.files {
					if _, err := fcntl(first+i, syscall.F_GETFD); err != nil {
						t.Errorf("fd %d: %v, want it left open", first+i, err)
					}
				}
				return
			}
			for i, s := range socks {
				if s.Name != tc.want[i] {
					t.Errorf("socket %d: name %q, want %q", i, s.Name, tc.want[i])
				}
				// Taken over: the inherited fd is closed, and the
				// listener's own copy is close-on-exec.
				if _, err := fcntl(first+i, syscall.F_GETFD); err != syscall.EBADF {
					t.Errorf("fd %d still open (%v)", first+i, err)
				}
				checkCloexec(t, s.Listener)
				checkAccepts(t, s.Listener)
			}
		})
	}
}

// checkCloexec fails unless ln's fd is close-on-exec: no program the
// server starts may inherit it.
func checkCloexec(t *testing.T, ln net.Listener) {
	t.Helper()
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	rc.Control(func(fd uintptr) { flags, ferr = fcntl(int(fd), syscall.F_GETFD) })
	if ferr != nil || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("listener fd flags %#x (%v): want FD_CLOEXEC", flags, ferr)
	}
}

// checkAccepts connects to ln and has it accept the connection.
func checkAccepts(t *testing.T, ln net.Listener) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	c, err := net.DialTimeout(ln.Addr().Network(), ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
	}
}

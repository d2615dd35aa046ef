package server

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Socket activation (sd_listen_fds(3)): a service manager such as systemd
// opens the listening sockets itself and starts the server with them as
// fds 3, 4, ..., saying so in the environment: LISTEN_FDS (how many),
// LISTEN_PID (the process they are for) and LISTEN_FDNAMES (their names,
// colon-separated: a .socket unit's FileDescriptorName=, else the unit's
// name). The protocol is a few lines of environment and fcntl, written
// here rather than taken from go-systemd's activation package, which
// would be the module's first dependency outside main for that.

// listenFDsStart is the first inherited fd (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// maxListenFDs bounds LISTEN_FDS: a number that large is a mistake, not
// sockets.
const maxListenFDs = 1024

// Socket is a listening socket the server was handed at start-up, and the
// name its service manager gave it ("" when it gave none).
type Socket struct {
	net.Listener
	Name string
}

// Activated returns the listening sockets passed to this process by
// socket activation, or none when it was not started that way (no
// LISTEN_FDS, or a LISTEN_PID naming another process: variables inherited
// from a parent that was activated). It takes the sockets over: each fd
// is closed once a net.Listener holds a copy of it (close-on-exec, so no
// program started later inherits it), and LISTEN_FDS, LISTEN_PID and
// LISTEN_FDNAMES are removed from the environment in every case, so that
// nothing started later takes them for its own. Call it once, at
// start-up.
//
// Only stream sockets that listen are taken (a .socket unit's
// ListenStream= with Accept=no): another kind of fd is an error, and so
// is a LISTEN_FDS that is not a count.
func Activated() ([]Socket, error) {
	pid, n, names := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES")
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	return inherit(pid, n, names, os.Getpid(), listenFDsStart)
}

// inherit is Activated on the variables' values, for process self, with
// the sockets from fd first on.
func inherit(pidVar, fdsVar, namesVar string, self, first int) ([]Socket, error) {
	if fdsVar == "" {
		return nil, nil
	}
	if pid, err := strconv.Atoi(pidVar); err != nil || pid != self {
		return nil, nil // for another process (sd_listen_fds does the same)
	}
	n, err := strconv.Atoi(fdsVar)
	if err != nil || n < 0 || n > maxListenFDs {
		return nil, fmt.Errorf("socket activation: LISTEN_FDS=%q: not a count of sockets", fdsVar)
	}
	if n == 0 {
		return nil, nil
	}
	names := strings.Split(namesVar, ":")
	if len(names) != n {
		names = make([]string, n) // absent or not one per fd: no names
	}
	socks := make([]Socket, 0, n)
	for i := range n {
		fd := first + i
		ln, err := listenerOf(fd, names[i])
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			where := "fd " + strconv.Itoa(fd)
			if names[i] != "" {
				where += " (" + names[i] + ")"
			}
			return nil, fmt.Errorf("socket activation: %s: %w", where, err)
		}
		socks = append(socks, Socket{Listener: ln, Name: names[i]})
	}
	return socks, nil
}

// listenerOf takes fd over as a net.Listener and closes it: the listener
// holds a close-on-exec copy. fd is made close-on-exec first, so that it
// is not inherited even if something starts a program before it is closed.
func listenerOf(fd int, name string) (net.Listener, error) {
	syscall.CloseOnExec(fd)
	typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("not a socket: %w", err)
	}
	if typ != syscall.SOCK_STREAM {
		return nil, fmt.Errorf("not a stream socket (ListenStream= is)")
	}
	if on, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil || on == 0 {
		return nil, fmt.Errorf("not a listening socket (a .socket unit with Accept=yes passes connections: use Accept=no)")
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return net.FileListener(f)
}

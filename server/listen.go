package server

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/handshake"
)

// ReverseLookupTimeout bounds the reverse DNS lookup of a client's address
// when Config.ReverseLookup is set; past it REMOTE_HOST is the address.
const ReverseLookupTimeout = 2 * time.Second

// listener is one bound socket of the server and how the log names it.
type listener struct {
	net.Listener
	addr string // host:port, or the socket's path
	// host:port as a person puts it in a URL to reach the listener from
	// this machine: localhost for a wildcard address; "" for a Unix socket.
	urlAddr string
	name    string // an inherited socket's name, or "inherited" (Config.Sockets); "" for the others
}

// urlAddr is how a URL names the TCP listener at a: its address, or
// localhost when it listens on every interface ([::] or 0.0.0.0 is no
// address to connect to).
func urlAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	return tcp.String()
}

// listeners are every socket Run serves: the endpoint's own, the
// plain-HTTP ones that only redirect to it (Config.RedirPort), and the
// metrics' (Config.MetricsAddr).
type listeners struct {
	main     []listener
	redirect []listener
	metrics  *listener
}

func (l *listeners) close() {
	for _, ln := range l.main {
		ln.Close()
	}
	for _, ln := range l.redirect {
		ln.Close()
	}
	if l.metrics != nil {
		l.metrics.Close()
	}
}

// listen opens every listener the configuration asks for, or none: on an
// error those already open are closed (a Unix socket's file removed).
func (s *Server) listen() (_ *listeners, err error) {
	ls := &listeners{}
	defer func() {
		if err != nil {
			ls.close()
		}
	}()
	for _, sock := range s.cfg.Sockets {
		ls.main = append(ls.main, s.mainListener(sock.Listener, cmp.Or(sock.Name, "inherited")))
	}
	for _, addr := range s.cfg.Addresses {
		ln, err := listenTCP(addr)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		ls.main = append(ls.main, s.mainListener(ln, ""))
	}
	if s.cfg.UnixSocket != "" {
		ln, err := listenUnix(s.cfg.UnixSocket, s.cfg.UnixSocketMode)
		if err != nil {
			return nil, err
		}
		ls.main = append(ls.main, s.mainListener(ln, ""))
	}
	if s.cfg.MetricsAddr != "" {
		ln, err := listenTCP(s.cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("listen (metrics): %w", err)
		}
		ls.metrics = &listener{Listener: ln, addr: ln.Addr().String(), urlAddr: urlAddr(ln.Addr())}
	}
	if s.cfg.RedirPort == 0 {
		return ls, nil
	}
	for _, addr := range s.cfg.Addresses {
		host, _, _ := net.SplitHostPort(addr)
		ln, err := listenTCP(net.JoinHostPort(host, strconv.Itoa(s.cfg.RedirPort)))
		if err != nil {
			return nil, fmt.Errorf("listen (redirect): %w", err)
		}
		ls.redirect = append(ls.redirect, listener{Listener: ln, addr: ln.Addr().String(), urlAddr: urlAddr(ln.Addr())})
	}
	return ls, nil
}

// mainListener is ln as one of the endpoint's listeners, with TLS when
// configured; name is an inherited socket's (Config.Sockets).
func (s *Server) mainListener(ln net.Listener, name string) listener {
	l := listener{Listener: s.wrapTLS(&filesListener{Listener: ln, log: s.log}), addr: ln.Addr().String(), name: name}
	if ln.Addr().Network() != "unix" {
		l.urlAddr = urlAddr(ln.Addr())
	}
	return l
}

// listenUnix listens on a Unix socket at path. A socket file left behind
// by a server that is gone (nothing accepts on it) is removed first; one
// that something still accepts on is an error, and so is a path that is
// not a socket at all: neither is ours to remove. Closing the listener
// removes the file (net.UnixListener's default).
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	case fi.Mode()&fs.ModeSocket == 0:
		return nil, fmt.Errorf("unix socket %s: the path exists and is not a socket", path)
	default:
		// A connect to a Unix socket does not wait (refused at once when
		// nothing listens), so it needs no timeout.
		nc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
		if err == nil {
			nc.Close()
			return nil, fmt.Errorf("unix socket %s: another server is listening on it", path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("unix socket %s: cannot tell whether it is in use: %w", path, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("unix socket %s: remove the stale socket: %w", path, err)
		}
	}
	if mode == 0 {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		return ln, nil
	}
	// The socket appears at path with its mode already set: it is made
	// under a name of its own, given the mode, then renamed into place, so
	// that no client can connect while it still has the umask's mode.
	tmp := path + "~"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("unix socket %s: %w", tmp, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ln.SetUnlinkOnClose(false) // it would unlink tmp, which is gone
	if err := os.Chmod(tmp, mode); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	return &renamedUnixListener{UnixListener: ln, path: path}, nil
}

// renamedUnixListener removes its socket file on Close, as a
// net.UnixListener does for the path it was made at, and gives that path
// as its address.
type renamedUnixListener struct {
	*net.UnixListener
	path string
}

// Addr is the path the socket is at, not the name it was made under.
func (l *renamedUnixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *renamedUnixListener) Close() error {
	err := l.UnixListener.Close()
	os.Remove(l.path)
	return err
}

// ParseHeader splits an extra response header given as "Name: value" and
// checks it by handshake.CheckHeader's rules: the name must be an HTTP
// token and not one the server writes itself (the handshake's,
// Content-Length, Transfer-Encoding), and the value must hold no control
// character but HTAB, so that nothing can end the header line early and
// inject another. The name comes back in canonical form and the value
// without surrounding spaces.
func ParseHeader(line string) (name, value string, err error) {
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", errors.New(`want "Name: value"`)
	}
	// CanonicalMIMEHeaderKey leaves a name that is not a token as it is, for
	// CheckHeader to refuse.
	name = textproto.CanonicalMIMEHeaderKey(name)
	value = strings.Trim(value, " \t")
	if err := handshake.CheckHeader(name, value); err != nil {
		return "", "", err
	}
	return name, value, nil
}

// checkHeaders checks every header of h by ParseHeader's rules. It calls
// handshake.CheckHeader on the name as it is, rather than ParseHeader on
// "name: value": a name holding a colon would split there and pass.
func checkHeaders(h textproto.MIMEHeader) error {
	for name, values := range h {
		for _, v := range values {
			if err := handshake.CheckHeader(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

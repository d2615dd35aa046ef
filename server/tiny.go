//go:build tiny

package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/wsexec/wsexec/handshake"
)

// The tiny build (tag tiny; make tiny) serves WebSocket endpoints only,
// with no net/http and no crypto/tls linked: Run reads each request itself
// (handshake.ReadRequest), answers one request per connection, and a
// plain request gets 426 (or the refusal its path earns). Config fields of
// what it leaves out are refused by New (lacking); the types below stand in
// for the default build's, and are never used.

// TLSSettings has no fields in the tiny build: it has no TLS.
type TLSSettings struct{}

func (s *Server) secure() bool { return false }

func (s *Server) wrapTLS(ln net.Listener) net.Listener { return ln }

func newCert(*Config) (*certFiles, error) { return nil, nil }

type certFiles struct{}

func (*certFiles) load() error { return nil }

type basicAuth struct{}

func newBasicAuth(string, string) (*basicAuth, error) { return nil, errTiny }

func (*basicAuth) check(textproto.MIMEHeader) (string, error) { return "", errTiny }

func (*basicAuth) load() error { return nil }

// web has no routes in the tiny build.
type web struct{}

func newWeb(*Config, *router, *Logger) (web, error) { return web{}, nil }

// fullBuild is false in the tiny build: a branch it guards is left out of
// its binary (the shared program, the auth command, trusted proxies),
// as New refuses the Config fields that would take it.
const fullBuild = false

var errTiny = errors.New("not in the tiny build")

// lacks lists what the tiny build leaves out, as the Config fields that
// ask for it and why, in the order New checks them.
var lacks = []struct {
	Field, What string
	set         func(*Config) bool
}{
	{"StaticDir", "static files", func(c *Config) bool { return c.StaticDir != "" }},
	{"CGIDir", "CGI scripts", func(c *Config) bool { return c.CGIDir != "" }},
	{"DevConsole", "the dev console", func(c *Config) bool { return c.DevConsole }},
	{"HeaderHTTP", "plain-HTTP responses", func(c *Config) bool { return len(c.HeaderHTTP) > 0 }},
	{"RedirPort", "plain-HTTP redirects", func(c *Config) bool { return c.RedirPort != 0 }},
	{"MetricsAddr", "metrics", func(c *Config) bool { return c.MetricsAddr != "" }},
	{"Pty", "pseudo-terminals", func(c *Config) bool { return c.Pty }},
	{"Broadcast", "one program for every client", func(c *Config) bool { return c.Broadcast }},
	{"BasicAuthFile", "basic authentication", func(c *Config) bool { return c.BasicAuthFile != "" || c.BasicAuthRealm != "" }},
	{"AuthCommand", "the auth command", func(c *Config) bool { return len(c.AuthCommand) > 0 }},
	{"TrustedProxies", "trusted proxies", func(c *Config) bool { return len(c.TrustedProxies) > 0 }},
	{"ReverseLookup", "DNS resolver", func(c *Config) bool { return c.ReverseLookup }},
}

// lacking refuses a Config that asks for what the tiny build leaves out.
func lacking(cfg *Config) error {
	for _, l := range lacks {
		if l.set(cfg) {
			return &ConfigError{Fields: []string{l.Field}, Reason: "not in the tiny build, which has no " + l.What + ": use the full build"}
		}
	}
	return nil
}

// listenTCP listens on addr, host:port, without a DNS resolver (its code
// is 0.2 MB of a binary): the host is an IP address, localhost (127.0.0.1,
// where net.Listen listens for it too) or empty for every interface, and
// the port a number.
func listenTCP(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("listen tcp %s: the port is not a number", addr)
	}
	ta := &net.TCPAddr{Port: int(p)}
	switch ip, err := netip.ParseAddr(host); {
	case host == "":
	case strings.EqualFold(host, "localhost"):
		ta.IP = net.IPv4(127, 0, 0, 1)
	case err != nil:
		return nil, fmt.Errorf("listen tcp %s: %q is no IP address, and the tiny build has no DNS resolver to look it up: give its address, or use the full build", addr, host)
	default:
		ta = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p)))
	}
	ln, err := net.ListenTCP("tcp", ta)
	if err != nil {
		return nil, err
	}
	return ln, nil
}

// Run listens on every configured address and serves until ctx is done,
// as the default build's Run does, reading each request itself.
func (s *Server) Run(ctx context.Context) error {
	ls, err := s.open()
	if err != nil {
		return err
	}

	serveErr := make(chan error, len(ls.main))
	for _, ln := range ls.main {
		s.logListening(ln)
		go func() { serveErr <- s.acceptRaw(ln) }()
	}
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	ls.close()
	shutCtx, limit, cancel := s.shutdown()
	defer cancel()
	if e := s.waitConns(shutCtx, limit); err == nil {
		err = e
	}
	return err
}

// acceptRaw accepts connections on ln and serves each in a goroutine of
// its own until ln is closed, which it returns as its error. An error accepting (out of descriptors,
// most likely: filesListener logs it) is retried after a pause that
// doubles from 5 ms to 1 s, as net/http's server does, so that the
// clients waiting in the backlog get their turn once descriptors free.
func (s *Server) acceptRaw(ln net.Listener) error {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) { // Run closed it, or it was closed under us
			return fmt.Errorf("accept: %w", err)
		}
		if err != nil {
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(pause):
			case <-s.quit.Done():
				return nil
			}
			continue
		}
		pause = 0
		go s.serveRaw(nc)
	}
}

// rawReadBuffer is the size of the reader a connection's request is read
// with, which then holds what the client sent after it (as net/http's).
const rawReadBuffer = 4 << 10

// lingerTime bounds how long a refused connection is drained after its
// answer, so that the client reads the answer rather than a reset.
const lingerTime = 500 * time.Millisecond

// serveRaw reads one request from nc, within ReadHeaderTimeout and
// MaxHeaderBytes, and serves it (Server.serve). A connection that is not
// handed over to a WebSocket is closed once answered.
func (s *Server) serveRaw(nc net.Conn) {
	if !s.fresh.add(nc) {
		return
	}
	// A panic ends this connection, never the server: what net/http's
	// server does for the default build.
	w := &rawResponder{nc: nc, header: s.cfg.Header}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic", "in", "request", "remote", nc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !w.taken {
				nc.Close()
			}
		}
	}()
	nc.SetReadDeadline(time.Now().Add(s.cfg.ReadHeaderTimeout))
	w.br = bufio.NewReaderSize(nc, rawReadBuffer)
	h, err := handshake.ReadRequest(w.br, s.cfg.MaxHeaderBytes)
	s.fresh.remove(nc)
	var herr *handshake.Error
	switch {
	case errors.As(err, &herr):
		s.refuse(w, s.log.With("remote", nc.RemoteAddr().String()), herr)
		w.linger()
		return
	case err != nil: // the client went, or sent nothing in time
		nc.Close()
		return
	}
	nc.SetReadDeadline(time.Time{})
	r := newRequest(s.quit, h, nc.RemoteAddr().String())
	if s.serve(w, r) {
		// A plain request: what the path is, or why it is refused.
		_, err := s.rt.endpointFor(r)
		if err == nil {
			err = &handshake.Error{Status: 426, Reason: endpointHint, Header: textproto.MIMEHeader{"Upgrade": {"websocket"}}}
		}
		s.refuse(w, s.log.With("remote", r.remoteAddr, "path", r.path), err)
	}
	if !w.taken {
		w.linger()
	}
}

// newRequest returns the request whose head is h, from the client at
// remoteAddr. The target's path is decoded as net/http decodes it; a
// target that is not a path is left for checkRequest to refuse.
func newRequest(ctx context.Context, h *handshake.Request, remoteAddr string) *request {
	r := &request{Request: *h, remoteAddr: remoteAddr, ctx: ctx}
	if u, err := url.ParseRequestURI(h.Target); err == nil {
		r.path, r.query = u.Path, u.RawQuery
	}
	return r
}

// rawResponder answers a request serveRaw read, on its connection.
type rawResponder struct {
	nc     net.Conn
	br     *bufio.Reader
	header textproto.MIMEHeader // Config.Header, on every response
	taken  bool                 // accept handed the connection over
}

func (w *rawResponder) refuse(e *handshake.Error) {
	w.nc.SetWriteDeadline(time.Now().Add(lingerTime))
	w.nc.Write(e.AppendResponse(nil, w.header)) // the client may be gone
}

func (w *rawResponder) accept(res *handshake.Result, cfg *handshake.Config) (net.Conn, *bufio.Reader, error) {
	if err := handshake.Respond(w.nc, res, cfg); err != nil {
		w.refuse(&handshake.Error{Status: 500, Reason: "cannot complete the handshake"})
		return nil, nil, err
	}
	w.taken = true
	return w.nc, w.br, nil
}

func (w *rawResponder) abort() {}

// linger closes a connection that has been answered: its write side
// first, then what the client still sends is read and dropped for at most
// lingerTime (and 64 KiB), so that closing does not reset the connection
// before the client has read the answer.
func (w *rawResponder) linger() {
	if cw, ok := w.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		w.nc.SetReadDeadline(time.Now().Add(lingerTime))
		io.Copy(io.Discard, io.LimitReader(w.br, 64<<10))
	}
	w.nc.Close()
}

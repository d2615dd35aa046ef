//go:build tiny

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
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
		go func() { serveErr <- s.acceptRaw(ln, nil) }()
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

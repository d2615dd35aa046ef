package server

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// Defaults for the limits in Config. Each is used when its field is zero.
const (
	DefaultMaxForks          = 1024
	DefaultCloseGrace        = time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultMaxHeaderBytes    = 16 << 10
	// MinMaxHeaderBytes is the smallest MaxHeaderBytes: net/http reads
	// 4 KiB past its own limit before it refuses, so less cannot be exact.
	MinMaxHeaderBytes = 8 << 10
)

// Config is everything the server needs. Its zero value is not enough: a
// Command and a resolved Path, or a Dir, are required (or, for plain HTTP
// only, a StaticDir or CGIDir); every other field has a default.
type Config struct {
	// Command is the program's argv as the user wrote it; Path is
	// Command[0] resolved once at start-up (procio.LookPath).
	Command []string
	Path    string

	// Routing (see route.go). Dir serves every executable under it as a
	// WebSocket endpoint at its path, instead of one Command (websocketd's
	// --dir). StaticDir serves files and CGIDir runs CGI/1.1 scripts for
	// plain HTTP requests. Each is an existing directory; none is served
	// outside itself, nor its dot-files.
	Dir       string
	StaticDir string
	CGIDir    string

	// Listening. Addresses to listen on, host:port each ("" host: every
	// interface); UnixSocket, a path to listen on as well (a stale socket
	// file there is replaced; see listenUnix). TLS, when set, is used on
	// every one of them (see TLSConfig). RedirPort, when not 0, opens a
	// plain-HTTP listener on that port of each address that redirects to
	// the endpoint's scheme and port. Header goes on every response,
	// HeaderWS on the 101 only, HeaderHTTP on plain-HTTP ones only (see
	// ParseHeader for what is refused). ReverseLookup puts the client's
	// reverse DNS name in REMOTE_HOST (bounded by ReverseLookupTimeout).
	Addresses  []string
	UnixSocket string
	// UnixSocketMode, when not 0, is set on the socket file (chmod).
	UnixSocketMode os.FileMode
	TLS            *tls.Config
	RedirPort      int
	Header         http.Header
	HeaderWS       http.Header
	HeaderHTTP     http.Header
	ReverseLookup  bool

	// Framing is how messages cross the program's pipes; the zero value
	// is line mode. See Framing.
	Framing Framing
	// DevConsole serves a page to try the endpoint at its plain-HTTP URL.
	DevConsole bool
	// PassEnv names the parent's variables that reach the program.
	PassEnv []string

	// CloseGrace is how long a program gets to exit by itself after its
	// stdin closes before it is signalled (websocketd's --closems).
	// Negative means signal at once.
	CloseGrace time.Duration
	// KillGrace is the time between SIGINT, SIGTERM and SIGKILL.
	KillGrace time.Duration
	// CloseTimeout bounds the wait for a client's close frame.
	CloseTimeout time.Duration
	// MaxForks caps the programs running at once; over it, 429.
	MaxForks int
	// MaxMessageSize caps one incoming message (1009 beyond it);
	// math.MaxInt64 is no limit (wsproto.Config.MaxMessageSize).
	MaxMessageSize int64
	// ReadHeaderTimeout bounds the time to read a request's headers.
	ReadHeaderTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers together; more
	// gets 431. At least MinMaxHeaderBytes.
	MaxHeaderBytes int
	// Compression is the permessage-deflate policy; the zero value is on.
	Compression Compression

	// Policy (policy.go, keepalive.go, passstderr.go).
	//
	// Origins lists the origins allowed to connect (--origin); SameOrigin
	// also requires the Origin to name the requested Host (--sameorigin).
	// Either refuses a mismatch with 403. With neither, any origin may
	// connect; a request without Origin (not a browser) always may.
	Origins    []OriginRule
	SameOrigin bool
	// MaxForksClose: a client over MaxForks gets the handshake and a close
	// with 1013 (try again later) instead of a 429.
	MaxForksClose bool
	// Subprotocols is the server's list in preference order: the first
	// one the client also offers is answered, and a client offering only
	// others is refused with 400. Empty: the client's first offer is
	// answered. The choice is in the program's WEBSOCKET_PROTOCOL.
	Subprotocols []string
	// PingInterval: ping the client this often and drop a connection that
	// answers no ping for twice as long (0: no pings).
	PingInterval time.Duration
	// PassStderr sends the program's stderr lines to the client too, every
	// message then a JSON object tagged with its stream (passstderr.go);
	// not with FramingBinary.
	PassStderr bool

	// Version is reported in SERVER_SOFTWARE as wsexec/Version.
	Version string
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
}

// Server serves programs as WebSocket endpoints (one command, or every
// script under Config.Dir), and static files and CGI scripts over plain
// HTTP. Create it with New and start it with Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	env      baseEnv
	rt       *router
	hs       handshake.Config
	cgiPass  []string // the --passenv names CGI scripts inherit (not the server's own)
	software string
	codec    func() procio.Codec // a new codec for each connection's program

	nextID  atomic.Uint64
	running atomic.Int64 // slots taken against MaxForks: WebSocket programs and CGI scripts, from reservation to reaping

	// conns tracks hijacked connections, which http.Server.Shutdown
	// neither sees nor waits for; quit is cancelled to end them all. (A
	// request's context is no substitute: net/http may cancel it when the
	// client goes, which is not a shutdown.)
	conns   sync.WaitGroup
	quit    context.Context
	quitAll context.CancelFunc
}

//go:embed devconsole.html
var devConsole []byte

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt, err := newRouter(&cfg, log)
	if err != nil {
		return nil, err
	}
	if len(cfg.Addresses) == 0 && cfg.UnixSocket == "" {
		return nil, errors.New("no address to listen on")
	}
	if cfg.RedirPort < 0 || cfg.RedirPort > 65535 {
		return nil, fmt.Errorf("redirect port %d: not a port number", cfg.RedirPort)
	}
	if cfg.RedirPort != 0 && len(cfg.Addresses) == 0 {
		return nil, errors.New("a redirect port needs a TCP address to redirect to")
	}
	for _, h := range []http.Header{cfg.Header, cfg.HeaderWS, cfg.HeaderHTTP} {
		if err := checkHeaders(h); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.CloseGrace == 0:
		cfg.CloseGrace = DefaultCloseGrace
	case cfg.CloseGrace < 0:
		cfg.CloseGrace = 0
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = procio.DefaultKillGrace
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = wsproto.DefaultCloseTimeout
	}
	if cfg.MaxForks <= 0 {
		cfg.MaxForks = DefaultMaxForks
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = wsproto.DefaultMaxMessageSize
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	} else if cfg.MaxHeaderBytes < MinMaxHeaderBytes {
		cfg.MaxHeaderBytes = MinMaxHeaderBytes
	}
	if int(cfg.Framing) >= len(framingNames) {
		return nil, fmt.Errorf("unknown framing %v", cfg.Framing)
	}
	if cfg.PassStderr && cfg.Framing == FramingBinary {
		return nil, errors.New("PassStderr sends JSON text: it cannot be used with binary framing")
	}
	for _, p := range cfg.Subprotocols {
		if !ValidSubprotocol(p) {
			return nil, fmt.Errorf("subprotocol %q is not a token", p)
		}
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		env:      newBaseEnv(cfg.PassEnv),
		cgiPass:  inheritable(cfg.PassEnv),
		rt:       rt,
		hs:       handshake.Config{Extensions: extensionsHook(cfg.Compression)},
		software: "wsexec/" + cfg.Version,
	}
	s.codec = cfg.Framing.codec(cfg.MaxMessageSize)
	s.quit, s.quitAll = context.WithCancel(context.Background())
	s.env.reverseLookup = cfg.ReverseLookup
	if len(cfg.Header)+len(cfg.HeaderWS) > 0 { // the 101's extra headers
		s.hs.Header = cfg.Header.Clone()
		if s.hs.Header == nil {
			s.hs.Header = http.Header{}
		}
		for name, values := range cfg.HeaderWS {
			s.hs.Header[name] = append(s.hs.Header[name], values...)
		}
	}
	policyHandshake(&s.hs, &s.cfg)
	return s, nil
}

// Run listens on every configured address and serves until ctx is done.
// Then it stops accepting, closes every WebSocket with 1001 (going away),
// stops every program and returns once all are reaped, or after a bound.
// A listener that cannot be opened is an error and nothing is served. Run
// is called once per Server.
func (s *Server) Run(ctx context.Context) error {
	ls, err := s.listen()
	if err != nil {
		return err
	}

	var fresh freshConns
	// net/http lets 4 KiB past its limit through (bufio slack): take it
	// off so that the documented limit is the real one. Its sum of limit
	// and slack then cannot overflow when the limit is the largest int.
	maxHeader := s.cfg.MaxHeaderBytes - 4<<10
	hs := &http.Server{
		ConnState:         fresh.track,
		Handler:           s.withHeaders(s),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// rs serves the redirect listeners, if any; it has no WebSockets.
	rs := &http.Server{
		ConnState:         fresh.track,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          hs.ErrorLog,
	}
	serveErr := make(chan error, len(ls.main)+len(ls.redirect))
	// What is served, for the listening lines: the command, or the directories.
	var serving []any
	for _, kv := range [][2]string{{"dir", s.cfg.Dir}, {"staticdir", s.cfg.StaticDir}, {"cgidir", s.cfg.CGIDir}} {
		if kv[1] != "" {
			serving = append(serving, kv[0], kv[1])
		}
	}
	if len(s.cfg.Command) > 0 {
		serving = append(serving, "command", s.cfg.Command)
	}
	for _, ln := range ls.main {
		s.log.Info("listening", append([]any{"addr", ln.addr, "url", ln.url}, serving...)...)
		go func() { serveErr <- hs.Serve(ln) }()
	}
	if len(ls.redirect) > 0 {
		scheme := "http"
		if s.cfg.TLS != nil {
			scheme = "https"
		}
		_, port, _ := net.SplitHostPort(ls.main[0].addr)
		rs.Handler = s.withHeaders(redirectHandler(scheme, port, s.log))
		for _, ln := range ls.redirect {
			s.log.Info("redirecting", "addr", ln.addr, "to", scheme+"://HOST:"+port+"/")
			go func() { serveErr <- rs.Serve(ln) }()
		}
	}

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}

	// Stop accepting, then end the WebSockets ourselves: Shutdown does not
	// know about hijacked connections.
	s.log.Info("shutting down", "connections", s.running.Load())
	limit := s.shutdownLimit()
	shutCtx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	s.quitAll()
	fresh.closeAll()
	if e := hs.Shutdown(shutCtx); e != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", e)
	}
	rs.Shutdown(shutCtx) // only redirects: nothing worth waiting for

	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutCtx.Done():
		if err == nil {
			err = fmt.Errorf("shutdown: %d connections still open after %v", s.running.Load(), limit)
		}
	}
	return err
}

// freshConns tracks the connections that have not sent a byte yet
// (http.StateNew). http.Server.Shutdown counts them as idle only once they
// are 5 s old, so a browser's spare connection would hold up every
// shutdown; Run closes them itself, and any accepted after that.
type freshConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

// track is an http.Server.ConnState hook.
func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case state == http.StateNew && f.closing:
		c.Close()
	case state == http.StateNew:
		if f.conns == nil {
			f.conns = make(map[net.Conn]struct{})
		}
		f.conns[c] = struct{}{}
	default:
		delete(f.conns, c)
	}
}

// closeAll closes every fresh connection, and from now on each new one.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing = true
	for c := range f.conns {
		c.Close()
	}
	clear(f.conns)
}

// shutdownLimit is the longest a clean shutdown can take: a client's close
// reply, then a program's grace and the three signals, plus slack.
func (s *Server) shutdownLimit() time.Duration {
	return s.cfg.CloseTimeout + s.cfg.CloseGrace + 3*s.cfg.KillGrace + 2*time.Second
}

// ServeHTTP checks a request (see request.go) and routes it (see
// route.go): a WebSocket upgrade runs its endpoint's program, a plain
// request gets the dev console, a CGI script or a static file when
// enabled, anything else a clear refusal.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkRequest(r); err != nil {
		refuse(w, s.log.With("remote", r.RemoteAddr), err)
		return
	}
	s.route(w, r)
}

// serveWS checks the handshake, starts the endpoint's program and takes
// the connection over. It returns once the relay runs in a goroutine of its
// own (see conn.serve), which releases the connection's slot when the
// program is reaped and the socket closed.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, ep *endpoint) {
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	log := s.log.With("conn", id, "remote", r.RemoteAddr)

	res, err := handshake.Check(r, &s.hs)
	if err != nil {
		refuse(w, log, err)
		return
	}
	s.answerSubprotocol(res)
	if !s.acquire() {
		s.refuseBusy(w, log, res)
		return
	}
	s.conns.Add(1)
	c := &conn{s: s, id: id, log: log, start: time.Now()}
	// serve returns once the relay runs in a goroutine of its own (see
	// there); c.end runs when the connection is over and its program reaped.
	if err := c.serve(w, r, res, ep); err != nil {
		log.Warn("connection error", "err", err)
	}
}

// refuse answers a refused handshake with its status and reason.
func refuse(w http.ResponseWriter, log *slog.Logger, err error) {
	var herr *handshake.Error
	if !errors.As(err, &herr) {
		herr = &handshake.Error{Status: http.StatusInternalServerError, Reason: err.Error()}
	}
	log.Info("refused", "status", herr.Status, "reason", herr.Reason)
	herr.WriteTo(w)
}

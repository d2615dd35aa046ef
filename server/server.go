package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
)

// Config is everything the server needs. Its zero value is not enough: a
// Command and a resolved Path are required; every other field has a default.
type Config struct {
	// Command is the program's argv as the user wrote it; Path is
	// Command[0] resolved once at start-up (procio.LookPath).
	Command []string
	Path    string

	// Addresses to listen on, host:port each ("" host: every interface).
	Addresses []string

	// Binary selects the binary codec instead of the line codec.
	Binary bool
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
	// MaxMessageSize caps one incoming message (1009 beyond it).
	MaxMessageSize int64
	// ReadHeaderTimeout bounds the time to read a request's headers.
	ReadHeaderTimeout time.Duration
	// MaxHeaderBytes caps the size of a request's headers.
	MaxHeaderBytes int

	// Version is reported in SERVER_SOFTWARE as wsexec/Version.
	Version string
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
}

// Server serves one command as a WebSocket endpoint. Create it with New and
// start it with Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	env      baseEnv
	hs       handshake.Config
	software string

	nextID  atomic.Uint64
	running atomic.Int64 // programs started and not yet reaped

	// conns tracks hijacked connections, which http.Server.Shutdown
	// neither sees nor waits for; quit is closed to end them all. (A
	// request's context is no substitute: net/http may cancel it when the
	// client goes, which is not a shutdown.)
	conns    sync.WaitGroup
	quit     chan struct{}
	quitOnce sync.Once
}

//go:embed devconsole.html
var devConsole []byte

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Server, error) {
	if len(cfg.Command) == 0 || cfg.Path == "" {
		return nil, errors.New("no command")
	}
	if len(cfg.Addresses) == 0 {
		return nil, errors.New("no address to listen on")
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
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg:      cfg,
		log:      log,
		env:      newBaseEnv(cfg.PassEnv),
		software: "wsexec/" + cfg.Version,
		quit:     make(chan struct{}),
	}, nil
}

// Run listens on every configured address and serves until ctx is done.
// Then it stops accepting, closes every WebSocket with 1001 (going away),
// stops every program and returns once all are reaped, or after a bound.
// A listener that cannot be opened is an error and nothing is served.
func (s *Server) Run(ctx context.Context) error {
	var lns []net.Listener
	for _, addr := range s.cfg.Addresses {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("listen: %w", err)
		}
		lns = append(lns, ln)
	}

	defer s.quitOnce.Do(func() { close(s.quit) })
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}

	serveErr := make(chan error, len(lns))
	for _, ln := range lns {
		s.log.Info("listening", "addr", ln.Addr().String(), "url", "ws://"+ln.Addr().String()+"/",
			"command", s.cfg.Command)
		go func() { serveErr <- hs.Serve(ln) }()
	}

	var err error
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
	s.quitOnce.Do(func() { close(s.quit) })
	if e := hs.Shutdown(shutCtx); e != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", e)
	}
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

// shutdownLimit is the longest a clean shutdown can take: a client's close
// reply, then a program's grace and the three signals, plus slack.
func (s *Server) shutdownLimit() time.Duration {
	return s.cfg.CloseTimeout + s.cfg.CloseGrace + 3*s.cfg.KillGrace + 2*time.Second
}

// ServeHTTP routes a request: a WebSocket upgrade runs the command, a plain
// GET gets the dev console when enabled, anything else a clear refusal.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if handshake.IsUpgrade(r) {
		s.serveWS(w, r)
		return
	}
	if s.cfg.DevConsole && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(devConsole)
		return
	}
	w.Header().Set("Upgrade", "websocket")
	http.Error(w, "this is a WebSocket endpoint: connect with a WebSocket client", http.StatusUpgradeRequired)
}

// serveWS checks the handshake, starts the program, takes the connection
// over and relays until one side ends. It returns when the program is
// reaped and the socket closed.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	log := s.log.With("conn", id, "remote", r.RemoteAddr)

	res, err := handshake.Check(r, &s.hs)
	if err != nil {
		refuse(w, log, err)
		return
	}
	if s.running.Add(1) > int64(s.cfg.MaxForks) {
		s.running.Add(-1)
		w.Header().Set("Retry-After", "1")
		refuse(w, log, &handshake.Error{Status: http.StatusTooManyRequests,
			Reason: fmt.Sprintf("too many connections (--maxforks=%d)", s.cfg.MaxForks)})
		return
	}
	s.conns.Add(1)
	c := &conn{s: s, id: id, log: log, start: time.Now()}
	// serve returns once the relay runs in a goroutine of its own (see
	// there); end runs when the connection is over and its program reaped.
	c.end = func() {
		s.conns.Done()
		s.running.Add(-1)
	}
	if err := c.serve(w, r, res); err != nil {
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

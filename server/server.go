package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// Defaults for the limits in Config. Each is used when its field is zero.
const (
	DefaultMaxForks = 1024
	// NoLimit, as Config.MaxForks, lets any number of programs run.
	NoLimit                  = math.MaxInt
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
	// file there is replaced; see listenUnix). TLSSettings (tls.go; the
	// tiny build has none) say whether they speak TLS. RedirPort, when not 0, opens a
	// plain-HTTP listener on that port of each address that redirects to
	// the endpoint's scheme and port. Header goes on every response,
	// HeaderWS on the 101 only, HeaderHTTP on plain-HTTP ones only (see
	// ParseHeader for what is refused). ReverseLookup puts the client's
	// reverse DNS name in REMOTE_HOST (bounded by ReverseLookupTimeout).
	Addresses  []string
	UnixSocket string
	// UnixSocketMode, when not 0, is set on the socket file (chmod).
	UnixSocketMode os.FileMode
	TLSSettings
	RedirPort     int
	Header        textproto.MIMEHeader
	HeaderWS      textproto.MIMEHeader
	HeaderHTTP    textproto.MIMEHeader
	ReverseLookup bool

	// Sockets are listening sockets opened by someone else, such as
	// systemd (Activated): served as they are, in place of Addresses and
	// UnixSocket, which go unset with them; Run closes them when it
	// returns.
	Sockets []Socket

	// Framing is how messages cross the program's pipes; the zero value
	// is line mode. See Framing.
	Framing Framing
	// Pty gives each program a pseudo-terminal for stdout instead of a
	// pipe (procio.Config.Pty), so that it line-buffers its output; it
	// then also gets TERM=dumb, COLUMNS and LINES (see baseEnv.withPty).
	// Linux only.
	Pty bool
	// DevConsole serves a page to try the endpoint at its plain-HTTP URL.
	DevConsole bool
	// PassEnv names the parent's variables that reach the program.
	PassEnv []string

	// CloseGrace is how long a program gets to exit by itself after its
	// stdin closes before it is signalled (websocketd's --closems), and
	// KillGrace the time between SIGINT, SIGTERM and SIGKILL. They mean
	// what procio.Config's do: 0 is procio.DefaultCloseGrace and
	// procio.DefaultKillGrace, procio.AtOnce signals at once.
	CloseGrace time.Duration
	KillGrace  time.Duration
	// CloseTimeout bounds the wait for a client's close frame.
	CloseTimeout time.Duration
	// MaxForks caps the programs running at once; over it, 429. 0 means
	// DefaultMaxForks; NoLimit means none.
	MaxForks int
	// MaxMessageSize caps one incoming message (1009 beyond it), as
	// wsproto.Config's does: 0 means wsproto.DefaultMaxMessageSize,
	// wsproto.NoLimit none.
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
	// not with FramingBinary, nor with Broadcast.
	PassStderr bool

	// Broadcast (broadcast.go) runs one program per endpoint (the
	// command, or each script of Dir), shared by every client of it,
	// instead of one per client: every message it prints goes to every
	// client, every client message is a line on its stdin. Compression
	// is then without context takeover both ways (CompressionOn acts as
	// CompressionNoContext), so that one compressed frame serves every
	// client; MaxForks counts clients (the shared programs are not
	// counted).
	Broadcast bool
	// BroadcastQueue bounds, in bytes, what waits to be sent to one
	// client (past it the client is dropped: 1008 "too slow") and what
	// waits for the program's stdin (past it a client's messages wait);
	// one client message can be no larger (1009). 0 means
	// DefaultBroadcastQueue; less than MinBroadcastQueue is refused.
	BroadcastQueue int
	// BroadcastIDs (line mode only) starts each line a client sends with
	// its connection id and a space, and sends an output line "@ID TEXT"
	// to that client alone, as TEXT ("@* TEXT": TEXT to every client).
	BroadcastIDs bool
	// BroadcastEvents (line mode only; implies BroadcastIDs) tells the
	// program of each client's arrival, "+ID NAME=VALUE ...", and
	// departure, "-ID", on its stdin (events.go).
	BroadcastEvents bool

	// Gates: who may connect (auth.go has their order).
	//
	// BasicAuthFile, when set, is an htpasswd file of bcrypt entries
	// (htpasswd -B): every request must carry one of its users' name and
	// password (HTTP Basic), or gets 401 with a challenge for
	// BasicAuthRealm (DefaultRealm when empty). New reads it, Reload reads
	// it again.
	BasicAuthFile  string
	BasicAuthRealm string
	// AuthCommand, when set, is run for each WebSocket connection before
	// the upgrade (authcmd.go says what it answers); AuthPath is
	// AuthCommand[0] resolved once at start-up, as Path is Command[0]'s.
	// It gets AuthTimeout (0: DefaultAuthTimeout), and at most
	// AuthMaxForks run at once (0: DefaultAuthMaxForks; NoLimit: none).
	AuthCommand  []string
	AuthPath     string
	AuthTimeout  time.Duration
	AuthMaxForks int
	// TrustedProxies are the networks of the proxies whose word is taken
	// for the client's address, scheme and host (proxy.go).
	TrustedProxies []netip.Prefix
	// MetricsAddr, when set, is a host:port where Run serves the
	// server's metrics over plain HTTP, at /metrics (metrics.go).
	MetricsAddr string

	// Version is reported in SERVER_SOFTWARE as wsexec/Version.
	Version string
	// Logger receives every log line; nil discards them.
	Logger *Logger
}

// Server serves programs as WebSocket endpoints (one command, or every
// script under Config.Dir), and static files and CGI scripts over plain
// HTTP. Create it with New and start it with Run.
type Server struct {
	cfg      Config
	log      *Logger
	env      baseEnv
	rt       *router
	hs       handshake.Config
	cgiPass  []string // the --passenv names CGI scripts inherit (not the server's own)
	software string
	codec    func() procio.Codec // a new codec for each connection's program
	cert     *certFiles          // nil unless Config.CertFile is set
	basic    *basicAuth          // nil unless Config.BasicAuthFile is set
	authCmd  *authCommand        // nil unless Config.AuthCommand is set
	proxies  trustedProxies

	nextID  atomic.Uint64
	idBase  uint64       // the start time in nanoseconds, for UNIQUE_ID (conn.uniqueID)
	running atomic.Int64 // slots taken against MaxForks: WebSocket programs and CGI scripts, from reservation to reaping

	metrics metrics // served at Config.MetricsAddr (metrics.go)

	// fresh are the connections that have not sent a request yet, which
	// Run closes when it shuts down.
	fresh freshConns

	// The shared programs (Broadcast), by endpoint: see join. hubs is nil
	// without Broadcast.
	hubsMu sync.Mutex
	hubs   map[string]*hub

	// conns tracks hijacked connections, which net/http's Shutdown
	// neither sees nor waits for; quit is cancelled to end them all. (A
	// request's context is no substitute: net/http may cancel it when the
	// client goes, which is not a shutdown.)
	conns   sync.WaitGroup
	quit    context.Context
	quitAll context.CancelFunc
}

//go:embed devconsole.html
var devConsole []byte

// ConfigError is a Config that New refuses: the fields at fault, in the
// order a message names them, and why. Reason does not name the fields,
// so that a caller that built the Config from settings of its own (main,
// from flags) can name them in its own words.
type ConfigError struct {
	Fields []string // Config field names, e.g. "PassStderr", "Framing"
	Reason string
	Needs  string // or: the field the Fields need, which is not set
}

func (e *ConfigError) Error() string {
	if e.Needs != "" {
		return strings.Join(e.Fields, " and ") + " needs " + e.Needs
	}
	return strings.Join(e.Fields, " with ") + ": " + e.Reason
}

// New checks cfg and fills in its defaults. Each rule on the Config is
// checked here, once; a field at fault is a *ConfigError.
func New(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = discardLogger()
	}
	if err := lacking(&cfg); err != nil {
		return nil, err
	}
	rt, err := newRouter(&cfg, log)
	if err != nil {
		return nil, err
	}
	switch {
	case len(cfg.Sockets) > 0 && cfg.UnixSocket != "":
		return nil, &ConfigError{Fields: []string{"UnixSocket", "Sockets"}, Reason: "cannot be combined: the service manager makes the socket (ListenStream=PATH, SocketMode=)"}
	case len(cfg.Sockets) > 0 && len(cfg.Addresses) > 0:
		return nil, &ConfigError{Fields: []string{"Addresses", "Sockets"}, Reason: "cannot be combined: the sockets given are the listeners"}
	case len(cfg.Sockets) > 0 && cfg.RedirPort != 0:
		return nil, &ConfigError{Fields: []string{"RedirPort", "Sockets"}, Reason: "cannot be combined: it redirects from the addresses of the listeners wsexec opens"}
	case len(cfg.Addresses) == 0 && cfg.UnixSocket == "" && len(cfg.Sockets) == 0:
		return nil, errors.New("no address to listen on")
	}
	if cfg.RedirPort < 0 || cfg.RedirPort > 65535 {
		return nil, fmt.Errorf("redirect port %d: not a port number", cfg.RedirPort)
	}
	if cfg.RedirPort != 0 && len(cfg.Addresses) == 0 {
		return nil, errors.New("a redirect port needs a TCP address to redirect to")
	}
	for _, h := range []textproto.MIMEHeader{cfg.Header, cfg.HeaderWS, cfg.HeaderHTTP} {
		if err := checkHeaders(h); err != nil {
			return nil, err
		}
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
	switch {
	case cfg.MaxHeaderBytes == 0:
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	case cfg.MaxHeaderBytes < MinMaxHeaderBytes:
		return nil, &ConfigError{Fields: []string{"MaxHeaderBytes"}, Reason: fmt.Sprintf("%d is less than %d", cfg.MaxHeaderBytes, MinMaxHeaderBytes)}
	}
	if int(cfg.Framing) >= len(framingNames) {
		return nil, &ConfigError{Fields: []string{"Framing"}, Reason: fmt.Sprintf("unknown framing %v", cfg.Framing)}
	}
	if cfg.PassStderr && cfg.Framing == FramingBinary {
		return nil, &ConfigError{Fields: []string{"PassStderr", "Framing"}, Reason: "cannot be combined with binary framing: stdout and stderr go to the client as JSON text"}
	}
	if err := checkBroadcast(&cfg); err != nil {
		return nil, err
	}
	if cfg.Pty && runtime.GOOS != "linux" {
		return nil, &ConfigError{Fields: []string{"Pty"}, Reason: "needs Linux"}
	}
	for _, p := range cfg.Subprotocols {
		if !ValidSubprotocol(p) {
			return nil, &ConfigError{Fields: []string{"Subprotocols"}, Reason: fmt.Sprintf("%q is not a valid name (letters, digits and !#$%%&'*+-.^_`|~ only)", p)}
		}
	}
	cert, err := newCert(&cfg)
	if err != nil {
		return nil, err
	}
	var basic *basicAuth
	if cfg.BasicAuthFile != "" {
		if basic, err = newBasicAuth(cfg.BasicAuthFile, cfg.BasicAuthRealm); err != nil {
			return nil, err
		}
	} else if cfg.BasicAuthRealm != "" {
		return nil, &ConfigError{Fields: []string{"BasicAuthRealm"}, Reason: "needs a password file to go with it"}
	}
	var authCmd *authCommand
	switch {
	case len(cfg.AuthCommand) > 0 && cfg.AuthPath != "":
		if cfg.AuthTimeout <= 0 {
			cfg.AuthTimeout = DefaultAuthTimeout
		}
		if cfg.AuthMaxForks <= 0 {
			cfg.AuthMaxForks = DefaultAuthMaxForks
		}
		authCmd = &authCommand{path: cfg.AuthPath, args: cfg.AuthCommand, timeout: cfg.AuthTimeout, max: int64(cfg.AuthMaxForks)}
	case len(cfg.AuthCommand) > 0:
		return nil, errors.New("auth command not resolved (Config.AuthPath)")
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		env:      newBaseEnv(cfg.PassEnv),
		cgiPass:  inheritable(cfg.PassEnv),
		rt:       rt,
		hs:       handshake.Config{Extensions: extensionsHook(cfg.Compression)},
		software: "wsexec/" + cfg.Version,
		cert:     cert,
		basic:    basic,
		authCmd:  authCmd,
		proxies:  cfg.TrustedProxies,
		idBase:   uint64(time.Now().UnixNano()),
	}
	s.metrics.init()
	s.codec = cfg.Framing.codec(cfg.MaxMessageSize)
	s.quit, s.quitAll = context.WithCancel(context.Background())
	if cfg.Broadcast {
		s.hubs = make(map[string]*hub)
	}
	s.env.reverseLookup = cfg.ReverseLookup
	if cfg.Pty {
		s.env = s.env.withPty(procio.DefaultWindowSize) // the size procio gives a zero WindowSize
	}
	if len(cfg.Header)+len(cfg.HeaderWS) > 0 { // the 101's extra headers
		s.hs.Header = textproto.MIMEHeader{}
		for name, values := range cfg.Header {
			s.hs.Header[name] = append(s.hs.Header[name], values...)
		}
		for name, values := range cfg.HeaderWS {
			s.hs.Header[name] = append(s.hs.Header[name], values...)
		}
	}
	policyHandshake(&s.hs, &s.cfg)
	return s, nil
}

// urls returns the URLs a person can open on listener ln, as log
// attributes: url, where WebSocket clients connect (or, with no endpoint,
// where files and CGI scripts are served), and console, the dev console's
// page when it is on.
func (s *Server) urls(ln listener) []any {
	ws, web := "ws", "http"
	if s.secure() {
		ws, web = "wss", "https"
	}
	if ln.urlAddr == "" { // a Unix socket: no URL a browser takes
		return []any{"url", ws + "+unix://" + ln.addr}
	}
	endpoint := s.rt.command != nil || s.rt.dir != nil
	if !endpoint {
		return []any{"url", web + "://" + ln.urlAddr + "/"}
	}
	out := []any{"url", ws + "://" + ln.urlAddr + "/"}
	if s.cfg.DevConsole {
		out = append(out, "console", web+"://"+ln.urlAddr+"/")
	}
	return out
}

// ListenError is Run's error when a listener cannot be opened (the port
// is in use, no permission, a live Unix socket at the path): nothing was
// served. main gives it an exit status of its own, websocketd's.
type ListenError struct{ Err error }

func (e *ListenError) Error() string { return e.Err.Error() }
func (e *ListenError) Unwrap() error { return e.Err }

// open opens Run's listeners (a *ListenError if one cannot be) and warns
// of what would fail later: a descriptor limit too low for MaxForks, a
// --dir with no script in it.
func (s *Server) open() (*listeners, error) {
	ls, err := s.listen()
	if err != nil {
		return nil, &ListenError{Err: err}
	}
	s.checkFileLimit()
	s.checkScripts()
	return ls, nil
}

// logListening logs the line that says where ln serves, and what.
func (s *Server) logListening(ln listener) {
	attrs := append([]any{"addr", ln.addr}, s.urls(ln)...)
	if ln.name != "" {
		attrs = append(attrs, "socket", ln.name)
	}
	for _, kv := range [][2]string{{"dir", s.cfg.Dir}, {"staticdir", s.cfg.StaticDir}, {"cgidir", s.cfg.CGIDir}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	if len(s.cfg.Command) > 0 {
		attrs = append(attrs, "command", s.cfg.Command)
	}
	s.log.Info("listening", attrs...)
}

// shutdown begins Run's shutdown: it ends every WebSocket (their relays
// close with 1001) and closes the fresh connections. It returns the
// context that bounds the rest of the shutdown, the bound, and the
// context's cancel.
func (s *Server) shutdown() (context.Context, time.Duration, context.CancelFunc) {
	s.log.Info("shutting down", "connections", s.running.Load())
	limit := s.shutdownLimit()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	s.quitAll()
	s.fresh.closeAll()
	return ctx, limit, cancel
}

// waitConns waits for every WebSocket connection to end, its program
// reaped, or for ctx, which shutdown bounded by limit.
func (s *Server) waitConns(ctx context.Context, limit time.Duration) error {
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown: %d connections still open after %v", s.running.Load(), limit)
	}
}

// freshConns tracks the connections that have not sent a request yet, for
// Run to close when it shuts down: nothing of them is worth waiting for.
type freshConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

// add tracks c; once closeAll has run, it closes c instead and reports
// false.
func (f *freshConns) add(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		c.Close()
		return false
	}
	if f.conns == nil {
		f.conns = make(map[net.Conn]struct{})
	}
	f.conns[c] = struct{}{}
	return true
}

// remove stops tracking c: it has sent its request.
func (f *freshConns) remove(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
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

// graces returns the waits the program's CloseGrace and KillGrace mean
// (procio.Config.Graces).
func (s *Server) graces() (closeGrace, killGrace time.Duration) {
	return procio.Config{CloseGrace: s.cfg.CloseGrace, KillGrace: s.cfg.KillGrace}.Graces()
}

// shutdownLimit is the longest a clean shutdown can take: a client's close
// reply, then a program's grace and the three signals, plus slack; a
// shared program's stdin also gets a grace to drain (hub.leave).
func (s *Server) shutdownLimit() time.Duration {
	closeGrace, killGrace := s.graces()
	d := s.cfg.CloseTimeout + closeGrace + 3*killGrace + 2*time.Second
	if s.hubs != nil {
		d += closeGrace
	}
	return d
}

// checkBroadcast checks the Broadcast settings and fills in their
// defaults.
func checkBroadcast(cfg *Config) error {
	if !cfg.Broadcast {
		for _, f := range []struct {
			name string
			set  bool
		}{{"BroadcastQueue", cfg.BroadcastQueue != 0}, {"BroadcastIDs", cfg.BroadcastIDs}, {"BroadcastEvents", cfg.BroadcastEvents}} {
			if f.set {
				return &ConfigError{Fields: []string{f.name}, Needs: "Broadcast"}
			}
		}
		return nil
	}
	switch {
	case cfg.PassStderr:
		return &ConfigError{Fields: []string{"PassStderr", "Broadcast"}, Reason: "cannot be combined: it tags the lines of one client's own program"}
	case cfg.Framing == FramingJSON || cfg.Framing == FramingLength:
		return &ConfigError{Fields: []string{"Broadcast", "Framing"}, Reason: "cannot be combined with the json or length framing: a shared program's input and output are lines or raw bytes"}
	case cfg.Framing == FramingBinary && (cfg.BroadcastIDs || cfg.BroadcastEvents):
		return &ConfigError{Fields: []string{"BroadcastIDs", "Framing"}, Reason: "cannot be combined with binary framing: ids and events are lines"}
	case cfg.BroadcastQueue == 0:
		cfg.BroadcastQueue = DefaultBroadcastQueue
	case cfg.BroadcastQueue < MinBroadcastQueue:
		return &ConfigError{Fields: []string{"BroadcastQueue"}, Reason: fmt.Sprintf("%d is less than %d", cfg.BroadcastQueue, MinBroadcastQueue)}
	}
	cfg.BroadcastIDs = cfg.BroadcastIDs || cfg.BroadcastEvents
	if cfg.Compression == CompressionOn {
		cfg.Compression = CompressionNoContext
	}
	return nil
}

// maxMessage is the largest message a client may send: MaxMessageSize,
// and with Broadcast no more than the input queue holds, since a message
// is queued whole.
func (s *Server) maxMessage() int64 {
	if s.hubs != nil {
		return min(s.cfg.MaxMessageSize, int64(s.cfg.BroadcastQueue))
	}
	return s.cfg.MaxMessageSize
}

// serve checks a request (see request.go) and passes it through the gates
// every route shares (auth.go): a WebSocket upgrade goes on to its
// endpoint (serveUpgrade); for any other request serve returns true, for
// the plain-HTTP routes (web.go). A refusal has been answered through w.
func (s *Server) serve(w responder, r *request) (plain bool) {
	if err := checkRequest(r); err != nil {
		s.refuse(w, s.log.With("remote", r.remoteAddr), err)
		return false
	}
	if err := s.admit(r); err != nil {
		s.refuse(w, s.log.With("remote", r.remoteAddr, "path", r.path), err)
		return false
	}
	if !handshake.IsUpgrade(&r.Request) {
		return true
	}
	ep, err := s.rt.endpointFor(r)
	if err != nil {
		s.refuse(w, s.log.With("remote", r.remoteAddr, "path", r.path), err)
		return false
	}
	s.serveWS(w, r, ep)
	return false
}

// serveWS checks the handshake, starts the endpoint's program and takes
// the connection over. It returns once the relay runs in a goroutine of its
// own (see conn.serve), which releases the connection's slot when the
// program is reaped and the socket closed.
func (s *Server) serveWS(w responder, r *request, ep *endpoint) {
	n := s.nextID.Add(1)
	id := strconv.FormatUint(n, 10)
	log := s.log.With("conn", id, "remote", r.remoteAddr)

	r.Secure = requestScheme(r) == "https" // for the origin check
	res, err := handshake.Check(&r.Request, &s.hs)
	if err != nil {
		s.refuse(w, log, err)
		return
	}
	s.answerSubprotocol(res)
	who := r.who
	if fullBuild && s.authCmd != nil {
		set, err := s.authCmd.run(r.ctx, s.programEnv(r, strconv.FormatUint(s.idBase+n, 10), ep, res, who))
		if err != nil {
			s.refuse(w, log, err)
			return
		}
		who = who.apply(set)
	}
	if !s.acquire() {
		s.refuseBusy(w, log, res)
		return
	}
	s.conns.Add(1)
	c := &conn{s: s, id: id, uniqueID: strconv.FormatUint(s.idBase+n, 10), log: log, start: time.Now()}
	// serve returns once the relay runs in a goroutine of its own (see
	// there); c.end runs when the connection is over and its program reaped.
	if err := c.serve(w, r, res, ep, who); err != nil {
		log.Warn("connection error", "err", err)
	}
}

// refuse answers a refused request with its status and reason, logs it
// and counts it. Every refusal goes through here.
func (s *Server) refuse(w responder, log *Logger, err error) {
	if aerr := (*authError)(nil); errors.As(err, &aerr) {
		s.metrics.refused(aerr.status)
		log.Info("refused", "status", aerr.status, "reason", aerr.reason, "detail", aerr.detail)
		w.refuse(&handshake.Error{Status: aerr.status, Reason: aerr.reason, Header: aerr.header})
		return
	}
	var herr *handshake.Error
	if !errors.As(err, &herr) {
		herr = &handshake.Error{Status: 500, Reason: err.Error()}
	}
	log.Info("refused", "status", herr.Status, "reason", herr.Reason)
	s.metrics.refused(herr.Status)
	w.refuse(herr)
}

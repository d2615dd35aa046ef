// Command wsexec turns any program that reads stdin and writes stdout into a
// WebSocket endpoint: every client that connects gets its own process, each
// incoming message a line on its stdin, each line it prints a message back.
//
// Usage:
//
//	wsexec [flags] COMMAND [ARGS...]
//	wsexec [flags] --dir=DIR
//
// See README.md and docs/ for the flags, the program's environment and how
// connections end.
package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/shlex"
	"github.com/urfave/cli/v2"

	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/server"
	"github.com/wsexec/wsexec/wsproto"
)

// version is set at build time with -ldflags "-X main.version=..."; when
// it is not, versionString reads the build's own record.
var version = ""

// usageError is a mistake in how wsexec was invoked: exit status 2.
type usageError struct{ msg string }

// license is printed by --license.
//
//go:embed LICENSE
var license string

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit status: 0 on a clean
// shutdown, 2 for a usage error, 3 when a listener cannot be opened (as
// websocketd), 1 for anything else. What was asked for
// (--help, --version, --license) goes to stdout, errors to stderr; the
// log goes where --logto says.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.Run(args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "wsexec: %v\n", err)
	var ue *usageError
	var le *server.ListenError
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &le):
		return 3
	}
	return 1
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "wsexec",
		Usage:     "serve a program as a WebSocket endpoint, one process per connection",
		UsageText: "wsexec [flags] COMMAND [ARGS...]\nwsexec [flags] --dir=DIR",
		Description: "Every client that connects gets its own COMMAND: each message it sends is a line " +
			"on the program's stdin, each line the program prints is a message back, and the " +
			"request's headers are in the program's environment (CGI/1.1 names, as websocketd).\n" +
			"A COMMAND given as one argument with spaces, such as \"python3 -u app.py\", is " +
			"split like a shell would (no expansion) unless a file of that exact name exists.",
		Version:         versionString(),
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           withConfigFile(flags()),
		// Repeated flags are never split on commas: a header value may hold one.
		DisableSliceFlagSeparator: true,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return flagError(err, shownFlags(c.App))
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run reports errors and picks the status
		Before:         loadConfigFile,
		Action: func(c *cli.Context) error {
			if c.Bool("license") {
				fmt.Fprint(stdout, license)
				return nil
			}
			cfg, err := configFrom(c, stdout, stderr)
			if err != nil {
				return err
			}
			srv, err := server.New(cfg)
			if err != nil {
				return configError(err)
			}
			if err := serve(srv, cfg.Logger); err != nil {
				return err
			}
			cfg.Logger.Info("stopped")
			return nil
		},
	}
	app.CustomAppHelpTemplate = helpText(app)
	return app
}

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "port", Category: catListening, Value: 80, Usage: "TCP `PORT` to listen on (0 picks a free one; the log says which)"},
		&cli.StringSliceFlag{Name: "address", Category: catListening, Usage: "interface `ADDRESS` to listen on, repeatable; IPv6 in brackets, e.g. [::1] (default: every interface)"},
		&cli.BoolFlag{Name: "binary", Category: catProgram, Usage: "binary mode: the same as --framing=binary (websocketd's flag)"},
		&cli.StringFlag{Name: "framing", Category: catProgram, Value: "lines", Usage: "how messages cross the program's pipes, `MODE`: lines (each message a line), binary (raw bytes, each stdout read a message), json (each message a JSON line {\"type\":\"text\"|\"binary\",\"data\":...} both ways) or length (each message a 9-byte header, type and length, then its bytes, both ways); json and length keep messages exact"},
		&cli.BoolFlag{Name: "pty", Category: catProgram, Usage: "give the program a terminal for stdout (stdin and stderr stay pipes), so that it line-buffers: python3, awk, grep and C programs send each line as they print it. Raw (no \\r added, no echo), 80x24, TERM=dumb. Linux only"},
		&cli.IntFlag{Name: "closems", Category: catProgram, Value: int(procio.DefaultCloseGrace / time.Millisecond), Usage: "`MS` a program gets to exit by itself after its stdin closes, before SIGINT, SIGTERM, SIGKILL (0: signal at once)"},
		&cli.StringFlag{Name: "passenv", Category: catProgram, Value: "PATH,LD_LIBRARY_PATH", Usage: "comma-separated `NAMES` of the parent's environment variables passed to the program"},
		&cli.IntFlag{Name: "maxforks", Category: catLimits, Value: server.DefaultMaxForks, Usage: "most programs running at once (`N`; 0: no limit); over it a new connection is refused, see --maxforks-mode"},
		&cli.Int64Flag{Name: "maxframesize", Category: catLimits, Value: wsproto.DefaultMaxMessageSize, Usage: "largest incoming message in `BYTES` (0: no limit); a larger one closes the connection with 1009"},
		&cli.StringFlag{Name: "loglevel", Category: catLogging, Value: "access", Usage: "log `LEVEL`: debug, trace, access, info, error, fatal or none"},
		&cli.StringFlag{Name: "logto", Category: catLogging, Value: "stdout", Usage: "where the log goes: `WHERE` is stdout (as websocketd), stderr, or a file to append to (created if need be; ./stdout for a file of that name)"},
		&cli.BoolFlag{Name: "devconsole", Category: catRouting, Usage: "serve a page at the endpoint's http:// URL to try it from a browser; with --dir, / and each directory list their scripts (not with --staticdir or --cgidir)"},
		&cli.StringFlag{Name: "dir", Category: catRouting, Usage: "serve every executable under `DIR` as an endpoint at its path (/a/b.sh/x: script a/b.sh, PATH_INFO /x), instead of a COMMAND"},
		&cli.StringFlag{Name: "staticdir", Category: catRouting, Usage: "serve the files under `DIR` to plain HTTP requests, following symlinks that stay inside it (never dot-files, nor a program's files: the COMMAND, files its arguments name, scripts of --dir and --cgidir, their links and backups)"},
		&cli.StringFlag{Name: "cgidir", Category: catRouting, Usage: "run the CGI/1.1 scripts under `DIR` for plain HTTP requests, at their paths"},
		&cli.StringFlag{Name: "logformat", Category: catLogging, Value: "text", Usage: "log `FORMAT`: text (logfmt, key=value) or json (one JSON object a line)"},
		&cli.StringFlag{Name: "metrics", Category: catLogging, Usage: "serve Prometheus metrics at http://`ADDR`/metrics, ADDR a host:port such as 127.0.0.1:9100 (plain HTTP: keep it on loopback or a private network)"},
		// Limits wsexec adds (websocketd has no flag for them).
		&cli.IntFlag{Name: "maxheadersize", Category: catLimits, Value: server.DefaultMaxHeaderBytes, Usage: "largest request header block in `BYTES`; a larger one gets 431"},
		&cli.IntFlag{Name: "headertimeoutms", Category: catLimits, Value: int(server.DefaultReadHeaderTimeout / time.Millisecond), Usage: "`MS` a client gets to send its request headers before the connection is dropped"},
		&cli.IntFlag{Name: "closetimeoutms", Category: catLimits, Value: int(wsproto.DefaultCloseTimeout / time.Millisecond), Usage: "`MS` to wait for a client's close frame (and for any control frame write) before dropping the connection"},
		// Listening, TLS, response headers and the config file (see listen_flags.go).
		&cli.StringFlag{Name: "unixsocket", Category: catListening, Aliases: []string{"uds"}, Usage: "also listen on a Unix socket at `PATH`; without --port or --address it is the only listener. A stale socket file there is replaced, a live one is an error"},
		&cli.StringFlag{Name: "socketmode", Category: catListening, Usage: "permissions of the --unixsocket file, in octal `MODE` such as 0660 (default: as the umask leaves them)"},
		&cli.BoolFlag{Name: "ssl", Category: catTLS, Usage: "serve TLS 1.2+ (wss://) with --sslcert and --sslkey; the default port becomes 443"},
		&cli.StringFlag{Name: "sslcert", Category: catTLS, Usage: "certificate chain `FILE` (PEM) for --ssl"},
		&cli.StringFlag{Name: "sslkey", Category: catTLS, Usage: "private key `FILE` (PEM) for --ssl"},
		&cli.StringFlag{Name: "sslca", Category: catTLS, Usage: "CA certificates `FILE` (PEM): with --ssl every client must present a certificate one of them signed (mutual TLS)"},
		&cli.IntFlag{Name: "redirport", Category: catListening, Usage: "also listen on `PORT` with plain HTTP, redirecting every request to the endpoint's scheme and port, path and query kept"},
		&cli.StringSliceFlag{Name: "header", Category: catRouting, Usage: "add the header `LINE` (\"Name: value\", a comma is part of the value) to every response, repeatable"},
		&cli.StringSliceFlag{Name: "header-ws", Category: catRouting, Usage: "add the header `LINE` to WebSocket upgrade (101) responses only, repeatable"},
		&cli.StringSliceFlag{Name: "header-http", Category: catRouting, Usage: "add the header `LINE` to plain HTTP responses only, repeatable"},
		&cli.BoolFlag{Name: "reverselookup", Category: catProgram, Usage: "REMOTE_HOST is the client's reverse DNS name (a lookup of at most 2 s per connection) instead of its address"},
		&cli.BoolFlag{Name: "license", Category: catOther, Usage: "print the license and exit"},
		&cli.StringFlag{Name: "config", Category: catOther, Usage: "read settings from `FILE` (.yaml, .yml or .toml; keys are flag names, another key is an error); the command line wins"},
		// Policy: who may connect, and how connections are kept.
		&cli.StringSliceFlag{Name: "origin", Category: catPolicy, Usage: "allow only the origins in `LIST`, each [scheme://]host[:port] (no port: any port; *.host: its subdomains; null: file:// pages), comma-separated or repeated; others get 403. A request with no Origin (not a browser) is allowed"},
		&cli.BoolFlag{Name: "anyorigin", Category: catPolicy, Usage: "allow every origin: the default, stated (websocketd's flag; not with --origin or --sameorigin)"},
		&cli.BoolFlag{Name: "sameorigin", Category: catPolicy, Usage: "allow only an Origin naming the request's scheme (http, or https with --ssl) and Host (host and port); others get 403. Host is the client's word: this does not stop DNS rebinding, --origin does"},
		&cli.StringFlag{Name: "maxforks-mode", Category: catLimits, Value: "429", Usage: "what a connection over --maxforks gets: `MODE` 429 (HTTP 429 before the upgrade) or 1013 (the upgrade, then close code 1013 try again later, which browser scripts can see)"},
		&cli.IntFlag{Name: "pingms", Category: catPolicy, Usage: "ping each client every `MS` milliseconds and drop one that answers no ping for twice as long, stopping its program (0: no pings)"},
		&cli.BoolFlag{Name: "passstderr", Category: catProgram, Usage: "send stdout and stderr lines to the client as JSON, {\"stream\":\"stdout\",\"data\":\"...\"} and {\"stream\":\"stderr\",...}; with --framing=json or length each message also has \"type\", binary data in base64 (not with --binary)"},
		&cli.StringSliceFlag{Name: "subprotocol", Category: catPolicy, Usage: "subprotocol `NAMES` the program speaks, in order of preference, comma-separated or repeated: the first the client offers is answered, a client offering only others gets 400 (default: answer the client's first offer); the program sees it in WEBSOCKET_PROTOCOL"},
		&cli.StringFlag{Name: "compression", Category: catPolicy, Value: "on", Usage: "permessage-deflate `MODE`: on (context takeover, best ratio; an idle connection keeps about 41 KB), nocontext (each message compressed on its own; nothing kept when idle) or off"},
		// One program for every client (server/broadcast.go).
		&cli.BoolFlag{Name: "broadcast", Category: catProgram, Usage: "run one COMMAND (with --dir: one per script) for every client instead of one each: every line it prints goes to every client, every client message is a line on its stdin; it starts with the first client and stops when the last leaves"},
		&cli.IntFlag{Name: "broadcastqueue", Category: catProgram, Value: server.DefaultBroadcastQueue, Usage: "with --broadcast: most `BYTES` waiting to be sent to one client (one further behind is dropped with close code 1008) and waiting for the program's stdin (senders then wait); also the largest client message (1009)"},
		&cli.BoolFlag{Name: "broadcast-ids", Category: catProgram, Usage: "with --broadcast: each line a client sends reaches the program as \"ID message\"; a line the program prints as \"@ID text\" goes to that client alone (\"@* text\": to all)"},
		&cli.BoolFlag{Name: "broadcast-events", Category: catProgram, Usage: "with --broadcast: the program reads \"+ID NAME=VALUE ...\" when a client joins (its CGI variables, values %-escaped) and \"-ID\" when it leaves; implies --broadcast-ids"},
		// Gates: who may connect (docs/security.md, "Authentication").
		&cli.StringFlag{Name: "basicauth", Category: catPolicy, Usage: "require HTTP Basic authentication on every request (WebSocket, dev console, static files, CGI) against the htpasswd `FILE` of bcrypt entries (htpasswd -B); others get 401. Read again on SIGHUP"},
		&cli.StringFlag{Name: "basicauth-realm", Category: catPolicy, Usage: "the `REALM` --basicauth's 401 names, which browsers show when they ask for a password (default: " + server.DefaultRealm + ")"},
		&cli.StringFlag{Name: "auth-command", Category: catPolicy, Usage: "run `CMD` before each WebSocket upgrade with the environment the program would get: exit 0 admits (stdout lines REMOTE_USER=..., AUTH_TYPE=..., AUTH_*=... reach the program), another exit refuses with 403, or 401 with each stdout line WWW-Authenticate: ... as a challenge"},
		&cli.IntFlag{Name: "auth-timeoutms", Category: catPolicy, Value: int(server.DefaultAuthTimeout / time.Millisecond), Usage: "`MS` an --auth-command gets before it is killed and the client refused with 503"},
		&cli.IntFlag{Name: "auth-maxforks", Category: catPolicy, Value: server.DefaultAuthMaxForks, Usage: "most --auth-command processes running at once (`N`; 0: no limit); over it a client gets 503 with Retry-After"},
		&cli.StringSliceFlag{Name: "trustedproxies", Category: catPolicy, Usage: "take the client's address, scheme and host from X-Forwarded-For (or Forwarded), X-Forwarded-Proto and X-Forwarded-Host, only on connections from the proxies in `CIDRS` (10.0.0.0/8, 127.0.0.1, ...; comma-separated or repeated)"},
	}
}

// configFrom validates the flags and the command and builds the server's
// configuration. Every problem is a usageError naming what is wrong.
func configFrom(c *cli.Context, stdout, stderr io.Writer) (server.Config, error) {
	var cfg server.Config
	level, err := parseLevel(c.String("loglevel"))
	if err != nil {
		return cfg, err
	}
	port := c.Int("port")
	if port < 0 || port > 65535 {
		return cfg, usagef("--port %d: not a port number (0 to 65535)", port)
	}
	// A flag's 0 is websocketd's: "at once" for --closems, "no limit" for
	// --maxforks and --maxframesize. The Config has a name for each (its
	// own 0 is the default), set here and nowhere else.
	if cfg.CloseGrace, err = millis(c, "closems", 0); err != nil {
		return cfg, err
	} else if cfg.CloseGrace == 0 {
		cfg.CloseGrace = procio.AtOnce
	}
	switch cfg.MaxForks = c.Int("maxforks"); {
	case cfg.MaxForks < 0:
		return cfg, usagef("--maxforks %d: must not be negative (0: no limit)", cfg.MaxForks)
	case cfg.MaxForks == 0:
		cfg.MaxForks = server.NoLimit
	}
	switch cfg.MaxMessageSize = c.Int64("maxframesize"); {
	case cfg.MaxMessageSize < 0:
		return cfg, usagef("--maxframesize %d: must not be negative (0: no limit)", cfg.MaxMessageSize)
	case cfg.MaxMessageSize == 0:
		cfg.MaxMessageSize = wsproto.NoLimit // messages are streamed, never held whole
	}
	if err := listenFrom(c, &cfg, port); err != nil {
		return cfg, err
	}
	cfg.PassEnv = splitList([]string{c.String("passenv")})
	if cfg.Compression, err = server.ParseCompression(c.String("compression")); err != nil {
		return cfg, usagef("--compression %q: %v", c.String("compression"), err)
	}
	if cfg.Framing, err = server.ParseFraming(c.String("framing")); err != nil {
		return cfg, usagef("--framing %q: %v", c.String("framing"), err)
	}
	if c.Bool("binary") {
		if c.IsSet("framing") && cfg.Framing != server.FramingBinary {
			return cfg, usagef("--binary is --framing=binary: it cannot be used with --framing=%v", cfg.Framing)
		}
		cfg.Framing = server.FramingBinary
	}
	cfg.Pty = c.Bool("pty")
	cfg.DevConsole = c.Bool("devconsole")
	cfg.MaxHeaderBytes = c.Int("maxheadersize")
	if cfg.ReadHeaderTimeout, err = millis(c, "headertimeoutms", 1); err != nil {
		return cfg, err
	}
	if cfg.CloseTimeout, err = millis(c, "closetimeoutms", 1); err != nil {
		return cfg, err
	}
	if err := policyFrom(c, &cfg); err != nil {
		return cfg, err
	}
	if err := broadcastFrom(c, &cfg); err != nil {
		return cfg, err
	}
	// The command (or --dir) last: every flag is checked before a missing
	// program is reported.
	if err := routing(c, &cfg); err != nil {
		return cfg, err
	}
	if cfg.MetricsAddr, err = metricsAddr(c.String("metrics")); err != nil {
		return cfg, err
	}
	cfg.Version = versionString()
	// The log last: a file it names is created only once the flags
	// checked here have passed (server.New checks the rest after).
	logTo, err := logDestination(c.String("logto"), stdout, stderr)
	if err != nil {
		return cfg, err
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := c.String("logformat"); f {
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(logTo, opts))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(logTo, opts))
	default:
		return cfg, usagef("--logformat %q: want text or json", f)
	}
	return cfg, nil
}

// metricsAddr checks --metrics: a host:port, the host optional (every
// interface), IPv6 in brackets.
func metricsAddr(addr string) (string, error) {
	if addr == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usagef("--metrics %q: want HOST:PORT, such as 127.0.0.1:9100", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", usagef("--metrics %q: %q is not a port number (0 to 65535)", addr, port)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, ":/ []") {
		return "", usagef("--metrics %q: %q is not an IP address or host name", addr, host)
	}
	return addr, nil
}

// policyFrom reads the policy flags into cfg: origins, the --maxforks
// mode, pings, --passstderr, subprotocols and the gates.
func policyFrom(c *cli.Context, cfg *server.Config) error {
	var err error
	if cfg.Origins, err = server.ParseOriginRules(splitList(c.StringSlice("origin"))); err != nil {
		return usagef("--origin %v", err)
	}
	cfg.SameOrigin = c.Bool("sameorigin")
	if c.Bool("anyorigin") && (len(cfg.Origins) > 0 || cfg.SameOrigin) {
		return usagef("--anyorigin cannot be used with --origin or --sameorigin")
	}
	switch mode := c.String("maxforks-mode"); mode {
	case "429":
	case "1013":
		cfg.MaxForksClose = true
	default:
		return usagef("--maxforks-mode %q: want 429 or 1013", mode)
	}
	if cfg.PingInterval, err = millis(c, "pingms", 0); err != nil {
		return err
	}
	cfg.PassStderr = c.Bool("passstderr")
	// After any --header-ws="Sec-WebSocket-Protocol: ..." (listenFrom).
	cfg.Subprotocols = append(splitList(c.StringSlice("subprotocol")), cfg.Subprotocols...)
	return gatesFrom(c, cfg)
}

// gatesFrom reads the authentication and proxy flags into cfg.
func gatesFrom(c *cli.Context, cfg *server.Config) error {
	var err error
	if cfg.BasicAuthFile = c.String("basicauth"); c.IsSet("basicauth") && cfg.BasicAuthFile == "" {
		return usagef("--basicauth: empty file name")
	}
	if c.IsSet("basicauth-realm") {
		cfg.BasicAuthRealm = c.String("basicauth-realm")
	}
	if v := c.String("auth-command"); v != "" {
		if cfg.AuthCommand, cfg.AuthPath, err = command([]string{v}); err != nil {
			return usagef("--auth-command %q: %v", v, err)
		}
	}
	if cfg.AuthTimeout, err = millis(c, "auth-timeoutms", 1); err != nil {
		return err
	}
	switch cfg.AuthMaxForks = c.Int("auth-maxforks"); {
	case cfg.AuthMaxForks < 0:
		return usagef("--auth-maxforks %d: must not be negative (0: no limit)", cfg.AuthMaxForks)
	case cfg.AuthMaxForks == 0:
		cfg.AuthMaxForks = server.NoLimit
	}
	if cfg.TrustedProxies, err = server.ParseTrustedProxies(splitList(c.StringSlice("trustedproxies"))); err != nil {
		return usagef("--trustedproxies %v", err)
	}
	return nil
}

// broadcastFrom reads the --broadcast flags into cfg (server.New checks
// how they go together).
func broadcastFrom(c *cli.Context, cfg *server.Config) error {
	cfg.Broadcast = c.Bool("broadcast")
	cfg.BroadcastIDs, cfg.BroadcastEvents = c.Bool("broadcast-ids"), c.Bool("broadcast-events")
	if c.IsSet("broadcastqueue") { // its default is the Config's 0
		cfg.BroadcastQueue = c.Int("broadcastqueue")
	}
	return nil
}

// splitList splits each value at commas (urfave/cli does not: its slice
// separator is off so that header values keep theirs), trims spaces and
// drops blanks.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// logDestination opens where --logto says the log goes: stdout, stderr,
// or a file, appended to (created 0640, less the umask). A file is kept
// open until wsexec exits.
func logDestination(where string, stdout, stderr io.Writer) (io.Writer, error) {
	switch where {
	case "stdout":
		return stdout, nil
	case "stderr":
		return stderr, nil
	case "":
		return nil, usagef("--logto: empty (want stdout, stderr or a file name)")
	}
	f, err := os.OpenFile(where, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, usagef("--logto %s: %v", where, pathErr(err))
	}
	return f, nil
}

// parseLevel maps websocketd's log levels onto slog's. access lines are
// logged at Info, so "access" and "info" show the same lines.
func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "access", "info":
		return slog.LevelInfo, nil
	case "error":
		return slog.LevelError, nil
	case "fatal":
		return slog.LevelError + 4, nil
	case "none":
		return slog.LevelError + 8, nil // above every level logged
	}
	return 0, usagef("--loglevel %q: want debug, trace, access, info, error, fatal or none", s)
}

// addresses joins each --address with the port. An empty list listens on
// every interface.
func addresses(hosts []string, port int) ([]string, error) {
	if len(hosts) == 0 {
		hosts = []string{""}
	}
	p := fmt.Sprint(port)
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if strings.HasPrefix(h, "[") {
			if !strings.HasSuffix(h, "]") {
				return nil, usagef("--address %q: unbalanced brackets", h)
			}
			h = h[1 : len(h)-1]
		}
		if h != "" && net.ParseIP(h) == nil && strings.ContainsAny(h, ":/ ") {
			return nil, usagef("--address %q: not an IP address or host name (IPv6 goes in brackets)", h)
		}
		out = append(out, net.JoinHostPort(h, p))
	}
	return out, nil
}

// routing fills in cfg's routing from --dir, --staticdir, --cgidir and the
// COMMAND. How they go together (as in websocketd: a COMMAND or --dir, not
// both, one of them unless --staticdir or --cgidir is given, and
// --devconsole with neither of those) is server.New's to check.
func routing(c *cli.Context, cfg *server.Config) error {
	cfg.Dir, cfg.StaticDir, cfg.CGIDir = c.String("dir"), c.String("staticdir"), c.String("cgidir")
	for _, d := range []struct{ flag, dir string }{{"dir", cfg.Dir}, {"staticdir", cfg.StaticDir}, {"cgidir", cfg.CGIDir}} {
		if c.IsSet(d.flag) && d.dir == "" { // the Config cannot tell this from the flag's absence
			return usagef("--%s: empty directory name", d.flag)
		}
	}
	if args := c.Args().Slice(); len(args) > 0 {
		var err error
		cfg.Command, cfg.Path, err = command(args)
		return err
	}
	return nil
}

// flagOf names the flag (or argument) that sets each server.Config field
// server.New may refuse.
var flagOf = map[string]string{
	"Command":         "COMMAND",
	"Dir":             "--dir",
	"StaticDir":       "--staticdir",
	"CGIDir":          "--cgidir",
	"DevConsole":      "--devconsole",
	"PassStderr":      "--passstderr",
	"Framing":         "--framing (or --binary)",
	"Pty":             "--pty",
	"Subprotocols":    "--subprotocol",
	"MaxHeaderBytes":  "--maxheadersize",
	"Broadcast":       "--broadcast",
	"UnixSocket":      "--unixsocket",
	"RedirPort":       "--redirport",
	"Sockets":         "sockets from systemd (LISTEN_FDS)",
	"BroadcastQueue":  "--broadcastqueue",
	"BroadcastIDs":    "--broadcast-ids",
	"BroadcastEvents": "--broadcast-events",
	"BasicAuthFile":   "--basicauth",
	"BasicAuthRealm":  "--basicauth-realm",
}

// configError is server.New's refusal in the CLI's words: a usage error
// naming the flags at fault.
func configError(err error) error {
	var ce *server.ConfigError
	if !errors.As(err, &ce) {
		return usagef("%v", err)
	}
	name := func(field string) string {
		if f := flagOf[field]; f != "" {
			return f
		}
		return field
	}
	names := make([]string, len(ce.Fields))
	for i, f := range ce.Fields {
		names[i] = name(f)
	}
	msg := strings.Join(names, " with ") + ": " + ce.Reason
	if ce.Needs != "" {
		msg = strings.Join(names, " and ") + " needs " + name(ce.Needs)
	}
	if len(ce.Fields) == 1 && ce.Fields[0] == "Command" {
		msg += " (usage: wsexec [flags] COMMAND [ARGS...] or wsexec [flags] --dir=DIR)"
	}
	return usagef("%s", msg)
}

// maxMillis is the largest value a millisecond flag takes (about 24
// days): larger ones would overflow a time.Duration or the arithmetic on
// it (twice --pingms, say).
const maxMillis = math.MaxInt32

// millis reads the millisecond flag name as a duration of at least least
// milliseconds.
func millis(c *cli.Context, name string, least int) (time.Duration, error) {
	ms := c.Int(name)
	switch {
	case ms < least:
		return 0, usagef("--%s %d: must be at least %d", name, ms, least)
	case ms > maxMillis:
		return 0, usagef("--%s %d: must be at most %d (about 24 days)", name, ms, maxMillis)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// command resolves the program once, at start-up. A single argument that
// holds spaces and is not itself a file is split the way a shell would
// split it (quotes, backslashes; no variables, globs or pipes).
func command(args []string) ([]string, string, error) {
	errNoCommand := usagef("no command given: usage: wsexec [flags] COMMAND [ARGS...] or wsexec [flags] --dir=DIR")
	if len(args) == 0 {
		return nil, "", errNoCommand
	}
	if len(args) == 1 && strings.ContainsAny(args[0], " \t") {
		if _, err := os.Stat(args[0]); err != nil {
			words, err := shlex.Split(args[0])
			if err != nil {
				return nil, "", usagef("command %q: %v", args[0], err)
			}
			if len(words) == 0 {
				return nil, "", errNoCommand
			}
			args = words
		}
	}
	path, err := procio.LookPath(args[0])
	if err != nil {
		return nil, "", commandNotFound(args[0], err)
	}
	return args, path, nil
}

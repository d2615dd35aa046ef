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
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/shlex"
	"github.com/urfave/cli/v2"

	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/server"
	"github.com/wsexec/wsexec/wsproto"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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
	os.Exit(run(os.Args, os.Stderr))
}

// run executes the CLI and returns the process exit status: 0 on a clean
// shutdown, 2 for a usage error, 1 for anything else.
func run(args []string, stderr io.Writer) int {
	app := newApp(stderr)
	err := app.Run(args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "wsexec: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func newApp(stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "wsexec",
		Usage:     "serve a program as a WebSocket endpoint, one process per connection",
		UsageText: "wsexec [flags] COMMAND [ARGS...]\nwsexec [flags] --dir=DIR",
		Description: "Every client that connects gets its own COMMAND: each message it sends is a line\n" +
			"on the program's stdin, each line the program prints is a message back, and the\n" +
			"request's headers are in the program's environment (CGI/1.1 names).\n" +
			"A COMMAND given as one argument with spaces, such as \"python3 -u app.py\", is\n" +
			"split like a shell would (no expansion) unless a file of that exact name exists.",
		Version:         version,
		Writer:          stderr,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           withConfigFile(flags()),
		// Repeated flags are never split on commas: a header value may hold one.
		DisableSliceFlagSeparator: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usagef("%v (see --help)", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run reports errors and picks the status
		Before:         loadConfigFile,
		Action: func(c *cli.Context) error {
			if c.Bool("license") {
				fmt.Fprint(os.Stdout, license)
				return nil
			}
			cfg, err := configFrom(c, stderr)
			if err != nil {
				return err
			}
			srv, err := server.New(cfg)
			if err != nil {
				return usagef("%v", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				stop() // a second signal kills at once
			}()
			if err := srv.Run(ctx); err != nil {
				return err
			}
			cfg.Logger.Info("stopped")
			return nil
		},
	}
}

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "port", Value: 80, Usage: "TCP `PORT` to listen on (0 picks a free one; the log says which)"},
		&cli.StringSliceFlag{Name: "address", Usage: "interface `ADDRESS` to listen on, repeatable; IPv6 in brackets, e.g. [::1] (default: every interface)"},
		&cli.BoolFlag{Name: "binary", Usage: "binary mode: the same as --framing=binary (websocketd's flag)"},
		&cli.StringFlag{Name: "framing", Value: "lines", Usage: "how messages cross the program's pipes, `MODE`: lines (each message a line), binary (raw bytes, each stdout read a message), json (each message a JSON line {\"type\":\"text\"|\"binary\",\"data\":...} both ways) or length (each message a 9-byte header, type and length, then its bytes, both ways); json and length keep messages exact"},
		&cli.IntFlag{Name: "closems", Value: int(server.DefaultCloseGrace / time.Millisecond), Usage: "`MS` a program gets to exit by itself after its stdin closes, before SIGINT, SIGTERM, SIGKILL (0: signal at once)"},
		&cli.StringFlag{Name: "passenv", Value: "PATH,LD_LIBRARY_PATH", Usage: "comma-separated `NAMES` of the parent's environment variables passed to the program"},
		&cli.IntFlag{Name: "maxforks", Value: server.DefaultMaxForks, Usage: "most programs running at once (`N`; 0: no limit); over it a new connection is refused, see --maxforks-mode"},
		&cli.Int64Flag{Name: "maxframesize", Value: wsproto.DefaultMaxMessageSize, Usage: "largest incoming message in `BYTES` (0: no limit); a larger one closes the connection with 1009"},
		&cli.StringFlag{Name: "loglevel", Value: "access", Usage: "log `LEVEL`: debug, trace, access, info, error, fatal or none"},
		&cli.BoolFlag{Name: "devconsole", Usage: "serve a page at the endpoint's http:// URL to try it from a browser (not with --staticdir or --cgidir)"},
		&cli.StringFlag{Name: "dir", Usage: "serve every executable under `DIR` as an endpoint at its path (/a/b.sh/x: script a/b.sh, PATH_INFO /x), instead of a COMMAND"},
		&cli.StringFlag{Name: "staticdir", Usage: "serve the files under `DIR` to plain HTTP requests (never dot-files, nor a program's files: the COMMAND, files its arguments name, scripts of --dir and --cgidir, their links and backups)"},
		&cli.StringFlag{Name: "cgidir", Usage: "run the CGI/1.1 scripts under `DIR` for plain HTTP requests, at their paths"},
		// Limits wsexec adds (websocketd has no flag for them).
		&cli.IntFlag{Name: "maxheadersize", Value: server.DefaultMaxHeaderBytes, Usage: "largest request header block in `BYTES`; a larger one gets 431"},
		&cli.IntFlag{Name: "headertimeoutms", Value: int(server.DefaultReadHeaderTimeout / time.Millisecond), Usage: "`MS` a client gets to send its request headers before the connection is dropped"},
		&cli.IntFlag{Name: "closetimeoutms", Value: int(wsproto.DefaultCloseTimeout / time.Millisecond), Usage: "`MS` to wait for a client's close frame (and for any control frame write) before dropping the connection"},
		// Listening, TLS, response headers and the config file (see listen_flags.go).
		&cli.StringFlag{Name: "unixsocket", Aliases: []string{"uds"}, Usage: "also listen on a Unix socket at `PATH`; without --port or --address it is the only listener. A stale socket file there is replaced, a live one is an error"},
		&cli.StringFlag{Name: "socketmode", Usage: "permissions of the --unixsocket file, in octal `MODE` such as 0660 (default: as the umask leaves them)"},
		&cli.BoolFlag{Name: "ssl", Usage: "serve TLS 1.2+ (wss://) with --sslcert and --sslkey; the default port becomes 443"},
		&cli.StringFlag{Name: "sslcert", Usage: "certificate chain `FILE` (PEM) for --ssl"},
		&cli.StringFlag{Name: "sslkey", Usage: "private key `FILE` (PEM) for --ssl"},
		&cli.StringFlag{Name: "sslca", Usage: "CA certificates `FILE` (PEM): with --ssl every client must present a certificate one of them signed (mutual TLS)"},
		&cli.IntFlag{Name: "redirport", Usage: "also listen on `PORT` with plain HTTP, redirecting every request to the endpoint's scheme and port, path and query kept"},
		&cli.StringSliceFlag{Name: "header", Usage: "add the header `LINE` (\"Name: value\", a comma is part of the value) to every response, repeatable"},
		&cli.StringSliceFlag{Name: "header-ws", Usage: "add the header `LINE` to WebSocket upgrade (101) responses only, repeatable"},
		&cli.StringSliceFlag{Name: "header-http", Usage: "add the header `LINE` to plain HTTP responses only, repeatable"},
		&cli.BoolFlag{Name: "reverselookup", Usage: "REMOTE_HOST is the client's reverse DNS name (a lookup of at most 2 s per connection) instead of its address"},
		&cli.BoolFlag{Name: "license", Usage: "print the license and exit"},
		&cli.StringFlag{Name: "config", Usage: "read settings from `FILE` (.yaml, .yml or .toml; keys are flag names, another key is an error); the command line wins"},
		// Policy: who may connect, and how connections are kept.
		&cli.StringSliceFlag{Name: "origin", Usage: "allow only the origins in `LIST`, each [scheme://]host[:port] (no port: any port; *.host: its subdomains; null: file:// pages), comma-separated or repeated; others get 403. A request with no Origin (not a browser) is allowed"},
		&cli.BoolFlag{Name: "anyorigin", Usage: "allow every origin: the default, stated (websocketd's flag; not with --origin or --sameorigin)"},
		&cli.BoolFlag{Name: "sameorigin", Usage: "allow only an Origin naming the request's scheme (http, or https with --ssl) and Host (host and port); others get 403. Host is the client's word: this does not stop DNS rebinding, --origin does"},
		&cli.StringFlag{Name: "maxforks-mode", Value: "429", Usage: "what a connection over --maxforks gets: `MODE` 429 (HTTP 429 before the upgrade) or 1013 (the upgrade, then close code 1013 try again later, which browser scripts can see)"},
		&cli.IntFlag{Name: "pingms", Usage: "ping each client every `MS` milliseconds and drop one that answers no ping for twice as long, stopping its program (0: no pings)"},
		&cli.BoolFlag{Name: "passstderr", Usage: "send stdout and stderr lines to the client as JSON, {\"stream\":\"stdout\",\"data\":\"...\"} and {\"stream\":\"stderr\",...}; with --framing=json or length each message also has \"type\", binary data in base64 (not with --binary)"},
		&cli.StringSliceFlag{Name: "subprotocol", Usage: "subprotocol `NAMES` the program speaks, in order of preference, comma-separated or repeated: the first the client offers is answered, a client offering only others gets 400 (default: answer the client's first offer); the program sees it in WEBSOCKET_PROTOCOL"},
		&cli.StringFlag{Name: "compression", Value: "on", Usage: "permessage-deflate `MODE`: on (context takeover, best ratio; an idle connection keeps about 41 KB), nocontext (each message compressed on its own; nothing kept when idle) or off"},
	}
}

// configFrom validates the flags and the command and builds the server's
// configuration. Every problem is a usageError naming what is wrong.
func configFrom(c *cli.Context, stderr io.Writer) (server.Config, error) {
	var cfg server.Config
	level, err := parseLevel(c.String("loglevel"))
	if err != nil {
		return cfg, err
	}
	port := c.Int("port")
	if port < 0 || port > 65535 {
		return cfg, usagef("--port %d: not a port number (0 to 65535)", port)
	}
	if ms := c.Int("closems"); ms < 0 {
		return cfg, usagef("--closems %d: must not be negative", ms)
	} else if ms == 0 {
		cfg.CloseGrace = -1 // signal at once
	} else {
		cfg.CloseGrace = time.Duration(ms) * time.Millisecond
	}
	// 0 is "no limit" for both, as in websocketd.
	switch cfg.MaxForks = c.Int("maxforks"); {
	case cfg.MaxForks < 0:
		return cfg, usagef("--maxforks %d: must not be negative (0: no limit)", cfg.MaxForks)
	case cfg.MaxForks == 0:
		cfg.MaxForks = math.MaxInt32
	}
	switch cfg.MaxMessageSize = c.Int64("maxframesize"); {
	case cfg.MaxMessageSize < 0:
		return cfg, usagef("--maxframesize %d: must not be negative (0: no limit)", cfg.MaxMessageSize)
	case cfg.MaxMessageSize == 0:
		cfg.MaxMessageSize = math.MaxInt64 // messages are streamed, never held whole
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
	cfg.DevConsole = c.Bool("devconsole")
	if cfg.MaxHeaderBytes = c.Int("maxheadersize"); cfg.MaxHeaderBytes < server.MinMaxHeaderBytes {
		return cfg, usagef("--maxheadersize %d: must be at least %d", cfg.MaxHeaderBytes, server.MinMaxHeaderBytes)
	}
	for _, lim := range []struct {
		flag string
		dst  *time.Duration
	}{{"headertimeoutms", &cfg.ReadHeaderTimeout}, {"closetimeoutms", &cfg.CloseTimeout}} {
		ms := c.Int(lim.flag)
		if ms < 1 {
			return cfg, usagef("--%s %d: must be at least 1", lim.flag, ms)
		}
		*lim.dst = time.Duration(ms) * time.Millisecond
	}
	if err := policyFrom(c, &cfg); err != nil {
		return cfg, err
	}
	// The command (or --dir) last: every flag is checked before a missing
	// program is reported.
	if err := routing(c, &cfg); err != nil {
		return cfg, err
	}
	cfg.Version = version
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return cfg, nil
}

// policyFrom reads the policy flags into cfg: origins, the --maxforks
// mode, pings, --passstderr and subprotocols.
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
	ms := c.Int("pingms")
	if ms < 0 {
		return usagef("--pingms %d: must not be negative", ms)
	}
	cfg.PingInterval = time.Duration(ms) * time.Millisecond
	if cfg.PassStderr = c.Bool("passstderr"); cfg.PassStderr && cfg.Framing == server.FramingBinary {
		return usagef("--passstderr sends JSON text: it cannot be used with --binary (--framing=binary)")
	}
	for _, name := range splitList(c.StringSlice("subprotocol")) {
		if !server.ValidSubprotocol(name) {
			return usagef("--subprotocol %q: not a valid name (letters, digits and !#$%%&'*+-.^_`|~ only)", name)
		}
		cfg.Subprotocols = append(cfg.Subprotocols, name)
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

// routing checks --dir, --staticdir, --cgidir and --devconsole against the
// COMMAND and fills in cfg's routing. As in websocketd, a COMMAND and --dir
// exclude each other, one of them is needed unless --staticdir or --cgidir
// is given, and --devconsole goes with neither --staticdir nor --cgidir.
func routing(c *cli.Context, cfg *server.Config) error {
	args := c.Args().Slice()
	cfg.Dir, cfg.StaticDir, cfg.CGIDir = c.String("dir"), c.String("staticdir"), c.String("cgidir")
	for _, d := range []struct{ flag, dir string }{{"dir", cfg.Dir}, {"staticdir", cfg.StaticDir}, {"cgidir", cfg.CGIDir}} {
		if !c.IsSet(d.flag) {
			continue
		}
		fi, err := os.Stat(d.dir)
		switch {
		case d.dir == "":
			return usagef("--%s: empty directory name", d.flag)
		case err != nil:
			return usagef("--%s %q: %v", d.flag, d.dir, pathErr(err))
		case !fi.IsDir():
			return usagef("--%s %q: not a directory", d.flag, d.dir)
		}
	}
	if c.Bool("devconsole") && (cfg.StaticDir != "" || cfg.CGIDir != "") {
		return usagef("--devconsole cannot be used with --staticdir or --cgidir (the console would hide their files)")
	}
	switch {
	case cfg.Dir != "" && len(args) > 0:
		return usagef("--dir and a COMMAND (%q) given: use one or the other", args[0])
	case cfg.Dir != "":
		return nil
	case len(args) == 0 && (cfg.StaticDir != "" || cfg.CGIDir != ""):
		return nil // plain HTTP only, as websocketd allows
	}
	var err error
	cfg.Command, cfg.Path, err = command(args)
	return err
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
		return nil, "", usagef("%v", err)
	}
	return args, path, nil
}

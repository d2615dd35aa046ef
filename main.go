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
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/shlex"

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
	err := parseAndRun(args, stdout, stderr)
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

// start is what a command line that parsed asks for: the license, or the
// server it describes, run until a signal stops it. args are what follows
// the flags: the COMMAND and its arguments.
func start(c flagValues, args []string, stdout, stderr io.Writer) error {
	if c.Bool("license") {
		fmt.Fprint(stdout, license)
		return nil
	}
	cfg, err := configFrom(c, args, stdout, stderr)
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
}

// flagValues is how the flags' values are read: *cli.Context has these
// methods in the default build, tinyFlags in the tiny one. A flag the
// build lacks reads as its default.
type flagValues interface {
	String(name string) string
	Int(name string) int
	Int64(name string) int64
	Bool(name string) bool
	StringSlice(name string) []string
	IsSet(name string) bool
}

// configFrom validates the flags and the command and builds the server's
// configuration. Every problem is a usageError naming what is wrong.
func configFrom(c flagValues, args []string, stdout, stderr io.Writer) (server.Config, error) {
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
	if err := routing(c, &cfg, args); err != nil {
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
	switch f := c.String("logformat"); f {
	case "text", "json":
		cfg.Logger = server.NewLogger(logTo, f == "json", level)
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
func policyFrom(c flagValues, cfg *server.Config) error {
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
func gatesFrom(c flagValues, cfg *server.Config) error {
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
func broadcastFrom(c flagValues, cfg *server.Config) error {
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

// parseLevel maps websocketd's log levels onto the server's (slog's).
// access lines are logged at Info, so "access" and "info" show the same
// lines.
func parseLevel(s string) (server.Level, error) {
	switch strings.ToLower(s) {
	case "debug", "trace":
		return server.LevelDebug, nil
	case "access", "info":
		return server.LevelInfo, nil
	case "error":
		return server.LevelError, nil
	case "fatal":
		return server.LevelError + 4, nil
	case "none":
		return server.LevelError + 8, nil // above every level logged
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
func routing(c flagValues, cfg *server.Config, args []string) error {
	cfg.Dir, cfg.StaticDir, cfg.CGIDir = c.String("dir"), c.String("staticdir"), c.String("cgidir")
	for _, d := range []struct{ flag, dir string }{{"dir", cfg.Dir}, {"staticdir", cfg.StaticDir}, {"cgidir", cfg.CGIDir}} {
		if c.IsSet(d.flag) && d.dir == "" { // the Config cannot tell this from the flag's absence
			return usagef("--%s: empty directory name", d.flag)
		}
	}
	if len(args) > 0 {
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
func millis(c flagValues, name string, least int) (time.Duration, error) {
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

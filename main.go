// Command wsexec turns any program that reads stdin and writes stdout into a
// WebSocket endpoint: every client that connects gets its own process, each
// incoming message a line on its stdin, each line it prints a message back.
//
// Usage:
//
//	wsexec [flags] COMMAND [ARGS...]
//
// See README.md and docs/ for the flags, the program's environment and how
// connections end.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
		UsageText: "wsexec [flags] COMMAND [ARGS...]",
		Description: "Every client that connects gets its own COMMAND: each message it sends is a line\n" +
			"on the program's stdin, each line the program prints is a message back, and the\n" +
			"request's headers are in the program's environment (CGI/1.1 names).\n" +
			"A COMMAND given as one argument with spaces, such as \"python3 -u app.py\", is\n" +
			"split like a shell would (no expansion) unless a file of that exact name exists.",
		Version:         version,
		Writer:          stderr,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           flags(),
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usagef("%v (see --help)", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run reports errors and picks the status
		Action: func(c *cli.Context) error {
			cfg, logger, err := configFrom(c, stderr)
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
			logger.Info("stopped")
			return nil
		},
	}
}

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "port", Value: 80, Usage: "TCP `PORT` to listen on (0 picks a free one; the log says which)"},
		&cli.StringSliceFlag{Name: "address", Usage: "interface `ADDRESS` to listen on, repeatable; IPv6 in brackets, e.g. [::1] (default: every interface)"},
		&cli.BoolFlag{Name: "binary", Usage: "binary mode: messages are raw bytes on stdin, each stdout read is one binary message"},
		&cli.IntFlag{Name: "closems", Value: int(server.DefaultCloseGrace / time.Millisecond), Usage: "`MS` a program gets to exit by itself after its stdin closes, before SIGINT, SIGTERM, SIGKILL (0: signal at once)"},
		&cli.StringFlag{Name: "passenv", Value: "PATH,LD_LIBRARY_PATH", Usage: "comma-separated `NAMES` of the parent's environment variables passed to the program"},
		&cli.IntFlag{Name: "maxforks", Value: server.DefaultMaxForks, Usage: "most programs running at once; over it a new connection gets 429 (`N`)"},
		&cli.Int64Flag{Name: "maxframesize", Value: wsproto.DefaultMaxMessageSize, Usage: "largest incoming message in `BYTES`; a larger one closes the connection with 1009"},
		&cli.StringFlag{Name: "loglevel", Value: "access", Usage: "log `LEVEL`: debug, trace, access, info, error or fatal"},
		&cli.StringFlag{Name: "compression", Value: "on", Usage: "permessage-deflate `MODE`: on (context takeover, best ratio), nocontext (no per-connection compression memory when idle) or off"},
		&cli.BoolFlag{Name: "devconsole", Usage: "serve a page at the endpoint's http:// URL to try it from a browser"},
	}
}

// configFrom validates the flags and the command and builds the server's
// configuration. Every problem is a usageError naming what is wrong.
func configFrom(c *cli.Context, stderr io.Writer) (server.Config, *slog.Logger, error) {
	var cfg server.Config
	level, err := parseLevel(c.String("loglevel"))
	if err != nil {
		return cfg, nil, err
	}
	port := c.Int("port")
	if port < 0 || port > 65535 {
		return cfg, nil, usagef("--port %d: not a port number (0 to 65535)", port)
	}
	if ms := c.Int("closems"); ms < 0 {
		return cfg, nil, usagef("--closems %d: must not be negative", ms)
	} else if ms == 0 {
		cfg.CloseGrace = -1 // signal at once
	} else {
		cfg.CloseGrace = time.Duration(ms) * time.Millisecond
	}
	if cfg.MaxForks = c.Int("maxforks"); cfg.MaxForks < 1 {
		return cfg, nil, usagef("--maxforks %d: must be at least 1", cfg.MaxForks)
	}
	if cfg.MaxMessageSize = c.Int64("maxframesize"); cfg.MaxMessageSize < 1 {
		return cfg, nil, usagef("--maxframesize %d: must be at least 1", cfg.MaxMessageSize)
	}
	if cfg.Addresses, err = addresses(c.StringSlice("address"), port); err != nil {
		return cfg, nil, err
	}
	for _, name := range strings.Split(c.String("passenv"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			cfg.PassEnv = append(cfg.PassEnv, name)
		}
	}
	if cfg.Command, cfg.Path, err = command(c.Args().Slice()); err != nil {
		return cfg, nil, err
	}
	if cfg.Compression, err = server.ParseCompression(c.String("compression")); err != nil {
		return cfg, nil, usagef("--compression %q: %v", c.String("compression"), err)
	}
	cfg.Binary = c.Bool("binary")
	cfg.DevConsole = c.Bool("devconsole")
	cfg.Version = version
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return cfg, cfg.Logger, nil
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
	}
	return 0, usagef("--loglevel %q: want debug, trace, access, info, error or fatal", s)
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

// command resolves the program once, at start-up. A single argument that
// holds spaces and is not itself a file is split the way a shell would
// split it (quotes, backslashes; no variables, globs or pipes).
func command(args []string) ([]string, string, error) {
	if len(args) == 0 {
		return nil, "", usagef("no command given: usage: wsexec [flags] COMMAND [ARGS...]")
	}
	if len(args) == 1 && strings.ContainsAny(args[0], " \t") {
		if _, err := os.Stat(args[0]); err != nil {
			words, err := shlex.Split(args[0])
			if err != nil {
				return nil, "", usagef("command %q: %v", args[0], err)
			}
			if len(words) == 0 {
				return nil, "", usagef("no command given: usage: wsexec [flags] COMMAND [ARGS...]")
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

package main

import (
	"errors"
	"io/fs"
	"net/textproto"
	"os"
	"strconv"
	"strings"

	"github.com/wsexec/wsexec/server"
)

// listenFrom fills in the listening part of cfg from the flags: TCP
// addresses, the Unix socket, TLS, the redirect port, extra response
// headers and reverse lookups. port is --port, already checked.
func listenFrom(c flagValues, cfg *server.Config, port int) error {
	ssl := c.Bool("ssl")
	if ssl && !c.IsSet("port") {
		port = 443 // as websocketd
	}
	cfg.UnixSocket = c.String("unixsocket")
	if cfg.UnixSocket != "" && strings.ContainsRune(cfg.UnixSocket, 0) {
		return usagef("--unixsocket %q: not a path", cfg.UnixSocket)
	}
	if m := c.String("socketmode"); m != "" {
		mode, err := strconv.ParseUint(m, 8, 32)
		if err != nil || mode > 0o777 {
			return usagef("--socketmode %q: want octal permissions such as 0660", m)
		}
		if cfg.UnixSocket == "" {
			return usagef("--socketmode needs --unixsocket")
		}
		cfg.UnixSocketMode = os.FileMode(mode)
	}
	// Sockets from systemd replace --port and --address (server.New
	// refuses them with --unixsocket and --redirport): a unit's command
	// line may keep the flags it has without socket activation.
	socks, err := server.Activated()
	if err != nil {
		return err
	}
	cfg.Sockets = socks
	// A Unix socket alone means no TCP listener, unless TCP is asked for.
	tcp := len(cfg.Sockets) == 0 && (cfg.UnixSocket == "" || c.IsSet("port") || c.IsSet("address"))
	addrs, err := addresses(c.StringSlice("address"), port) // checked even when replaced
	if err != nil {
		return err
	}
	if tcp {
		cfg.Addresses = addrs
	}

	if err := tlsFrom(c, cfg, ssl); err != nil {
		return err
	}

	cfg.RedirPort = c.Int("redirport")
	switch {
	case cfg.RedirPort < 0 || cfg.RedirPort > 65535:
		return usagef("--redirport %d: not a port number (1 to 65535)", cfg.RedirPort)
	case cfg.RedirPort != 0 && !tcp && len(cfg.Sockets) == 0:
		return usagef("--redirport needs a TCP listener (--port or --address) to redirect to")
	case cfg.RedirPort != 0 && cfg.RedirPort == port:
		return usagef("--redirport %d: the same as --port", cfg.RedirPort)
	}

	for _, f := range []struct {
		name string
		dst  *textproto.MIMEHeader
	}{{"header", &cfg.Header}, {"header-ws", &cfg.HeaderWS}, {"header-http", &cfg.HeaderHTTP}} {
		for _, line := range c.StringSlice(f.name) {
			// websocketd answered subprotocol clients only through a
			// header of the 101 set by hand; wsexec takes that header as
			// the --subprotocol it means, so such a command line runs
			// unchanged (the handshake's headers are otherwise refused).
			if name, value, ok := strings.Cut(line, ":"); ok && f.name != "header-http" &&
				textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) == "Sec-Websocket-Protocol" {
				cfg.Subprotocols = append(cfg.Subprotocols, splitList([]string{value})...)
				continue
			}
			name, value, err := server.ParseHeader(line)
			if err != nil {
				return usagef("--%s %q: %v", f.name, line, err)
			}
			if *f.dst == nil {
				*f.dst = textproto.MIMEHeader{}
			}
			f.dst.Add(name, value)
		}
	}
	cfg.ReverseLookup = c.Bool("reverselookup")
	return nil
}

// pathErr drops the operation and path from a file error whose message
// names the path already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

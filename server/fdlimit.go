package server

import (
	"math"
	"syscall"
)

// fdsPerConnection is how many file descriptors one WebSocket connection
// holds while its program runs: the socket; the server's ends of the
// program's stdin, stdout and stderr pipes; the pidfd procio waits on (on
// Linux only: elsewhere this over-counts by one). A CGI script holds
// fewer. docs/security.md gives operators the cost.
const fdsPerConnection = 5

// fdsSpare is what the server holds besides its connections, with room to
// spare: the standard streams, the listeners, the runtime's and procio's
// epoll sets, and what comes and goes (connections still sending their
// request, static files being served, a program's ends of its pipes while
// it starts).
const fdsSpare = 64

// checkFileLimit warns when the file descriptor limit cannot hold MaxForks
// connections: past it, accepting a connection or starting a program
// fails. The Go runtime has raised the soft limit to the hard one already
// (Go 1.19 on), and syscall gives the programs the limit wsexec started
// with, so the limit read here is the most wsexec can have without
// privileges.
func (s *Server) checkFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	limit := uint64(lim.Cur)
	if need := fdsNeeded(s.cfg.MaxForks); need > limit {
		s.log.Warn("file descriptor limit too low for maxforks",
			"limit", limit, "need", need, "maxforks", s.cfg.MaxForks,
			"holds", (max(limit, fdsSpare)-fdsSpare)/fdsPerConnection, "per_connection", fdsPerConnection,
			"fix", "raise the limit (ulimit -n, or LimitNOFILE= under systemd) or lower --maxforks")
	}
}

// fdsNeeded is how many file descriptors maxForks connections take,
// fdsSpare included; it saturates at math.MaxUint64.
func fdsNeeded(maxForks int) uint64 {
	n := uint64(max(maxForks, 0))
	if n > (math.MaxUint64-fdsSpare)/fdsPerConnection {
		return math.MaxUint64
	}
	return n*fdsPerConnection + fdsSpare
}

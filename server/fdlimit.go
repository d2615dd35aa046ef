package server

import (
	"errors"
	"math"
	"net"
	"net/textproto"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/handshake"
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

// noFilesRetry is the Retry-After of a refusal for want of descriptors:
// connections that end give theirs back, so a client that tries again a
// few seconds later may get in.
const noFilesRetry = "5"

// outOfFiles reports whether err is the process's descriptor limit
// (EMFILE) or the system's (ENFILE).
func outOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// refuseStart answers a request whose program could not start, and
// reports whether that was a fault for the caller to log as one. Out of
// descriptors it is 503 with Retry-After: a load the server can shed, as a
// full --maxforks is (429), and the one line logged names the limit and
// how many descriptors are open, which tell the operator what to raise.
// Otherwise it is the handshake.Error in err, or a 500.
func (s *Server) refuseStart(w responder, log *Logger, err error) (fault bool) {
	if outOfFiles(err) {
		s.refuse(w, log.With(fileUse(err)...), &handshake.Error{
			Status: 503,
			Reason: "out of file descriptors, try again later",
			Header: textproto.MIMEHeader{"Retry-After": {noFilesRetry}},
		})
		return false
	}
	herr := &handshake.Error{Status: 500, Reason: "cannot start the program"}
	errors.As(err, &herr)
	s.refuse(w, log, herr)
	return true
}

// fileUse returns the log attributes of running out of descriptors: the
// soft RLIMIT_NOFILE, how many are open (when that can be counted), and
// err.
func fileUse(err error) []any {
	var attrs []any
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		attrs = append(attrs, "limit", uint64(lim.Cur))
	}
	if n := openFiles(); n >= 0 {
		attrs = append(attrs, "open", n)
	}
	return append(attrs, "err", err)
}

// filesListener is a main listener that logs when accepting runs out of
// descriptors, at most once every filesWarnEvery. net/http's Serve retries
// such an accept itself, waiting 5 ms and doubling up to a second, and says
// so at debug level only: the client waits in the listen backlog until a
// descriptor is free, and is then answered as any other (a 503 if its
// program cannot start either). That is kept rather than answering 503
// from a reserve descriptor closed for the purpose: descriptors run out at
// accept only while every one is held, and every refused WebSocket gives
// its socket back within milliseconds (docs/benchmarks.md, descriptors),
// so the wait is short; sockets that hold one for longer without a
// program (a client slow to send its request, an idle keep-alive one) are
// bounded by the header and idle timeouts; and a 503 written before
// net/http has read the request would need the TLS handshake done in the
// accept loop. Serve's one goroutine calls Accept.
type filesListener struct {
	net.Listener
	log    *Logger
	warned time.Time // when it last logged
	failed int       // accepts that ran out since then
}

// filesWarnEvery spaces the warnings of running out at accept: while
// clients keep coming, an accept fails each time the one before has
// taken the last descriptor.
const filesWarnEvery = 10 * time.Second

func (l *filesListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil && outOfFiles(err) {
		l.failed++
		if now := time.Now(); now.Sub(l.warned) >= filesWarnEvery {
			l.log.Warn("out of file descriptors: accepting waits for one to be free", append(fileUse(err), "failed_accepts", l.failed)...)
			l.warned, l.failed = now, 0
		}
	}
	return nc, err
}

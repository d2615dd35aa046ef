package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// conn is one WebSocket connection and the program serving it.
type conn struct {
	s     *Server
	id    string
	log   *slog.Logger
	start time.Time

	ws    *wsproto.Conn
	p     *procio.Process
	codec procio.Codec
	stdin *stdinBatch // readPump's

	programEnded atomic.Bool // set by writePump once the program has been reaped

	// A panic in any of the connection's goroutines fails the connection
	// (crashed); live is ws for them, set once the WebSocket exists.
	failed atomic.Bool
	live   atomic.Pointer[wsproto.Conn]

	// The write pump's, kept between its goroutines (see writePump).
	out         *sink
	dst         procio.Sink // out, or the --passstderr tagger over it
	resumeWrite func()
	writeDone   chan<- closeFrame

	ka     *keepalive                  // --pingms; nil when off
	tag    *tagger                     // --passstderr; nil when off
	errLog atomic.Pointer[slog.Logger] // c.log for stderr lines, which may come before c.log has the pid
}

// serve starts the program and completes the handshake, then hands the
// relay to a goroutine of its own and returns: net/http then lets go of
// everything it kept for the request (the handler goroutine's stack, its
// buffers, the request), which was most of an idle connection's memory. That
// goroutine relays until one side ends, winds both down, logs the disconnect
// line and calls c.end. The error serve returns is one worth a warning; c.end
// has then been called.
func (c *conn) serve(w http.ResponseWriter, r *http.Request, res *handshake.Result, ep *endpoint) (err error) {
	defer wrapErr(&err, "conn %s", c.id)
	handedOff := false
	var nc net.Conn // once hijacked
	defer func() {
		if handedOff {
			return
		}
		v := recover()
		if v != nil {
			c.logPanic("handshake", v)
			if nc != nil {
				nc.Close()
			}
			if c.p != nil {
				c.p.Stop()
			}
		}
		c.end()
		if v != nil {
			panic(http.ErrAbortHandler) // net/http drops the request without another stack trace
		}
	}()
	s := c.s

	// Start the program before sending 101, so that a program that cannot
	// start is a 500 the client can see rather than a dropped WebSocket.
	env := s.env.build(envRequest{
		r:          r,
		id:         c.id,
		software:   s.software,
		scriptName: ep.scriptName,
		pathInfo:   ep.pathInfo,
		translated: ep.translated,
		localPort:  localPort(r),
	})
	if res.Subprotocol != "" {
		env = append(env, "WEBSOCKET_PROTOCOL="+res.Subprotocol) // the answered subprotocol
	}
	c.tag = newTagger(s.cfg.PassStderr)
	c.errLog.Store(c.log)
	p, err := procio.Start(procio.Config{
		Path:       ep.path,
		Args:       ep.args,
		Env:        env,
		Stderr:     c.stderr,
		Quiet:      quietAfter,
		CloseGrace: s.cfg.CloseGrace,
		KillGrace:  s.cfg.KillGrace,
	})
	if err != nil {
		refuse(w, c.log, &handshake.Error{Status: http.StatusInternalServerError, Reason: "cannot start the program"})
		return fmt.Errorf("start: %w", err)
	}
	c.p = p
	c.log = c.log.With("pid", p.Pid())
	c.errLog.Store(c.log)

	var br *bufio.Reader
	nc, br, err = handshake.Accept(w, res, &s.hs)
	if err != nil {
		c.tag.detach()
		p.Stop()
		return fmt.Errorf("accept: %w", err)
	}
	c.ka = newKeepalive(s.cfg.PingInterval)
	// The WebSocket reads through batchReader, which writes out the stdin
	// batch before each socket read (batch.go); the write buffer is pooled,
	// so its size costs an idle connection nothing. The batch writes
	// through stdinWriter, which notices a client that leaves while the
	// program is not reading and tells the ping watchdog.
	c.stdin = &stdinBatch{w: &stdinWriter{p: p, nc: nc, ka: c.ka}}
	c.ws = wsproto.NewConn(nc, bufio.NewReaderSize(newBatchReader(br, nc, c.stdin), readBufferSize), wsproto.Config{
		MaxMessageSize:  s.cfg.MaxMessageSize,
		CloseTimeout:    s.cfg.CloseTimeout,
		WriteBufferSize: writeBufferSize,
		OnPong:          c.ka.onPong(),
		Deflate:         s.cfg.Compression.deflateParams(res),
	})
	c.live.Store(c.ws)
	c.ka.start(c.ws, c.crashed)
	c.codec = s.codec()
	c.log.Info("connect", "path", r.URL.Path, "subprotocol", res.Subprotocol)

	handedOff = true
	go func() {
		defer func() {
			if v := recover(); v != nil {
				c.crashed("relay", v)
				p.Stop()
			}
			c.end()
		}()
		code, reason := c.relay()
		nc.Close()
		c.ka.stop()
		state := p.Wait()
		c.log.Info("disconnect", "code", code, "reason", reason,
			"exit", procio.ExitReason(state), "dur", time.Since(c.start).Round(time.Millisecond))
	}()
	return nil
}

// relay runs the two pumps and ends them both once either ends or the
// server shuts down. It returns the close code and reason of the connection
// as the client saw it, for the access log.
//
// The pumps: readPump is the only socket reader and stdin writer, and runs
// in relay's own goroutine; writePump is the only stdout reader and the only
// writer of data frames (with --passstderr, stderr lines too, serialised
// with it by the tagger). Control frames (pong, close replies) are written by
// wsproto under its write lock. The read pump is what relay waits on: the
// two other ways a connection ends make it return in bounded time. A
// program that ended has its close frame sent by the write pump, which sets
// a read deadline of the close timeout; a shutdown sends 1001 from
// goingAway.
func (c *conn) relay() (code uint16, reason string) {
	writeDone := make(chan closeFrame, 1)
	c.writeDone = writeDone
	c.out = &sink{ws: c.ws}
	c.dst = c.out
	if c.tag != nil {
		c.dst = c.tag.attach(c.out) // stdout and stderr lines as JSON
	}
	c.resumeWrite = c.writePump // a method value is made once: making one allocates
	go c.writePump()
	nc := c.ws.NetConn()

	readDone := make(chan struct{})
	awayDone := make(chan struct{})
	awaySent := false // goingAway's 1001 went out; read after awayDone
	stopShutdown := context.AfterFunc(c.s.quit, func() {
		defer close(awayDone)
		defer c.recoverIn("shutdown")
		awaySent = c.goingAway(readDone)
	})
	readErr := c.readPump() // how the read pump ended
	close(readDone)
	if !stopShutdown() {
		// goingAway has started: wait for it, so that it neither undoes
		// the write deadlines set below nor outlives the connection, and
		// so that awaySent is known. With readDone closed it returns once
		// its close frame is written or has failed.
		<-awayDone
	}

	switch {
	case awaySent:
		// Server shutdown, and our 1001 was the close frame the client
		// got: it answered, or the close timeout passed. Stop the program.
		// (A shutdown that came after the program's close went out, or
		// after the client's, is logged as that close, below.)
		code, reason = wsproto.CloseGoingAway, "going away"
		nc.SetWriteDeadline(time.Now())
		c.p.Stop()
		<-writeDone

	case c.programEnded.Load():
		// The program ended and the write pump is sending (or has sent)
		// its close frame; the read pump ended with the client's reply,
		// the close timeout or the client gone.
		cf := <-writeDone
		code, reason = cf.code, cf.reason
		if !cf.sent {
			// Our close never went out: the client closed first (the
			// program then exited on its stdin closing), vanished or broke
			// the protocol. Its side is what the connection ended with.
			code, reason = closeCodeOf(readErr)
		}

	default:
		// The client closed, vanished or broke the protocol, or a pump
		// panicked (crashed sent 1011). Nothing more can reach the
		// client, so stop writing at once: a program blocked on a full
		// stdout pipe then sees its stdin close and can exit by itself.
		code, reason = closeCodeOf(readErr)
		c.ws.AbortWrites() // frees a write (and a ping queued behind it)
		if c.ka.stop() {   // the client answered no ping: it is gone
			reason = "ping timeout"
		}
		c.p.Stop()
		<-writeDone
	}
	if c.failed.Load() {
		code, reason = wsproto.CloseInternalError, errPanic.Error()
	}
	// This side failed the connection: its close frame is out, so let the
	// client's reply arrive before TCP closes.
	if ce := (*wsproto.CloseError)(nil); errors.As(readErr, &ce) && !ce.Remote {
		lingerClose(nc, c.s.cfg.CloseTimeout)
	}
	return code, reason
}

// goingAway is the server's shutdown for one connection: it tells the
// client (1001), which sets a read deadline of the close timeout (wsproto),
// and once that has passed without readDone being closed it ends the read
// pump wherever it waits: in a socket read, or in a stdin write to a
// program that is not reading. It reports whether its 1001 went out: not
// when a close frame (the program's, or the reply to the client's) went
// out before it, nor when the client could not be written to.
func (c *conn) goingAway(readDone <-chan struct{}) (sent bool) {
	nc := c.ws.NetConn()
	timeout := time.NewTimer(c.s.cfg.CloseTimeout)
	defer timeout.Stop()
	// Frees a data write blocked on a client that does not read, which
	// holds the write lock WriteClose needs.
	nc.SetWriteDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
	sent = c.ws.WriteClose(wsproto.CloseGoingAway, "going away") == nil
	select {
	case <-readDone:
	case <-timeout.C:
		nc.SetReadDeadline(time.Now())
		c.p.Stdin().Close()
	}
	return sent
}

// readPump moves messages from the socket to the program's stdin until the
// socket ends. If the program stops reading (its stdin is closed), messages
// are read and dropped so that the client's close still arrives. It leaves
// stdin open: relay first tells who ended the connection (a program that
// exits on its stdin closing must not look as if it had ended first), and
// then stops the program, which closes stdin.
func (c *conn) readPump() (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.crashed("read pump", v)
			err = errPanic
		}
	}()
	defer c.stdin.flush() // the messages read with the client's close
	for {
		_, msg, err := c.ws.NextReader()
		if err != nil {
			return err
		}
		if c.stdin.err != nil {
			continue // stdin is gone; NextReader discards the unread message
		}
		if err := c.codec.WriteMessage(c.stdin, msg); err != nil {
			c.log.Debug("stdin closed", "err", err)
		}
	}
}

// lingerClose is for a connection this side failed (its close frame is
// out): it half-closes TCP and waits, at most timeout, for the client to
// close its side, discarding what it sends (its close reply). Closing at
// once would make the reply meet a closed socket and the client see a
// reset instead of a clean close (RFC 6455 §7.1.1).
func lingerClose(nc net.Conn, timeout time.Duration) {
	if hc, ok := nc.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
	}
	nc.SetReadDeadline(time.Now().Add(timeout))
	io.CopyN(io.Discard, nc, 1<<20)
}

// stallCheck is how often a write to a program that is not reading its
// stdin looks whether the client is still there.
const stallCheck = time.Second

// errClientGone ends a stalled stdin write whose client has left.
var errClientGone = errors.New("client gone while the program was not reading")

// stdinWriter writes to the program's stdin. While a write is blocked (the
// program is not reading), it checks every stallCheck whether the client
// is still connected: the read pump is stuck in this write and cannot see
// the client leave, and a client that left must not keep a stalled
// program running. It tells the ping watchdog (ka, nil without pings)
// while it writes.
//
// The stdin deadline stays armed between writes and is moved on only when
// less than half of stallCheck is left, so that a steady stream of writes
// does not re-arm a runtime timer each time: the first check of a stall
// comes after between stallCheck/2 and stallCheck.
type stdinWriter struct {
	p        *procio.Process
	nc       net.Conn
	ka       *keepalive
	deadline time.Time // the stdin write deadline last set
}

func (w *stdinWriter) Write(b []byte) (int, error) {
	w.ka.writing(true)
	defer w.ka.writing(false)
	n := 0
	for now := time.Now(); ; now = time.Now() {
		if w.deadline.Sub(now) < stallCheck/2 {
			w.deadline = now.Add(stallCheck)
			w.p.SetStdinDeadline(w.deadline)
		}
		k, err := w.p.Stdin().Write(b[n:])
		n += k
		switch {
		case err == nil:
			return n, nil
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return n, err
		case peerGone(w.nc):
			return n, errClientGone
		}
	}
}

// stderr takes one line of the program's stderr: it is logged and, with
// --passstderr, sent to the client.
func (c *conn) stderr(line []byte) {
	defer c.recoverIn("stderr")
	c.errLog.Load().Info("stderr", "line", string(line))
	c.tag.stderr(line)
}

// quietAfter is how long a program's stdout is quiet before the write pump
// lets its goroutine go until output comes (writePump): long enough that a
// steady conversation never pays for the restart, short enough that idle
// connections are cheap soon.
const quietAfter = time.Second

// end is called once, when the connection is over and its program reaped:
// it releases what serveWS counted for it.
func (c *conn) end() {
	c.s.conns.Done()
	c.s.running.Add(-1)
}

// closeFrame is the close code and reason that say how the program ended,
// and whether the server's close frame carrying them went out (it does not
// when the client's close came first, or the client is gone).
type closeFrame struct {
	code   uint16
	reason string
	sent   bool
}

// writePump moves the program's output to the socket until stdout ends,
// then sends the close frame that says how the program ended, on
// c.writeDone. A program that closes stdout but keeps running is stopped
// (Process.Stop: its stdin closed, CloseGrace more, then the signals) once
// the longer of CloseGrace and KillGrace has passed.
//
// It is one goroutine at a time, not always the same one: once stdout has
// been quiet for quietAfter, it lets its goroutine go and procio starts it
// again when output comes (Process.NotifyStdout), so that an idle
// connection holds only its read pump's goroutine.
func (c *conn) writePump() {
	defer func() {
		if v := recover(); v != nil {
			c.crashed("write pump", v)
			c.p.Stop()
			c.writeDone <- closeFrame{code: wsproto.CloseInternalError, reason: errPanic.Error()}
		}
	}()
	for {
		err := c.codec.ReadMessages(c.p.Stdout(), c.dst)
		if err == procio.ErrQuiet {
			if c.p.NotifyStdout(c.resumeWrite) {
				return
			}
			continue // no watch to be had: wait here
		}
		// Only a read of stdout can fail here: the sinks (sink, and the
		// tagger over it) keep their write error to themselves and return
		// nil. (c.out.err is not read here: with --passstderr the stderr
		// goroutine may be setting it.)
		if err != nil {
			c.log.Debug("stdout", "err", err)
		}
		break
	}
	if c.tag != nil {
		c.tag.endStdout()
	}
	// A program whose stdout ended is usually exiting: give it time to be
	// reaped with its own exit status before Stop signals it, even when
	// CloseGrace is 0 (signal at once).
	grace := max(c.s.cfg.CloseGrace, c.s.cfg.KillGrace)
	select {
	case <-c.p.Done():
	case <-time.After(grace):
		c.p.Stop()
	}
	if c.tag != nil {
		c.p.Stop()     // returns once procio has handed over the last stderr line
		c.tag.detach() // so they all go out before the close frame
	}
	cf := closeFor(c.p.Wait())
	c.programEnded.Store(true)
	if c.out.err == nil {
		cf.sent = c.ws.WriteClose(cf.code, cf.reason) == nil // sets the read deadline
	}
	if !cf.sent {
		// The client will not get our close: give its own the close timeout.
		c.ws.NetConn().SetReadDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
	}
	// Nothing of the program's group may outlive it, nor hold its stdin
	// (where the read pump may be blocked).
	c.p.Stop()
	c.writeDone <- cf
}

// errPanic ends a pump that panicked; its connection alone is failed.
var errPanic = errors.New("internal error")

// crashed turns a panic in one of the connection's goroutines into the end
// of that connection alone: it logs the panic with its stack and, once the
// WebSocket exists, sends 1011 and drops the TCP connection, so that every
// pump returns and the relay stops the program as on any other end. It
// must not wait for the program: it may run on procio's stderr goroutine,
// which Process.Stop waits for.
func (c *conn) crashed(where string, v any) {
	c.logPanic(where, v)
	if c.failed.Swap(true) {
		return
	}
	if ws := c.live.Load(); ws != nil {
		ws.WriteCloseNow(wsproto.CloseInternalError, errPanic.Error())
		ws.NetConn().Close()
	}
}

// recoverIn is deferred by a goroutine with nothing of its own to wind
// down after a panic.
func (c *conn) recoverIn(where string) {
	if v := recover(); v != nil {
		c.crashed(where, v)
	}
}

func (c *conn) logPanic(where string, v any) {
	c.log.Error("panic", "in", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// closeFor maps how a program ended to a close frame: exit status 0 is a
// normal close (1000); anything else is an internal error (1011) whose
// reason says the status or the signal.
func closeFor(state *os.ProcessState) closeFrame {
	if state != nil && state.Success() {
		return closeFrame{code: wsproto.CloseNormal}
	}
	return closeFrame{code: wsproto.CloseInternalError, reason: procio.ExitReason(state)}
}

// closeCodeOf reports the close code of a read pump's end for the log.
func closeCodeOf(err error) (uint16, string) {
	var ce *wsproto.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	return wsproto.CloseAbnormal, errReason(err)
}

func errReason(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return "connection lost"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return err.Error()
}

// sink adapts a wsproto.Conn to procio.Sink. After the first write error
// (the client is gone) it drops everything, so that the codec keeps
// draining stdout and the program is never blocked writing to it.
type sink struct {
	ws  *wsproto.Conn
	err error
}

func (s *sink) WriteFragment(binary bool, p []byte, fin bool) error {
	if s.err != nil {
		return nil
	}
	op := wsproto.OpText
	if binary {
		op = wsproto.OpBinary
	}
	s.err = s.ws.WriteFragment(op, p, fin)
	return nil
}

func (s *sink) Flush() error {
	if s.err == nil {
		s.err = s.ws.Flush()
	}
	return nil
}

// localPort is the port the request came in on, for SERVER_PORT when the
// Host header names none.
func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return portOf(a)
	}
	return ""
}

// wrapErr prefixes *err, if it is not nil, with a formatted context.
func wrapErr(err *error, format string, args ...any) {
	if *err != nil {
		*err = fmt.Errorf(format+": %w", append(args, *err)...)
	}
}

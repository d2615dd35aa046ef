package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// conn is one client: its WebSocket, the program serving it, and how the
// connection ends. Its fields are set by serve before the relay starts and
// only read after; what a pump changes lives in that pump (readPump's
// locals; the program's processIn and processOut), and how the connection
// ended is recorded once (sent, failed) and read by the relay once both
// pumps are done.
type conn struct {
	s  *Server
	id string
	// uniqueID is the program's UNIQUE_ID: the server's start time in
	// nanoseconds plus the connection's number, a decimal number as
	// websocketd's (a timestamp), unique across restarts too.
	uniqueID string
	log      *Logger
	start    time.Time

	prog   program
	in     countedReader          // the message being delivered, counted; the read pump's
	tag    *tagger                // --passstderr; nil when off
	errLog atomic.Pointer[Logger] // c.log for stderr lines, which may come before c.log has the pid
	ws     *wsproto.Conn
	out    *sink      // the client, as the program's output sees it
	ka     *keepalive // --pingms; nil when off

	// How it ended. sent is this side's close frame, once one went out
	// (wsproto lets only one); failed, a panic in one of the connection's
	// goroutines (crashed); live is ws for crashed, which may run on the
	// stderr goroutine before ws exists.
	sent   atomic.Pointer[closeFrame]
	failed atomic.Bool
	live   atomic.Pointer[wsproto.Conn]
	// failing: the client broke the protocol, and failClient, not the
	// program's end, sends the close frame.
	failing atomic.Bool
}

// serve starts the program and completes the handshake, then hands the
// relay to a goroutine of its own and returns: net/http then lets go of
// everything it kept for the request (the handler goroutine's stack, its
// buffers, the request), which an idle connection would otherwise keep.
// That goroutine relays until one side ends, winds both down, logs the
// disconnect line and calls c.end. The error serve returns is one worth a
// warning; c.end has then been called.
func (c *conn) serve(w responder, r *request, res *handshake.Result, ep *endpoint, who identity) (err error) {
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
			if c.prog != nil {
				c.prog.stop()
			}
		}
		c.end()
		if v != nil {
			w.abort()
		}
	}()
	s := c.s

	// Start the program (or join the shared one) before sending 101, so
	// that a program that cannot start is a 500 the client can see rather
	// than a dropped WebSocket.
	env := s.programEnv(r, c.uniqueID, ep, res, who)
	c.errLog.Store(c.log)
	var pid int
	if fullBuild && s.hubs != nil {
		m, err := s.join(c, r, res, ep, env)
		if err != nil {
			if s.refuseStart(w, c.log, err) {
				return fmt.Errorf("join: %w", err)
			}
			return nil
		}
		c.prog, pid = m, m.h.pid
	} else {
		c.tag = newTagger(s.cfg.PassStderr, s.cfg.Framing.exact())
		proc, err := s.startProcess(procio.Config{
			Path:       ep.path,
			Args:       ep.args,
			Env:        env,
			Stderr:     c.stderr,
			Quiet:      quietAfter,
			CloseGrace: s.cfg.CloseGrace,
			KillGrace:  s.cfg.KillGrace,
			Pty:        s.cfg.Pty, // of procio.DefaultWindowSize, which the environment says
		}, s.codec(), c.tag, c.log, c.crashed)
		if err != nil {
			if s.refuseStart(w, c.log, err) {
				return err // procio says "start: ..."
			}
			return nil
		}
		c.prog, pid = proc, proc.p.Pid()
	}
	c.log = c.log.With("pid", pid)
	c.errLog.Store(c.log)

	var br *bufio.Reader
	nc, br, err = w.accept(res, &s.hs)
	if err != nil {
		c.tag.detach()
		c.prog.stop()
		return fmt.Errorf("accept: %w", err)
	}
	c.ka = newKeepalive(s.cfg.PingInterval)
	c.prog.connect(nc, c.ka)
	// The WebSocket reads through batchReader, which has the program pass
	// on the messages it holds before each socket read (batch.go); the
	// write buffer is pooled, so its size costs an idle connection nothing.
	c.ws = wsproto.NewConn(nc, bufio.NewReaderSize(newBatchReader(br, nc, c), readBufferSize), wsproto.Config{
		MaxMessageSize:  s.maxMessage(),
		CloseTimeout:    s.cfg.CloseTimeout,
		WriteBufferSize: writeBufferSize,
		OnPong:          c.ka.onPong(),
		DeferClose:      true, // failClient
		Deflate:         s.cfg.Compression.deflateParams(res),
	})
	c.out = &sink{ws: c.ws, m: &s.metrics}
	c.live.Store(c.ws)
	c.ka.start(c.ws, c.crashed)
	s.metrics.connected(time.Since(c.start))
	if who.user != "" {
		c.log = c.log.With("user", who.user)
		c.errLog.Store(c.log)
	}
	c.log.Info("connect", "path", r.path, "subprotocol", res.Subprotocol, "unique_id", c.uniqueID)

	handedOff = true
	go func() {
		defer func() {
			if v := recover(); v != nil {
				c.crashed("relay", v)
				c.prog.stop()
			}
			s.metrics.disconnected(time.Since(c.start))
			c.end()
		}()
		code, reason := c.relay()
		c.log.Info("disconnect", "code", code, "reason", reason,
			"exit", c.prog.exit(), "dur", time.Since(c.start).Round(time.Millisecond))
	}()
	return nil
}

// relay runs the connection until both pumps are done and the program is
// stopped, and returns the close code and reason of the connection as the
// client saw it, for the access log.
//
// The pumps: readPump, in relay's own goroutine, is the only socket
// reader; it hands messages to the program. The program's output runs on
// goroutines of its own (program.start) and is the only writer of data
// frames. Control frames (pong, close replies) are written by wsproto
// under its write lock. The read pump is what relay waits on, and each way
// a connection ends makes it return in bounded time:
//   - the client closes, vanishes or breaks the protocol: the read ends;
//   - the program ends: its close frame sets a read deadline of the close
//     timeout (wsproto), and so does the absence of one (programEnded);
//   - the server shuts down: goingAway sends 1001, with the same deadline;
//   - a panic: crashed drops TCP.
//
// Then, whichever it was, nothing more can reach the client: relay stops
// writing, stops the program, waits for its end, and closes TCP. closeOf
// says which end it was.
func (c *conn) relay() (code uint16, reason string) {
	ended := make(chan struct{})
	c.prog.start(c.out, func(cf closeFrame) {
		c.programEnded(cf)
		close(ended)
	})
	readDone := make(chan struct{})
	awayDone := make(chan struct{})
	stopShutdown := context.AfterFunc(c.s.quit, func() {
		defer close(awayDone)
		defer c.recoverIn("shutdown")
		c.goingAway(readDone)
	})
	readErr := c.readPump()
	close(readDone)
	if !stopShutdown() {
		// goingAway has started: wait for it, so that it does not outlive
		// the connection. With readDone closed it returns once its close
		// frame is written or has failed.
		<-awayDone
	}
	if ce := (*wsproto.CloseError)(nil); errors.As(readErr, &ce) && !ce.Remote && !c.failed.Load() {
		c.failClient(ce, ended)
	}

	// A program blocked on a full stdout pipe sees its stdin close and
	// can exit by itself once the write it waits behind fails.
	c.ws.AbortWrites() // frees a write (and a ping queued behind it)
	pingTimeout := c.ka.stop()
	c.prog.stop()
	<-ended
	c.out.publish() // what the last batch left: its writers are done
	code, reason = c.closeOf(readErr, pingTimeout)
	nc := c.ws.NetConn()
	// This side failed the connection: its close frame is out, so let the
	// client's reply arrive before TCP closes.
	if ce := (*wsproto.CloseError)(nil); errors.As(readErr, &ce) && !ce.Remote {
		lingerClose(nc, c.s.cfg.CloseTimeout)
	}
	nc.Close()
	return code, reason
}

// closeOf is the one place that says how a connection ended: a panic; else
// the close frame this side sent (the program's end, or 1001 at shutdown),
// which the client got first; else the client's side: its close, a
// violation, or its disappearance.
func (c *conn) closeOf(readErr error, pingTimeout bool) (uint16, string) {
	if c.failed.Load() {
		return wsproto.CloseInternalError, errPanic.Error()
	}
	if cf := c.sent.Load(); cf != nil {
		return cf.code, cf.reason
	}
	var ce *wsproto.CloseError
	if errors.As(readErr, &ce) {
		return ce.Code, ce.Reason
	}
	if pingTimeout { // the client answered no ping: it is gone
		return wsproto.CloseAbnormal, "ping timeout"
	}
	return wsproto.CloseAbnormal, errReason(readErr)
}

// sendClose sends this side's close frame and records it as how the
// connection ended, if it went out.
func (c *conn) sendClose(cf closeFrame) bool {
	if c.ws.WriteClose(cf.code, cf.reason) != nil {
		return false
	}
	c.sent.Store(&cf)
	return true
}

// failClient ends the connection of a client that broke the protocol,
// whose close frame wsproto left to the relay (Config.DeferClose): the
// program's answers to the client's earlier messages go first, so its
// stdin closes and its output drains, and then the close frame says what
// was broken. Nothing more is read from the client. A client that does
// not read its socket gets the close timeout for all of it.
func (c *conn) failClient(ce *wsproto.CloseError, ended <-chan struct{}) {
	c.failing.Store(true) // programEnded leaves the close frame to us
	abort := time.AfterFunc(c.s.cfg.CloseTimeout, c.ws.AbortWrites)
	defer abort.Stop()
	c.prog.stop()
	<-ended
	c.sendClose(closeFrame{code: ce.Code, reason: ce.Reason})
}

// programEnded is the program's end, from the goroutine that ran its
// output: the close frame that says how, unless the client can no longer
// be written to (or has sent its own close, which wsproto answered), or
// broke the protocol (failClient says so).
func (c *conn) programEnded(cf closeFrame) {
	if c.failing.Load() {
		return
	}
	if c.out.err != nil || !c.sendClose(cf) {
		// The client will not get our close: give its own the close timeout.
		c.ws.NetConn().SetReadDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
	}
}

// goingAway is the server's shutdown for one connection: it tells the
// client (1001), which sets a read deadline of the close timeout (wsproto),
// and once that has passed without readDone being closed it ends the read
// pump wherever it waits: in a socket read, or in a program that is not
// taking its messages.
func (c *conn) goingAway(readDone <-chan struct{}) {
	nc := c.ws.NetConn()
	timeout := time.NewTimer(c.s.cfg.CloseTimeout)
	defer timeout.Stop()
	// Frees a data write blocked on a client that does not read, which
	// holds the write lock WriteClose needs.
	nc.SetWriteDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
	c.sendClose(closeFrame{code: wsproto.CloseGoingAway, reason: "going away"})
	select {
	case <-readDone:
	case <-timeout.C:
		nc.SetReadDeadline(time.Now())
		c.prog.stop()
	}
}

// readPump moves messages from the socket to the program until the socket
// ends. If the program takes no more, messages are read and dropped so
// that the client's close still arrives. It leaves the program running:
// relay first tells who ended the connection (a program that exits on its
// stdin closing must not look as if it had ended first), and then stops
// it.
func (c *conn) readPump() (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.crashed("read pump", v)
			err = errPanic
		}
	}()
	defer c.flush() // the messages read with the client's close
	for {
		op, r, err := c.ws.NextReader()
		if err != nil {
			return err
		}
		c.in.r = r
		size, known := c.ws.MessageSize()
		err = c.prog.deliver(procio.Message{Reader: &c.in, Binary: op == wsproto.OpBinary, Size: size, SizeKnown: known})
		if err == nil {
			c.in.t.msgs++
		}
		if cf, ok := err.(*closeFrame); ok {
			// Failed as wsproto fails a violation: the read goes on
			// until the client's close comes back.
			if c.ws.WriteCloseNow(cf.code, cf.reason) == nil {
				c.sent.Store(cf)
			}
		}
	}
}

// flush is the read pump's, before each socket read (batchReader): the
// program passes on the messages it holds, and those delivered since the
// last flush are counted.
func (c *conn) flush() {
	c.prog.flush()
	c.in.t.publish(&c.s.metrics, dirIn)
}

// countedReader is a client message on its way to the program, counting
// the payload bytes the program takes (messages are counted by the read
// pump, once delivered). A field of conn, reused for every message: a
// reader made per message would allocate.
type countedReader struct {
	r io.Reader
	t tally
}

func (r *countedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.t.bytes += uint64(n)
	return n, err
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

// stderr takes one line of the program's stderr: it is logged and, with
// --passstderr, sent to the client.
func (c *conn) stderr(line []byte) {
	defer c.recoverIn("stderr")
	c.errLog.Load().Info("stderr", "line", string(line))
	c.tag.stderr(line)
}

// end is called once, when the connection is over and its program reaped:
// it releases what serveWS counted for it.
func (c *conn) end() {
	c.s.conns.Done()
	c.s.running.Add(-1)
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
// draining stdout and the program is never blocked writing to it. It
// counts what it writes and adds that to m's counts at each flush.
type sink struct {
	ws  *wsproto.Conn
	err error
	m   *metrics
	t   tally
}

func (s *sink) WriteFragment(binary bool, p []byte, fin bool) error {
	if s.err != nil {
		return nil
	}
	op := wsproto.OpText
	if binary {
		op = wsproto.OpBinary
	}
	if s.err = s.ws.WriteFragment(op, p, fin); s.err == nil {
		s.t.add(len(p), fin)
	}
	return nil
}

func (s *sink) Flush() error {
	if s.err == nil {
		s.err = s.ws.Flush()
	}
	s.publish()
	return nil
}

// publish adds what s counted to the server's counts.
func (s *sink) publish() { s.t.publish(s.m, dirOut) }

// wrapErr prefixes *err, if it is not nil, with a formatted context.
func wrapErr(err *error, format string, args ...any) {
	if *err != nil {
		*err = fmt.Errorf(format+": %w", append(args, *err)...)
	}
}

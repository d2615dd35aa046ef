package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
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
	end   func()      // called once, when the connection is over
}

// serve starts the program and completes the handshake, then hands the
// relay to a goroutine of its own and returns: net/http then lets go of
// everything it kept for the request (the handler goroutine's stack, its
// buffers, the request), which was most of an idle connection's memory. That
// goroutine relays until one side ends, winds both down, logs the disconnect
// line and calls c.end. The error serve returns is one worth a warning; c.end
// has then been called.
func (c *conn) serve(w http.ResponseWriter, r *http.Request, res *handshake.Result) (err error) {
	defer wrapErr(&err, "conn %s", c.id)
	handedOff := false
	defer func() {
		if !handedOff {
			c.end()
		}
	}()
	s := c.s

	// Start the program before sending 101, so that a program that cannot
	// start is a 500 the client can see rather than a dropped WebSocket.
	env := s.env.build(envRequest{
		r:          r,
		id:         c.id,
		software:   s.software,
		scriptName: r.URL.Path,
		translated: s.cfg.Path,
		localPort:  localPort(r),
	})
	p, err := procio.Start(procio.Config{
		Path:       s.cfg.Path,
		Args:       s.cfg.Command,
		Env:        env,
		Stderr:     func(line []byte) { c.log.Info("stderr", "line", string(line)) },
		CloseGrace: s.cfg.CloseGrace,
		KillGrace:  s.cfg.KillGrace,
	})
	if err != nil {
		refuse(w, c.log, &handshake.Error{Status: http.StatusInternalServerError, Reason: "cannot start the program"})
		return fmt.Errorf("start: %w", err)
	}
	c.p = p
	c.log = c.log.With("pid", p.Pid())

	nc, br, err := handshake.Accept(w, res, &s.hs)
	if err != nil {
		p.Stop()
		return fmt.Errorf("accept: %w", err)
	}
	// The WebSocket reads through batchReader, which writes out the stdin
	// batch before each socket read (batch.go); the write buffer is pooled,
	// so its size costs an idle connection nothing.
	c.stdin = &stdinBatch{w: p.Stdin()}
	in := &batchReader{pre: br, nc: nc, batch: c.stdin}
	if br.Buffered() == 0 {
		in.pre = nil // net/http's reader and its buffer can go
	}
	c.ws = wsproto.NewConn(nc, bufio.NewReaderSize(in, readBufferSize), wsproto.Config{
		MaxMessageSize:  s.cfg.MaxMessageSize,
		CloseTimeout:    s.cfg.CloseTimeout,
		WriteBufferSize: writeBufferSize,
	})
	if s.cfg.Binary {
		c.codec = procio.NewBinaryCodec(0)
	} else {
		c.codec = procio.NewLineCodec(0)
	}
	c.log.Info("connect", "path", r.URL.Path, "subprotocol", res.Subprotocol)

	handedOff = true
	go func() {
		defer c.end()
		code, reason := c.relay()
		nc.Close()
		state := p.Wait()
		c.log.Info("disconnect", "code", code, "reason", reason,
			"exit", procio.ExitReason(state), "dur", time.Since(c.start).Round(time.Millisecond))
	}()
	return nil
}

// relay runs the two pumps and ends them both once either ends or the
// server shuts down. It returns the close code and reason of the connection as the
// client saw it, for the access log.
//
// The pumps: readPump is the only socket reader and stdin writer; writePump
// is the only stdout reader and the only writer of data frames. Control
// frames (pong, close replies) are written by wsproto under its write lock.
func (c *conn) relay() (code uint16, reason string) {
	readDone := make(chan error, 1)
	writeDone := make(chan closeFrame, 1)
	go func() { readDone <- c.readPump() }()
	go func() { writeDone <- c.writePump() }()

	nc := c.ws.NetConn()
	select {
	case cf := <-writeDone:
		// The program ended and its close frame is out: wait (bounded by
		// wsproto's close timeout) for the client's close, then make sure
		// nothing of the program's group is left.
		code, reason = cf.code, cf.reason
		nc.SetReadDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
		c.p.Stop()
		<-readDone

	case err := <-readDone:
		// The client closed, vanished or broke the protocol. Nothing more
		// can reach it, so stop writing at once: a program blocked on a
		// full stdout pipe then sees its stdin close and can exit by itself.
		code, reason = closeCodeOf(err)
		nc.SetWriteDeadline(time.Now())
		c.p.Stop()
		<-writeDone

	case <-c.s.quit:
		// Server shutdown: tell the client, give it the close timeout to
		// answer, then stop the program.
		code, reason = wsproto.CloseGoingAway, "going away"
		nc.SetWriteDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
		c.ws.WriteClose(code, reason)
		select {
		case <-readDone:
		case <-time.After(c.s.cfg.CloseTimeout):
			nc.SetReadDeadline(time.Now())
			<-readDone
		}
		nc.SetWriteDeadline(time.Now())
		c.p.Stop()
		<-writeDone
	}
	return code, reason
}

// readPump moves messages from the socket to the program's stdin until the
// socket ends. If the program stops reading (its stdin is closed), messages
// are read and dropped so that the client's close still arrives.
func (c *conn) readPump() error {
	defer c.p.Stdin().Close()
	defer c.stdin.flush() // the messages read with the client's close
	var werr error
	for {
		_, msg, err := c.ws.NextReader()
		if err != nil {
			return err
		}
		if werr != nil {
			continue // NextReader discards the unread message
		}
		if werr = c.codec.WriteMessage(c.stdin, msg); werr != nil {
			c.log.Debug("stdin closed", "err", werr)
		}
	}
}

// closeFrame is the close code and reason the server sent.
type closeFrame struct {
	code   uint16
	reason string
}

// writePump moves the program's output to the socket until stdout ends,
// then sends the close frame that says how the program ended. A program that
// closes stdout but keeps running gets CloseGrace to exit before it is
// stopped.
func (c *conn) writePump() closeFrame {
	out := &sink{ws: c.ws}
	if err := c.codec.ReadMessages(c.p.Stdout(), out); err != nil && out.err == nil {
		c.log.Debug("stdout", "err", err)
	}
	grace := max(c.s.cfg.CloseGrace, c.s.cfg.KillGrace) // a program that just closed stdout is usually exiting
	select {
	case <-c.p.Done():
	case <-time.After(grace):
		c.p.Stop()
	}
	cf := closeFor(c.p.Wait())
	if out.err == nil {
		c.ws.WriteClose(cf.code, cf.reason)
	}
	return cf
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

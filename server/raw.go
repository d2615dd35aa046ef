package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/wsexec/wsexec/handshake"
)

// The server's own request reader, which the tiny build serves every
// connection with and the default build every one on a listener without
// TLS: it reads the request head itself (handshake.ReadRequest), serves a
// WebSocket upgrade without net/http, and in the default build passes any
// other request to net/http's server, which reads it again (web.go).

// acceptRaw accepts connections on ln and serves each in a goroutine of
// its own (serveRaw, which passes handoff the connections it does not
// serve) until ln is closed, which it returns as its error. An error
// accepting (out of descriptors, most likely: filesListener logs it) is
// retried after a pause that doubles from 5 ms to 1 s, as net/http's
// server does, so that the clients waiting in the backlog get their turn
// once descriptors free.
func (s *Server) acceptRaw(ln net.Listener, handoff func(net.Conn)) error {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) { // Run closed it, or it was closed under us
			return fmt.Errorf("accept: %w", err)
		}
		if err != nil {
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(pause):
			case <-s.quit.Done():
				return nil
			}
			continue
		}
		pause = 0
		go s.serveRaw(nc, handoff)
	}
}

// rawReadBuffer is the size of the reader a connection's request is read
// with, which then holds what the client sent after it (as net/http's).
const rawReadBuffer = 4 << 10

// lingerTime bounds how long a refused connection is drained after its
// answer, so that the client reads the answer rather than a reset.
const lingerTime = 500 * time.Millisecond

// serveRaw reads one request from nc, within ReadHeaderTimeout and
// MaxHeaderBytes, and serves it (Server.serve). With handoff (the default
// build's net/http server) it serves a WebSocket upgrade only and passes
// handoff any other request, or one it cannot read, with the bytes read so
// far put back in front: net/http reads it again and answers it as it
// answers every plain request. Without, it answers the others itself. A
// connection that is not handed over to a WebSocket or to handoff is
// closed once answered.
func (s *Server) serveRaw(nc net.Conn, handoff func(net.Conn)) {
	if !s.fresh.add(nc) {
		return
	}
	// A panic ends this connection, never the server: what net/http's
	// server does for its own requests.
	w := &rawResponder{nc: nc, header: s.cfg.Header}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic", "in", "request", "remote", nc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !w.taken {
				nc.Close()
			}
		}
	}()
	nc.SetReadDeadline(time.Now().Add(s.cfg.ReadHeaderTimeout))
	var rec *recorder
	if handoff != nil {
		rec = &recorder{r: nc}
		w.br = bufio.NewReaderSize(rec, rawReadBuffer)
	} else {
		w.br = bufio.NewReaderSize(nc, rawReadBuffer)
	}
	h, err := handshake.ReadRequest(w.br, s.cfg.MaxHeaderBytes)
	s.fresh.remove(nc)
	var herr *handshake.Error
	if err != nil && !errors.As(err, &herr) { // the client went, or sent nothing in time
		nc.Close()
		return
	}
	var r *request
	if herr == nil {
		r = newRequest(s.quit, h, nc.RemoteAddr().String())
	}
	if handoff != nil {
		seen := rec.stop()
		if herr != nil || r.path == "" || !handshake.IsUpgrade(h) {
			nc.SetReadDeadline(time.Time{})
			handoff(&replayConn{Conn: nc, r: io.MultiReader(bytes.NewReader(seen), nc)})
			return
		}
	}
	if herr != nil {
		s.refuse(w, s.log.With("remote", nc.RemoteAddr().String()), herr)
		w.linger()
		return
	}
	nc.SetReadDeadline(time.Time{})
	if s.serve(w, r) {
		// A plain request: what the path is, or why it is refused.
		_, err := s.rt.endpointFor(r)
		if err == nil {
			err = &handshake.Error{Status: 426, Reason: endpointHint, Header: textproto.MIMEHeader{"Upgrade": {"websocket"}}}
		}
		s.refuse(w, s.log.With("remote", r.remoteAddr, "path", r.path), err)
	}
	if !w.taken {
		w.linger()
	}
}

// recorder keeps a copy of what is read through it until stop.
type recorder struct {
	r    io.Reader
	seen []byte
	done bool
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if !c.done {
		c.seen = append(c.seen, p[:n]...)
	}
	return n, err
}

// stop ends the recording and returns what was read.
func (c *recorder) stop() []byte {
	c.done = true
	seen := c.seen
	c.seen = nil
	return seen
}

// replayConn is a connection whose first bytes are read again: its reads
// come from r.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// newRequest returns the request whose head is h, from the client at
// remoteAddr. The target's path is decoded as net/http decodes it; a
// target that is not a path is left for checkRequest to refuse.
func newRequest(ctx context.Context, h *handshake.Request, remoteAddr string) *request {
	r := &request{Request: *h, remoteAddr: remoteAddr, ctx: ctx}
	if u, err := url.ParseRequestURI(h.Target); err == nil {
		r.path, r.query = u.Path, u.RawQuery
	}
	return r
}

// rawResponder answers a request serveRaw read, on its connection.
type rawResponder struct {
	nc     net.Conn
	br     *bufio.Reader
	header textproto.MIMEHeader // Config.Header, on every response
	taken  bool                 // accept handed the connection over
}

func (w *rawResponder) refuse(e *handshake.Error) {
	w.nc.SetWriteDeadline(time.Now().Add(lingerTime))
	w.nc.Write(e.AppendResponse(nil, w.header)) // the client may be gone
}

func (w *rawResponder) accept(res *handshake.Result, cfg *handshake.Config) (net.Conn, *bufio.Reader, error) {
	if err := handshake.Respond(w.nc, res, cfg); err != nil {
		w.refuse(&handshake.Error{Status: 500, Reason: "cannot complete the handshake"})
		return nil, nil, err
	}
	w.taken = true
	return w.nc, w.br, nil
}

func (w *rawResponder) abort() {}

// linger closes a connection that has been answered: its write side
// first, then what the client still sends is read and dropped for at most
// lingerTime (and 64 KiB), so that closing does not reset the connection
// before the client has read the answer.
func (w *rawResponder) linger() {
	if cw, ok := w.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		w.nc.SetReadDeadline(time.Now().Add(lingerTime))
		io.Copy(io.Discard, io.LimitReader(w.br, 64<<10))
	}
	w.nc.Close()
}

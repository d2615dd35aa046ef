package wsproto

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// readState is the read side of a Conn, owned by the reading goroutine.
type readState struct {
	err error // sticky: once set, every read returns it

	// The open data message (RFC 6455 §5.4: its frames, and control
	// frames between them).
	inMsg bool   // its first frame was read, its end not yet reached
	op    Opcode // OpText or OpBinary
	text  bool
	size  int64 // payload bytes its frames announced so far
	utf8  utf8Validator

	// The current data frame.
	fin    bool
	remain int64 // payload bytes not yet read
	masked bool
	mask   [4]byte
	pos    int // masking key position of the next byte

	// rsvOK holds the RSV bits a negotiated extension owns (§5.2, §9); the
	// others fail the connection. permessage-deflate (RFC 7692) owns RSV1.
	rsvOK byte
	// compressed: the open message's first frame had RSV1 (RFC 7692 §6)
	// and its inflated payload is not yet read to the end; z inflates it.
	compressed bool
	z          *inflater

	ctrl [maxControlPayload]byte // control frame payloads; also the drain buffer
	peek [1]byte                 // ReadMessage's look past a full buffer into a compressed message
	mr   messageReader
}

// messageReader is the io.Reader NextReader returns. There is one per
// Conn, reused for every message, so reading allocates nothing.
type messageReader struct{ c *Conn }

// NextReader returns the type of the next data message and a reader for its
// payload, which yields the payload across fragments and then io.EOF. The
// reader is valid until the next call of NextReader, which discards what
// is left of the message (still checking it).
//
// Control frames are handled inside, including those between fragments:
// a ping is answered with a pong carrying the same payload, a pong goes to
// Config.OnPong (if set), and a close frame is answered once (RFC 6455 §5.5.1, echoing its
// code, unless this side already sent one) and returned as
// *CloseError{Remote: true}. A protocol violation sends a close frame
// (unless Config.DeferClose) and returns *CloseError{Remote: false} with
// code 1002, 1007 or 1009. Once an
// error is returned, every later call returns the same error.
//
// Only one goroutine may read at a time.
func (c *Conn) NextReader() (Opcode, io.Reader, error) {
	r := &c.r
	for r.err == nil && (r.inMsg || r.compressed) {
		if _, err := r.mr.Read(r.ctrl[:]); err == io.EOF {
			break
		}
	}
	if r.err != nil {
		return 0, nil, r.err
	}
	if err := c.nextFrame(); err != nil {
		return 0, nil, err
	}
	return r.op, &r.mr, nil
}

// MessageSize returns the payload length of the message NextReader last
// returned, when it is known before the payload is read: the message is
// one frame (FIN set on its first) and not compressed, so its header
// gave the length. ok is false for a message in fragments, whose length
// shows only at its last, and for a compressed one, whose inflated length
// shows only at its end. Call it before reading the message.
func (c *Conn) MessageSize() (n int64, ok bool) {
	r := &c.r
	if !r.fin || r.compressed {
		return 0, false
	}
	return r.size, true
}

// ReadMessage reads the next data message whole and appends its payload to
// dst[:0], growing it as the bytes arrive: at most doubling it each time,
// so a peer announcing a large message and sending little costs little.
// A dst with room for the message is not reallocated. Errors are those of
// NextReader.
func (c *Conn) ReadMessage(dst []byte) (Opcode, []byte, error) {
	dst = dst[:0]
	op, mr, err := c.NextReader()
	if err != nil {
		return 0, dst, err
	}
	for {
		if len(dst) == cap(dst) {
			// Grow only if the message goes on, by at most the current
			// frame. An empty read moves to the next frame or the end;
			// a compressed message's end shows only by reading a byte.
			var peek []byte
			if c.r.compressed {
				peek = c.r.peek[:]
			}
			n, err := mr.Read(peek)
			if err == io.EOF {
				return op, dst, nil
			} else if err != nil {
				return 0, dst[:0], err
			}
			grow := min(c.r.remain, int64(max(cap(dst), 512)))
			if c.r.compressed || n > 0 {
				// The inflated size is unknown: double, up to just past the limit.
				grow = min(int64(max(cap(dst), 512)), addSat(c.maxMessage-int64(len(dst)), 1))
			}
			dst = append(slices.Grow(dst, int(grow)), peek[:n]...)
			continue
		}
		n, err := mr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return op, dst, nil
		}
		if err != nil {
			return 0, dst[:0], err
		}
	}
}

// Read reads payload of the current message, unmasking it and checking a
// text message's UTF-8 as it goes (§8.1: the connection fails at the
// first bad byte, before the rest of the message arrives). A compressed
// message is inflated on the way (readInflated).
func (mr *messageReader) Read(p []byte) (int, error) {
	c := mr.c
	if c.r.err != nil {
		return 0, c.r.err
	}
	if c.r.compressed {
		return c.readInflated(p)
	}
	return c.readRaw(p)
}

// readRaw reads the payload of the current message as it is on the wire,
// unmasked, across frames; it checks UTF-8 unless the message is
// compressed, which is checked once inflated.
func (c *Conn) readRaw(p []byte) (int, error) {
	r := &c.r
	if r.err != nil {
		return 0, r.err
	}
	if !r.inMsg {
		return 0, io.EOF
	}
	check := r.text && !r.compressed
	for r.remain == 0 {
		if r.fin {
			if check && !r.utf8.complete() {
				return 0, c.fail(CloseInvalidPayload, "invalid UTF-8 in text message")
			}
			r.inMsg = false
			return 0, io.EOF
		}
		if err := c.nextFrame(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := c.br.Read(p)
	r.remain -= int64(n)
	if r.masked {
		r.pos = Mask(p[:n], r.mask, r.pos)
	}
	if check && !r.utf8.write(p[:n]) {
		return 0, c.fail(CloseInvalidPayload, "invalid UTF-8 in text message")
	}
	if err != nil {
		r.err = fmt.Errorf("read payload: %w", noEOF(err))
		return n, r.err
	}
	return n, nil
}

// nextFrame reads frames up to the next data frame, handling the control
// frames before it, checks it against the open message and makes it the
// current frame.
func (c *Conn) nextFrame() error {
	r := &c.r
	for {
		h, err := ReadHeader(c.br)
		if err != nil {
			r.err = fmt.Errorf("read header: %w", err)
			return r.err
		}
		if code, reason := c.check(h); code != 0 {
			return c.fail(code, reason)
		}
		if h.Op.IsControl() {
			if err := c.control(h); err != nil {
				return err
			}
			continue
		}
		if !r.inMsg {
			r.inMsg = true
			r.op = h.Op
			r.text = h.Op == OpText
			r.size = 0
			r.utf8.reset()
			r.compressed = h.Rsv&rsv1 != 0
		}
		r.size += h.Length
		r.fin = h.Fin
		r.remain = h.Length
		r.masked = h.Masked
		r.mask = h.Mask
		r.pos = 0
		return nil
	}
}

// check judges a decoded header: it returns the close code and reason of
// the rule h breaks, or 0.
func (c *Conn) check(h Header) (uint16, string) {
	r := &c.r
	switch {
	case h.Rsv&^r.rsvOK != 0:
		return CloseProtocolError, "reserved bits set" // §5.2
	case h.Op.reserved():
		return CloseProtocolError, "reserved opcode" // §5.2
	case h.Rsv&rsv1 != 0 && (h.Op.IsControl() || h.Op == OpContinuation):
		return CloseProtocolError, "RSV1 set on a control frame or a continuation" // RFC 7692 §6.1
	case c.role == Server && !h.Masked:
		return CloseProtocolError, "unmasked frame from client" // §5.1
	case c.role == Client && h.Masked:
		return CloseProtocolError, "masked frame from server" // §5.1
	case h.Length < 0:
		return CloseProtocolError, "payload length over 63 bits" // §5.2
	case h.Op.IsControl():
		if !h.Fin {
			return CloseProtocolError, "fragmented control frame" // §5.5
		}
		if h.Length > maxControlPayload {
			return CloseProtocolError, "control frame payload over 125 bytes" // §5.5
		}
		return 0, ""
	case h.Op == OpContinuation && !r.inMsg:
		return CloseProtocolError, "continuation frame outside a message" // §5.4
	case h.Op != OpContinuation && r.inMsg:
		return CloseProtocolError, "new message inside a fragmented message" // §5.4
	}
	size := int64(0)
	if r.inMsg {
		size = r.size
	}
	// size is at most maxMessage (each frame adding to it passed here) and
	// h.Length is not negative: neither this nor the sum in nextFrame wraps.
	if h.Length > c.maxMessage-size {
		return CloseMessageTooBig, "message too big" // §7.4.1
	}
	return 0, ""
}

// control reads the payload of a control frame and acts on it (§5.5).
func (c *Conn) control(h Header) error {
	r := &c.r
	p := r.ctrl[:h.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		r.err = fmt.Errorf("read %v payload: %w", h.Op, noEOF(err))
		return r.err
	}
	if h.Masked {
		Mask(p, h.Mask, 0)
	}
	switch h.Op {
	case OpPing:
		// §5.5.2: answer with a pong carrying the same payload, unless
		// our close already went out (§5.5.1: nothing follows it).
		if err := c.writeControl(OpPong, p); err != nil && err != ErrCloseSent {
			r.err = fmt.Errorf("write pong: %w", err)
			return r.err
		}
	case OpPong:
		// §5.5.3: a pong needs no answer; it may tell a keepalive that
		// the peer is alive.
		if c.onPong != nil {
			c.onPong()
		}
	case OpClose:
		return c.peerClose(p)
	}
	return nil
}

// peerClose handles the peer's close frame with payload p (§5.5.1, §7.1.5,
// §7.4): it checks the code and reason, answers with a close frame echoing
// the code unless ours already went out, and returns the peer's close.
func (c *Conn) peerClose(p []byte) error {
	ce := &CloseError{Code: CloseNoStatus, Remote: true}
	switch {
	case len(p) == 1:
		return c.fail(CloseProtocolError, "close frame payload of 1 byte")
	case len(p) >= 2:
		ce.Code = binary.BigEndian.Uint16(p)
		if !validCloseCode(ce.Code) {
			return c.fail(CloseProtocolError, "invalid close code")
		}
		if !utf8.Valid(p[2:]) {
			return c.fail(CloseInvalidPayload, "invalid UTF-8 in close reason")
		}
		ce.Reason = string(p[2:])
	}
	c.r.err = ce
	// A peer without a code gets an empty close body (1005 never goes on
	// the wire). If the reply cannot be written the connection is over
	// all the same; the peer's close is what the caller needs to know.
	_ = c.WriteCloseNow(ce.Code, "")
	return ce
}

// fail fails the connection (§7.1.7) for a violation found here: it sends
// a close frame with code and reason (at most once, and best effort since
// the connection is being given up anyway), unless Config.DeferClose
// leaves that to the owner, and makes the error sticky. Nothing more is
// read either way.
func (c *Conn) fail(code uint16, reason string) error {
	if c.r.err != nil {
		return c.r.err // failed already: the first violation is the one sent
	}
	ce := &CloseError{Code: code, Reason: reason}
	c.r.err = ce
	if !c.deferClose {
		_ = c.WriteCloseNow(code, reason)
	}
	return ce
}

package wsproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

var (
	errMessageOpen   = errors.New("a fragmented message is open")
	errWriterClosed  = errors.New("message writer closed")
	errControlTooBig = errors.New("control frame payload over 125 bytes")
)

// WriteMessage writes p as one data message in a single frame with FIN set.
// op must be OpText or OpBinary; a text payload is sent as given (the
// caller makes it valid UTF-8). The frame is buffered, not flushed: call
// Flush when nothing more is ready, so that messages ready together leave
// in one write. It returns ErrCloseSent after this side's close frame, and
// once the reader has begun to answer the peer's close (or to fail the
// connection): no data follows a close (RFC 6455 §5.5.1).
//
// Data writes (WriteMessage, WriteFragment, NextWriter, Flush) come from
// one goroutine at a time and have no deadline: a peer that does not read
// holds the writer back.
func (c *Conn) WriteMessage(op Opcode, p []byte) error {
	return c.writeDataFrame(op, p, true, true)
}

// WriteFragment writes p as one frame of a fragmented message (RFC 6455
// §5.4). The first call of a message gives its type, OpText or OpBinary;
// the Conn sends later frames as continuations itself (their op is not
// used, but must still be a data opcode); fin true ends the message.
// Control frames may be sent between fragments. Like WriteMessage it
// buffers without flushing.
func (c *Conn) WriteFragment(op Opcode, p []byte, fin bool) error {
	return c.writeDataFrame(op, p, fin, false)
}

// writeDataFrame checks and buffers one data frame under the write lock;
// whole says p is a whole message (WriteMessage), which must not start
// inside an open one.
func (c *Conn) writeDataFrame(op Opcode, p []byte, fin, whole bool) error {
	if err := checkDataOpcode(op); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.dataClosed() {
		return ErrCloseSent
	}
	if c.wFrag {
		if whole {
			return fmt.Errorf("write message: %w", errMessageOpen)
		}
		op = OpContinuation
	}
	c.wFrag = !fin
	return c.writeData(fin, op, p)
}

// NextWriter starts a streamed message of type op whose length need not be
// known: each Write sends one frame (empty writes send nothing) and Close
// sends the final, empty frame with FIN set. There is one writer per Conn,
// reused: it is valid until its Close, and a new NextWriter must not be
// started before then. Writes are buffered as with WriteMessage.
func (c *Conn) NextWriter(op Opcode) io.WriteCloser {
	c.mw.op = op
	c.mw.open = true
	return &c.mw
}

// messageWriter is the io.WriteCloser NextWriter returns.
type messageWriter struct {
	c    *Conn
	op   Opcode
	open bool
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, errWriterClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.c.WriteFragment(w.op, p, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *messageWriter) Close() error {
	if !w.open {
		return errWriterClosed
	}
	w.open = false
	return w.c.WriteFragment(w.op, nil, true)
}

// Flush sends the buffered frames.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wb.n == 0 {
		return nil // nothing buffered
	}
	if err := c.wb.flush(c.nc); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// WritePing sends a ping with payload p (at most 125 bytes) and flushes.
// It may be called from any goroutine, also between the fragments of a
// data message. The write is bounded by the close timeout.
func (c *Conn) WritePing(p []byte) error {
	if len(p) > maxControlPayload {
		return fmt.Errorf("write ping: %w", errControlTooBig)
	}
	return c.writeControl(OpPing, p)
}

// WriteClose starts the closing handshake (RFC 6455 §7.1.2): it sends this
// side's close frame once (later calls do nothing and return ErrCloseSent,
// so a caller can tell whether its own close went out) and
// flushes, within the close timeout. It then sets a read deadline of the
// close timeout, so a reader waiting for the peer's close returns in
// bounded time even if the peer never answers; the owner then closes the
// Conn. code CloseNoStatus sends an empty body; other codes must be valid
// on the wire (§7.4). reason is cut at a UTF-8 boundary to fit in 125
// bytes. It may be called from any goroutine.
func (c *Conn) WriteClose(code uint16, reason string) error {
	if code != CloseNoStatus && !validCloseCode(code) {
		return fmt.Errorf("write close: invalid close code %d", code)
	}
	p := appendClosePayload(make([]byte, 0, maxControlPayload), code, reason)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	c.closeSent.Store(true)
	err := c.writeControlLocked(OpClose, p)
	// The write deadline stays: nothing more is written after a close.
	// Errors setting the read deadline mean the conn is already closed,
	// which bounds the reader as well.
	_ = c.nc.SetReadDeadline(time.Now().Add(c.closeTimeout))
	if err != nil {
		return fmt.Errorf("write close: %w", err)
	}
	return nil
}

// AbortWrites makes every write on the connection fail from now on,
// including one blocked now, for a peer known to be gone. It may be called
// from any goroutine. Unlike a past write deadline set on the net.Conn, it
// is not undone by a ping or pong written afterwards (those set and then
// clear a deadline of their own).
func (c *Conn) AbortWrites() {
	c.aborted.Store(true)
	_ = c.nc.SetWriteDeadline(aLongTimeAgo)
}

// dataClosed reports whether data frames may no longer be written.
func (c *Conn) dataClosed() bool { return c.closeSent.Load() || c.closing.Load() }

// WriteCloseNow is WriteClose for a connection being given up: no data
// frame starts from now on, and a data write blocked on a peer that does
// not read gets the close timeout to finish (RFC 6455 §5.5.1 lets the
// message under way go out first), so the close frame goes out, or fails,
// within twice the close timeout whatever the peer does. The reader uses it
// to answer the peer's close and to fail the connection; it may be called
// from any goroutine.
func (c *Conn) WriteCloseNow(code uint16, reason string) error {
	c.closing.Store(true)
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.closeTimeout))
	return c.WriteClose(code, reason)
}

// aLongTimeAgo is a write deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)

// writeControl writes and flushes a ping or pong, under a write deadline so
// that a stuck peer cannot hold the caller (often the reader) forever.
func (c *Conn) writeControl(op Opcode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	err := c.writeControlLocked(op, p)
	if !c.aborted.Load() {
		_ = c.nc.SetWriteDeadline(time.Time{}) // data writes have no deadline; see writeControlLocked
	}
	if err != nil {
		return fmt.Errorf("write %v: %w", op, err)
	}
	return nil
}

// writeControlLocked writes a control frame and flushes, with a write
// deadline of the close timeout. A failure to set the deadline shows up
// as the write's own error. c.wmu must be held.
func (c *Conn) writeControlLocked(op Opcode, p []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.closeTimeout))
	if c.aborted.Load() {
		// AbortWrites may have set its deadline just before ours.
		_ = c.nc.SetWriteDeadline(aLongTimeAgo)
	}
	if err := c.writeFrame(true, op, 0, p); err != nil {
		return err
	}
	return c.wb.flush(c.nc)
}

// writeData writes a data frame and wraps its error. c.wmu must be held.
func (c *Conn) writeData(fin bool, op Opcode, p []byte) error {
	var err error
	if c.wz != nil {
		err = c.writeDeflate(fin, op, p)
	} else {
		err = c.writeFrame(fin, op, 0, p)
	}
	if err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// writeFrame buffers one frame: the header then the payload, so that a small
// frame leaves in the same write as its header. In the client role the
// payload is masked while being copied into the buffer, leaving p intact.
// c.wmu must be held.
func (c *Conn) writeFrame(fin bool, op Opcode, rsv byte, p []byte) error {
	h := Header{Fin: fin, Rsv: rsv, Op: op, Length: int64(len(p))}
	if c.role == Client {
		h.Masked = true
		binary.LittleEndian.PutUint32(h.Mask[:], uint32(c.maskRand.Uint64()))
	}
	if err := c.wb.write(c.nc, AppendHeader(c.wHeader[:0], h)); err != nil {
		return err
	}
	if !h.Masked {
		return c.wb.write(c.nc, p)
	}
	pos := 0
	for len(p) > 0 {
		b, err := c.wb.space(c.nc)
		if err != nil {
			return err
		}
		n := copy(b, p)
		pos = Mask(b[:n], h.Mask, pos)
		c.wb.commit(n)
		p = p[n:]
	}
	return nil
}

// checkDataOpcode rejects a data write of anything but text or binary.
func checkDataOpcode(op Opcode) error {
	if op != OpText && op != OpBinary {
		return fmt.Errorf("write: %v is not a data message type", op)
	}
	return nil
}

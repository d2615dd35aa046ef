package wsproto

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Broadcasting: one message written to many server Conns is framed once,
// and compressed once, by a Preparer; each Conn then only copies the
// frame's bytes to its socket (WritePrepared). The compressed variant is
// made without context takeover (RFC 7692 §7.1.1.1): a DEFLATE stream that
// refers to nothing sent before inflates the same on every connection,
// whatever each one received earlier, so one encoding serves them all.

// PreparedMessage is one frame of a data message (the whole message, or
// one fragment of it), encoded once for many server Conns: its plain frame,
// and for Conns that compress without context takeover its compressed
// frame. Preparer makes them and Conn.WritePrepared writes them.
//
// It is shared by reference count so that its buffers can be reused: the
// Preparer's caller hands it to the queues of its Conns, then says how
// many took it with Shared; each queue calls Release once its Conn has
// written it (or will not). The last of these gives it back. Its bytes
// must not be used after one's own Release.
type PreparedMessage struct {
	plain    []byte
	deflated []byte // empty when compressing Conns get plain too
	refs     atomic.Int32
}

// sharedBias is the count a PreparedMessage starts with while its
// preparer's caller hands it out: Releases from queues that already took
// it cannot bring the count to zero before Shared says how many did.
const sharedBias = 1 << 30

var preparedPool = sync.Pool{New: func() any { return new(PreparedMessage) }}

// Size is how many bytes pm puts on the wire of a Conn that compresses
// without context takeover (deflate) or of any other.
func (pm *PreparedMessage) Size(deflate bool) int { return len(pm.frame(deflate)) }

func (pm *PreparedMessage) frame(deflate bool) []byte {
	if deflate && len(pm.deflated) > 0 {
		return pm.deflated
	}
	return pm.plain
}

// Shared ends the handing out of pm: n queues took it. After it, only
// their n Release calls (some of which may have come already) hold pm.
func (pm *PreparedMessage) Shared(n int) {
	if pm.refs.Add(int32(n)-sharedBias) == 0 {
		pm.recycle()
	}
}

// Release drops one queue's hold on pm.
func (pm *PreparedMessage) Release() {
	if pm.refs.Add(-1) == 0 {
		pm.recycle()
	}
}

func (pm *PreparedMessage) recycle() {
	pm.plain = pm.plain[:0]
	pm.deflated = pm.deflated[:0]
	preparedPool.Put(pm)
}

// Preparer frames the messages of one sender for many server Conns, each
// once, and compresses each once for the Conns that compress. It is used
// by one goroutine at a time, and keeps the state of a message sent in
// fragments between Prepare calls. Close gives its compressor back.
type Preparer struct {
	deflate   bool // compressed variants may be made
	level     int
	threshold int
	z         *compressor // while a compressed message is open, and between messages

	open bool   // a message is open: its next frame is a continuation
	on   bool   // the open message is compressed
	sent bool   // the open compressed message's first frame is made (RSV1 goes on it alone)
	op   Opcode // the open message's type
}

// NewPreparer returns a Preparer. With cfg nil it makes plain frames only;
// otherwise it also makes compressed ones, at cfg's Level and Threshold
// (their defaults as for a Conn without context takeover), each message
// compressed on its own. cfg.NoContextTakeover and cfg.History are not
// used: a broadcast message never refers to another.
func NewPreparer(cfg *DeflateConfig) *Preparer {
	p := &Preparer{}
	if cfg != nil {
		d := newDeflater(&DeflateParams{ServerNoContextTakeover: true, Level: cfg.Level, Threshold: cfg.Threshold}, Server)
		p.deflate, p.level, p.threshold = true, d.level, d.threshold
	}
	return p
}

// errPrepareOpcode is a Prepare of anything but text or binary.
var errPrepareOpcode = errors.New("prepare: not a data message type")

// Prepare frames b as the next frame of a data message of type op (OpText
// or OpBinary; read at a message's first frame only, as WriteFragment
// does); fin ends the message. compress, read at a message's first frame,
// says whether to make the compressed variant too: whether any Conn that
// will get the message compresses. A message shorter than the threshold,
// given whole, is never compressed, and neither is one that compressing
// did not shrink. The result is held by the caller alone until Shared.
// op other than text or binary panics: it is the caller's bug.
func (p *Preparer) Prepare(op Opcode, b []byte, fin, compress bool) *PreparedMessage {
	if !p.open {
		if op != OpText && op != OpBinary {
			panic(errPrepareOpcode)
		}
		p.op = op
		p.on = compress && p.deflate && (!fin || len(b) >= p.threshold)
		p.sent = false
	} else {
		op = OpContinuation
	}
	p.open = !fin
	pm := preparedPool.Get().(*PreparedMessage)
	pm.refs.Store(sharedBias)
	pm.plain = append(AppendHeader(pm.plain[:0], Header{Fin: fin, Op: op, Length: int64(len(b))}), b...)
	if p.on {
		p.compress(pm, op, b, fin)
	}
	return pm
}

// compress makes pm's compressed frame of the open message (RFC 7692
// §7.2.1): the compressor's output so far, RSV1 on the message's first
// frame, the final sync flush's 00 00 ff ff removed.
func (p *Preparer) compress(pm *PreparedMessage, op Opcode, b []byte, fin bool) {
	if p.z == nil {
		p.z = getCompressor(p.level)
	}
	z := p.z
	whole := fin && op != OpContinuation
	z.fw.Write(b) // writes into z.buf; cannot fail
	if fin {
		z.fw.Flush()
		z.buf = z.buf[:len(z.buf)-len(deflateTail)]
	}
	if whole && len(z.buf) >= len(b) {
		// Compressing did not pay: compressing Conns get the plain frame.
		pm.deflated = pm.deflated[:0]
		z.fw.Reset(z)
		z.buf = z.buf[:0]
		p.on = false
		return
	}
	var rsv byte
	if !p.sent {
		rsv, p.sent = rsv1, true
	}
	pm.deflated = append(AppendHeader(pm.deflated[:0], Header{Fin: fin, Rsv: rsv, Op: op, Length: int64(len(z.buf))}), z.buf...)
	z.buf = z.buf[:0]
	if fin {
		z.fw.Reset(z) // no context: the next message starts afresh
		p.on = false
	}
}

// Close gives the Preparer's compressor back to the pool. A message left
// open is abandoned.
func (p *Preparer) Close() {
	if p.z != nil {
		putCompressor(p.level, p.z)
		p.z = nil
	}
	p.open, p.on = false, false
}

var errPreparedRole = errors.New("write prepared: prepared frames are a server's")

// WritePrepared writes prepared frames, in order, and flushes: those that
// fit the write buffer leave in one write. A Conn that compresses without
// context takeover gets each frame's compressed variant where there is
// one, any other the plain frame. It is a data write (see WriteMessage:
// no deadline, ErrCloseSent once closing) and is for the server role.
//
// The frames are whole messages over successive calls: a message's
// fragments follow one another with only control frames between them.
// A Conn written to with WritePrepared takes no other data writes, whose
// fragment and compression state would not know of these frames.
func (c *Conn) WritePrepared(pms []*PreparedMessage) error {
	if c.role != Server {
		return errPreparedRole
	}
	deflate := c.wz != nil && c.wz.noContext
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.dataClosed() {
		return ErrCloseSent
	}
	for _, pm := range pms {
		if err := c.wb.write(c.nc, pm.frame(deflate)); err != nil {
			return fmt.Errorf("write prepared: %w", err)
		}
	}
	if err := c.wb.flush(c.nc); err != nil {
		return fmt.Errorf("write prepared: %w", err)
	}
	return nil
}

package wsproto

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// rsv1 is the "Per-Message Compressed" bit (RFC 7692 §6) in Header.Rsv.
const rsv1 = 4

// windowSize is the largest LZ77 window, 2^15 bytes (RFC 7692 §7.1.2).
const windowSize = 1 << 15

// deflateChunk is how much of a message goes into the compressor at a time;
// what it has produced by then leaves as a frame, so a large message never
// sits whole in memory compressed.
const deflateChunk = 16 << 10

// inflateTail is fed to the decompressor after a message's payload: the
// 00 00 ff ff the sender removed (RFC 7692 §7.2.2), then an empty final
// stored block, so that the decompressor ends the message with io.EOF
// instead of waiting for a block that will never come.
var inflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// deflateIdle is how long a Conn that keeps history (DeflateParams.History)
// holds its compressor after a message: a burst of messages shares one, an
// idle connection gives it back to the pool.
const deflateIdle = time.Second

// deflateTail ends the output of a sync flush; RFC 7692 §7.2.1 removes it.
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// Compressors and decompressors are large (compress/flate's compressor is
// 0.8 to 1.2 MB, its decompressor about 40 KB), so they are pooled and held
// by a Conn only while it needs them: a decompressor for one message, a
// compressor for one message without context takeover. With context
// takeover a Conn keeps its compressor (compress/flate cannot be handed a
// window back) for its life, or, with DeflateParams.History, only while
// messages flow: once idle it gives the compressor back and primes the
// next from the last History bytes it sent.
var (
	flateReaders sync.Pool                            // of io.ReadCloser from flate.NewReader
	flateWriters [flate.BestCompression + 3]sync.Pool // of *compressor, by level+2
)

// compressor is a flate.Writer and the buffer it writes into.
type compressor struct {
	fw  *flate.Writer
	buf []byte
}

func (z *compressor) Write(p []byte) (int, error) {
	z.buf = append(z.buf, p...)
	return len(p), nil
}

func getCompressor(level int) *compressor {
	if z, ok := flateWriters[level+2].Get().(*compressor); ok {
		return z
	}
	z := &compressor{}
	fw, err := flate.NewWriter(z, level)
	if err != nil {
		panic(err) // levels are checked by newDeflater
	}
	z.fw = fw
	return z
}

func putCompressor(level int, z *compressor) {
	z.fw.Reset(z)
	z.buf = z.buf[:0]
	flateWriters[level+2].Put(z)
}

// deflater is the write side of permessage-deflate, guarded by c.wmu.
type deflater struct {
	level     int
	threshold int
	noContext bool        // this side resets its window after each message
	history   int         // with context: keep this much sent text, not an idle compressor
	hist      []byte      // the last history bytes of compressed messages' text
	idle      *time.Timer // gives z back to the pool once the connection is idle
	z         *compressor // nil when not in use
	on        bool        // the open message is compressed
	sent      bool        // its first frame went out
	op        Opcode
}

// deflaters and inflaters are set up by NewConn from the negotiated
// parameters for the Conn's role.
func newDeflater(p *DeflateParams, role Role) *deflater {
	d := &deflater{level: p.Level, threshold: p.Threshold, noContext: p.ServerNoContextTakeover}
	bits := p.ServerMaxWindowBits
	if role == Client {
		d.noContext, bits = p.ClientNoContextTakeover, p.ClientMaxWindowBits
	}
	if bits != 0 && bits < 15 {
		// A window smaller than compress/flate's, which it cannot shrink:
		// Huffman codes alone make no back-reference, so none reaches
		// past any window. With nothing to refer back to, keeping a
		// context would only hold memory.
		d.level, d.noContext = flate.HuffmanOnly, true
	}
	if !d.noContext {
		d.history = min(max(p.History, 0), windowSize)
	}
	if d.level == 0 || d.level < flate.HuffmanOnly || d.level > flate.BestCompression {
		d.level = DefaultDeflateLevel
		if d.noContext {
			d.level = DefaultDeflateLevelNoContext
		}
	}
	if d.threshold == 0 {
		d.threshold = DefaultDeflateThreshold
	}
	return d
}

// writeDeflate writes a data frame of a compressed connection (RFC 7692
// §7.2.1). A message shorter than the threshold, given whole, goes out
// uncompressed, and so does a small one that compressing did not shrink
// when this side keeps no context; any other is compressed, RSV1 set on its first frame
// only, the compressor's output leaving as frames as it comes, and the
// final sync flush's 00 00 ff ff removed. op is OpContinuation for every
// frame after a message's first. c.wmu must be held.
func (c *Conn) writeDeflate(fin bool, op Opcode, p []byte) error {
	d := c.wz
	if op != OpContinuation {
		d.on = !fin || len(p) >= d.threshold
		d.op, d.sent = op, false
		if d.on && d.z == nil {
			d.z = getCompressor(d.level)
			d.prime()
		}
	}
	if !d.on {
		return c.writeFrame(fin, op, 0, p)
	}
	z := d.z
	// A whole message of one chunk is compressed before anything is sent,
	// so that without context takeover it can go out as it is when
	// compressing did not make it smaller (the peer's window does not
	// care; with takeover the compressor's would then be out of step).
	whole, orig := fin && op != OpContinuation && len(p) <= deflateChunk, p
	for len(p) > 0 {
		n := min(len(p), deflateChunk)
		if _, err := z.fw.Write(p[:n]); err != nil {
			return err
		}
		// Remembered even when a whole message then goes out raw below:
		// that happens only without context takeover, which keeps no
		// history.
		d.remember(p[:n])
		p = p[n:]
		if len(z.buf) > 0 && !whole {
			if err := c.deflateFrame(false); err != nil {
				return err
			}
		}
	}
	if !fin {
		return nil
	}
	if err := z.fw.Flush(); err != nil {
		return err
	}
	if len(z.buf) < len(deflateTail) || [4]byte(z.buf[len(z.buf)-4:]) != deflateTail {
		return errors.New("deflate: sync flush without its 00 00 ff ff tail")
	}
	z.buf = z.buf[:len(z.buf)-4]
	var err error
	if whole && d.noContext && len(z.buf) >= len(orig) {
		err = c.writeFrame(true, d.op, 0, orig)
	} else {
		err = c.deflateFrame(true)
	}
	d.on = false
	if err != nil {
		return err
	}
	switch {
	case d.noContext:
		putCompressor(d.level, z)
		d.z = nil
	case d.history > 0:
		if d.idle == nil {
			d.idle = time.AfterFunc(deflateIdle, c.releaseCompressor)
		} else {
			d.idle.Reset(deflateIdle)
		}
	}
	return nil
}

// releaseCompressor gives an idle compressor back to the pool; the next
// message primes a fresh one with hist. It runs on the idle timer.
func (c *Conn) releaseCompressor() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if d := c.wz; d.z != nil && !d.on {
		putCompressor(d.level, d.z)
		d.z = nil
	}
}

// prime readies a compressor fresh from the pool to continue this side's
// context when it keeps history rather than a compressor: it compresses
// hist, the end of what the peer's window holds, and drops the output, so
// that the message that follows may refer back into those bytes. The sync
// flush leaves the compressor at a byte boundary, as a message must start.
func (d *deflater) prime() {
	if len(d.hist) == 0 {
		return
	}
	d.z.fw.Write(d.hist) // writes into d.z.buf; cannot fail
	d.z.fw.Flush()
	d.z.buf = d.z.buf[:0]
}

// remember appends text of a compressed message to hist, keeping the last
// history bytes.
func (d *deflater) remember(b []byte) {
	if d.history > 0 {
		d.hist = appendWindow(d.hist, b, d.history)
	}
}

// appendWindow appends b to the window w and keeps its last size bytes,
// allocating the window's full size once.
func appendWindow(w, b []byte, size int) []byte {
	if w == nil {
		w = make([]byte, 0, size)
	}
	if len(b) >= size {
		return append(w[:0], b[len(b)-size:]...)
	}
	if over := len(w) + len(b) - size; over > 0 {
		w = w[:copy(w, w[over:])]
	}
	return append(w, b...)
}

// deflateFrame sends the compressor's output as a frame of the open
// message: the first with the message's type and RSV1, the others as
// continuations.
func (c *Conn) deflateFrame(fin bool) error {
	d := c.wz
	op, rsv := OpContinuation, byte(0)
	if !d.sent {
		op, rsv = d.op, rsv1
	}
	err := c.writeFrame(fin, op, rsv, d.z.buf)
	d.z.buf = d.z.buf[:0]
	d.sent = true
	return err
}

// inflater is the read side of permessage-deflate, owned by the reader.
type inflater struct {
	c         *Conn
	noContext bool   // the peer resets its window after each message
	hist      []byte // the peer's last window of output, kept when it does not
	fr        io.ReadCloser
	out       int64 // bytes inflated from the open message
	tail      int   // bytes of inflateTail given to fr
	one       [1]byte
}

func newInflater(c *Conn, p *DeflateParams) *inflater {
	z := &inflater{c: c, noContext: p.ClientNoContextTakeover}
	if c.role == Client {
		z.noContext = p.ServerNoContextTakeover
	}
	return z
}

// start readies the decompressor for a new message, with the peer's window
// when it keeps one (RFC 7692 §7.2.2).
func (z *inflater) start() {
	z.out, z.tail = 0, 0
	if fr, ok := flateReaders.Get().(io.ReadCloser); ok {
		z.fr = fr
		z.fr.(flate.Resetter).Reset(z, z.hist)
		return
	}
	z.fr = flate.NewReaderDict(z, z.hist)
}

// finish gives the decompressor back to the pool.
func (z *inflater) finish() {
	if z.fr != nil {
		flateReaders.Put(z.fr)
		z.fr = nil
	}
}

// remember appends inflated bytes to the window kept for the next message.
func (z *inflater) remember(b []byte) { z.hist = appendWindow(z.hist, b, windowSize) }

// Read gives the decompressor the message's payload, unmasked, across
// frames, then inflateTail, then io.EOF.
func (z *inflater) Read(p []byte) (int, error) {
	c := z.c
	if c.r.inMsg {
		n, err := c.readRaw(p)
		if err != io.EOF {
			return n, err
		}
	}
	if z.tail < len(inflateTail) {
		n := copy(p, inflateTail[z.tail:])
		z.tail += n
		return n, nil
	}
	return 0, io.EOF
}

// ReadByte is the decompressor's usual way in (flate.Reader): one byte of
// the current frame without a call through bufio's Read, else Read.
func (z *inflater) ReadByte() (byte, error) {
	r := &z.c.r
	if r.remain > 0 && r.err == nil {
		b, err := z.c.br.ReadByte()
		if err != nil {
			r.err = fmt.Errorf("read payload: %w", noEOF(err))
			return 0, r.err
		}
		if r.masked {
			b ^= r.mask[r.pos&3]
			r.pos++
		}
		r.remain--
		return b, nil
	}
	n, err := z.Read(z.one[:])
	if n == 1 {
		return z.one[0], nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, err
}

// readInflated reads the decompressed payload of the open compressed
// message. The inflated size counts against the message limit as it
// grows, so a small message that inflates past it fails with 1009 having
// produced at most the limit; a text message's UTF-8 is checked on the
// inflated bytes. Data that does not inflate fails the connection with
// 1002: it breaks the framing of the extension (RFC 7692 §7.2.2 requires
// a valid DEFLATE stream), while 1007 stays for inflated text that is not
// UTF-8.
func (c *Conn) readInflated(p []byte) (int, error) {
	r := &c.r
	z := r.z
	if len(p) == 0 {
		return 0, nil
	}
	if z.fr == nil {
		z.start()
	}
	if room := addSat(c.maxMessage-z.out, 1); int64(len(p)) > room {
		p = p[:room]
	}
	n, err := z.fr.Read(p)
	if r.err != nil {
		// The connection failed underneath (a network error, or a
		// violation in the frames carrying the data, already answered
		// with its close frame); what came out before it counts for
		// nothing.
		return 0, r.err
	}
	z.out = addSat(z.out, int64(n))
	if z.out > c.maxMessage {
		return 0, c.fail(CloseMessageTooBig, "message too big")
	}
	if r.text && !r.utf8.write(p[:n]) {
		return 0, c.fail(CloseInvalidPayload, "invalid UTF-8 in text message")
	}
	if !z.noContext {
		z.remember(p[:n])
	}
	switch {
	case err == nil:
		return n, nil
	case err != io.EOF:
		return 0, c.fail(CloseProtocolError, "invalid compressed data")
	}
	// The DEFLATE stream ended: at the final block appended here, or at
	// one the peer marked final (BFINAL, RFC 7692 §7.2.3.4), after which
	// the rest of the payload carries nothing and is read and dropped.
	for r.inMsg && r.err == nil {
		c.readRaw(r.ctrl[:])
	}
	if r.err != nil {
		return 0, r.err
	}
	if r.text && !r.utf8.complete() {
		return 0, c.fail(CloseInvalidPayload, "invalid UTF-8 in text message")
	}
	z.finish()
	r.compressed = false
	if n > 0 {
		return n, nil
	}
	return 0, io.EOF
}

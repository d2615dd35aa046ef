package procio

import (
	"github.com/wsexec/wsexec/internal/bufpool"

	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// The length framing: each message, both ways, is a header of
// LengthHeaderSize bytes, then its payload. The header's first byte is the
// message's type, LengthText or LengthBinary (the WebSocket opcodes, RFC
// 6455 §5.2); the next eight are the payload's length in bytes, an
// unsigned big-endian integer.
const (
	LengthHeaderSize = 9
	LengthText       = 1
	LengthBinary     = 2
)

// lengthCodec is the length framing; see NewLengthCodec.
type lengthCodec struct {
	max int64
	in  *bufpool.Pool // WriteMessage's buffers, LengthHeaderSize+size+1 bytes, held for one message
	out idleBuf       // ReadMessages's buffer, held while output is flowing
	r   lengthReader
}

// lengthReader is ReadMessages's state, kept across calls: a header may
// be cut across reads, and a payload across many.
type lengthReader struct {
	hdr    [LengthHeaderSize]byte
	hn     int   // bytes of hdr read so far
	inMsg  bool  // a header was read and its payload is not all out
	binary bool  // the open message's type
	remain int64 // payload bytes of the open message not yet read
	held   int   // bytes at the start of the read buffer: the incomplete rune ending a text fragment, read but not yet sent
	offset int64 // bytes of stdout read so far
}

// NewLengthCodec returns the length framing (LengthHeaderSize): exact
// messages of any type and size, both ways.
//
// To stdin, a message whose size is known before it is read (Message.
// SizeKnown) is streamed behind its header, in one write when it fits
// bufSize. Any other (fragmented, or compressed) is held whole until it
// ends, since its header needs its length: up to the WebSocket's message
// limit.
//
// From stdout, each message is streamed as it is read: its payload goes
// out in fragments of at most bufSize bytes, and a text one is checked to
// be UTF-8 as it goes (a rune cut by a read waits for the next). A header
// of an unknown type or a length over max (0 or less: no limit), invalid
// UTF-8 in a text message, and stdout ending inside a message are each a
// *FramingError; the message it is found in never gets its last fragment.
//
// bufSize 0 means DefaultBufferSize; it is kept within MinBufferSize and
// MaxBufferSize. Like the other codecs it takes pooled buffers and holds
// none while stdout is quiet between messages.
func NewLengthCodec(bufSize int, max int64) Codec {
	size := bufferSize(bufSize)
	return &lengthCodec{
		max: noLimit(max),
		in:  bufpool.For(LengthHeaderSize + size + 1), // +1: see copyMessage
		out: idleBuf{pool: bufpool.For(size)},
	}
}

func (c *lengthCodec) WriteMessage(stdin io.Writer, msg Message) error {
	bp := c.in.Get()
	defer c.in.Put(bp)
	b := *bp
	b[0] = LengthText
	if msg.Binary {
		b[0] = LengthBinary
	}
	if msg.SizeKnown {
		binary.BigEndian.PutUint64(b[1:LengthHeaderSize], uint64(msg.Size))
		n, err := copyMessage(stdin, msg.Reader, b, LengthHeaderSize, false)
		if err == nil && n != msg.Size {
			err = fmt.Errorf("read message: %d bytes, %d announced", n, msg.Size)
		}
		return err
	}
	n, err := readUntilFull(msg.Reader, b[LengthHeaderSize:])
	whole := b[:LengthHeaderSize+n]
	if err == nil {
		// It may go on past the buffer: hold it whole, growing by at
		// most doubling as it comes (the WebSocket's limit bounds it).
		whole = slices.Clone(whole)
		for err == nil {
			whole = slices.Grow(whole, len(whole))
			n, err = readUntilFull(msg.Reader, whole[len(whole):cap(whole)])
			whole = whole[:len(whole)+n]
		}
	}
	if err != io.EOF {
		return fmt.Errorf("read message: %w", err)
	}
	binary.BigEndian.PutUint64(whole[1:LengthHeaderSize], uint64(len(whole)-LengthHeaderSize))
	if _, err := stdin.Write(whole); err != nil {
		return fmt.Errorf("write stdin: %w", err)
	}
	return nil
}

func (c *lengthCodec) ReadMessages(stdout Output, out Sink) error {
	buf := &c.out
	defer buf.release()
	r := &c.r
	pending := false // messages went to out since its last Flush
	ahead := false   // n and err are a read already made, into b[r.held:], by readAhead
	var (
		n   int
		err error
	)
	for stalls := 0; ; {
		var b []byte
		if ahead {
			b, ahead = buf.get(), false
		} else {
			b, n, err = buf.read(stdout, r.held, !r.inMsg && r.hn == 0)
			if err == ErrQuiet {
				return err
			}
		}
		sent, ferr := r.take(b, n, out, c.max)
		pending = pending || sent
		switch {
		case ferr == nil && err == io.EOF && (r.inMsg || r.hn > 0):
			ferr = &FramingError{Offset: r.offset, Reason: "stdout ended inside a message"}
		case ferr == nil && err == io.EOF:
			if pending {
				return out.Flush()
			}
			return nil
		}
		if done, err := afterTake(out, pending, n, ferr, err, &stalls); done {
			return err
		}
		if pending {
			// More output already waiting joins this flush.
			var read bool
			if n, read, err = stdout.readAhead(b[r.held:]); read {
				ahead = true
				continue
			}
			if err := out.Flush(); err != nil {
				return err
			}
			pending = false
		}
	}
}

// take hands the messages in b to out: b[:r.held] is the held start of a
// rune of the open text message, b[r.held:r.held+n] what was just read.
// It reports whether anything went to out. Errors are out's, as they are,
// or a *FramingError.
func (r *lengthReader) take(b []byte, n int, out Sink, max int64) (sent bool, err error) {
	i, end := r.held, r.held+n
	start := 0 // where the payload not yet sent begins
	r.held = 0
	for i < end || (r.inMsg && r.remain == 0) {
		if !r.inMsg {
			k := copy(r.hdr[r.hn:], b[i:end])
			r.hn += k
			i += k
			r.offset += int64(k)
			if r.hn < LengthHeaderSize {
				break
			}
			r.hn = 0
			if err := r.begin(max); err != nil {
				return sent, err
			}
			start = i
			continue
		}
		k := int(min(r.remain, int64(end-i)))
		i += k
		r.remain -= int64(k)
		r.offset += int64(k)
		p := b[start:i]
		fin := r.remain == 0
		keep := 0 // bytes held back for the next read
		if !r.binary {
			if !fin {
				keep = runeTail(p)
			}
			if bad := invalidAt(p[:len(p)-keep]); bad >= 0 {
				return sent, &FramingError{Offset: r.offset - int64(len(p)-bad), Reason: "invalid UTF-8 in a text message"}
			}
		}
		if len(p) > keep || fin {
			if err := out.WriteFragment(r.binary, p[:len(p)-keep], fin); err != nil {
				return sent, err
			}
			sent = true
		}
		if fin {
			r.inMsg = false
		} else {
			r.held = copy(b, p[len(p)-keep:])
		}
		start = i
	}
	return sent, nil
}

// begin opens the message whose header is r.hdr.
func (r *lengthReader) begin(max int64) error {
	at := r.offset - LengthHeaderSize
	switch r.hdr[0] {
	case LengthText, LengthBinary:
	default:
		return &FramingError{Offset: at, Reason: fmt.Sprintf("message type %d in a header: want 1 (text) or 2 (binary)", r.hdr[0])}
	}
	size := binary.BigEndian.Uint64(r.hdr[1:])
	if size > uint64(max) {
		return &FramingError{Offset: at, Reason: fmt.Sprintf("message of %d bytes, over the limit of %d", size, max)}
	}
	r.inMsg, r.binary, r.remain = true, r.hdr[0] == LengthBinary, int64(size)
	return nil
}

// invalidAt returns the index of the first byte of p that is not part of
// valid UTF-8, or -1 if p is valid.
func invalidAt(p []byte) int {
	if utf8.Valid(p) {
		return -1
	}
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

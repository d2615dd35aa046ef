package procio

import (
	"bytes"
	"fmt"
	"github.com/wsexec/wsexec/internal/bufpool"
	"io"
	"unicode/utf8"
)

// lineCodec is websocketd's line mode; see the package documentation.
type lineCodec struct {
	size int
	in   *bufpool.Pool // WriteMessage's buffers, size+1 bytes, held for one message
	out  idleBuf       // ReadMessages's buffer, held while output is coming (a field: readIdle's argument would escape)
	repl []byte        // ReadMessages's U+FFFD replacement buffer, made the first time output is not UTF-8
}

// NewLineCodec returns websocketd's line codec: each message is written to
// stdin followed by '\n' (in one write when it is at most bufSize bytes), each
// stdout line becomes one text message. bufSize (0 means DefaultBufferSize;
// kept within MinBufferSize and MaxBufferSize) is both the stdout read buffer
// and the longest line sent as a single frame; longer lines go out as
// fragmented messages. The codec takes its buffers
// from pools shared by every connection and allocates nothing per message,
// except a U+FFFD replacement buffer made once, the first time output is not
// valid UTF-8. It holds no buffer while stdout is quiet with no partial line
// pending, nor between incoming messages.
func NewLineCodec(bufSize int) Codec {
	size := bufferSize(bufSize)
	return &lineCodec{size: size, in: bufpool.For(size + 1), out: idleBuf{pool: bufpool.For(size)}} // +1: see copyMessage
}

func (c *lineCodec) WriteMessage(stdin io.Writer, msg Message) error {
	bp := c.in.Get()
	defer c.in.Put(bp)
	_, err := copyMessage(stdin, msg.Reader, *bp, 0, true)
	return err
}

func (c *lineCodec) ReadMessages(stdout Output, out Sink) error {
	buf := &c.out // held while it holds something or output is flowing
	defer buf.release()
	held := 0        // b[:held] came from earlier reads: a partial line, or the held-back tail of a fragment
	more := false    // a fragment without fin went out: the message is not finished
	pending := false // messages went to out since its last Flush
	ahead := false   // n and err are a read already made, into b[held:], by readAhead
	var (
		n   int
		err error
	)
	for stalls := 0; ; {
		var b []byte
		if ahead {
			b, ahead = buf.get(), false
		} else {
			// With nothing held, output is waited for without the
			// buffer (the last flush found the pipe empty).
			b, n, err = buf.read(stdout, held, !more)
			if err == ErrQuiet {
				return err
			}
		}
		end := held + n
		sent := false
		start := 0 // where the line not yet sent begins
		if last := lastNewline(b[held:end]); last >= 0 {
			// The complete lines: checking them in one go is much cheaper
			// than line by line, and a valid whole splits into valid lines.
			lines := b[:held+last+1]
			valid := utf8.Valid(lines)
			from := held // lines[:from] holds no newline
			for start < len(lines) {
				i := from + bytes.IndexByte(lines[from:], '\n')
				line := dropCR(lines[start:i])
				if !valid {
					line = c.toValidUTF8(line)
				}
				if err := out.WriteFragment(false, line, true); err != nil {
					return err
				}
				start, from = i+1, i+1
			}
			sent, more = true, false
		}
		rest := b[start:end]
		switch {
		case err == io.EOF:
			// The final line, even without a newline; or the end of a
			// fragmented one.
			if len(rest) > 0 || more {
				if err := c.send(out, dropCR(rest), true); err != nil {
					return err
				}
				sent = true
			}
			if sent || pending {
				return out.Flush()
			}
			return nil
		case err != nil:
			if sent || pending {
				if err := out.Flush(); err != nil {
					return err
				}
			}
			return fmt.Errorf("read stdout: %w", err)
		case len(rest) == len(b):
			// A line longer than the buffer: send what we have as a
			// fragment, holding back what the next read may complete.
			k := holdBack(rest)
			if err := c.send(out, rest[:len(rest)-k], false); err != nil {
				return err
			}
			sent, more = true, true
			held = copy(b, rest[len(rest)-k:])
		case start == 0:
			held = end // a partial line, already in place
		default:
			held = copy(b, rest)
		}
		if n > 0 {
			stalls = 0
		} else if stalls++; stalls == maxStalls {
			return fmt.Errorf("read stdout: %w", io.ErrNoProgress)
		}
		pending = pending || sent
		if pending {
			// More output already waiting joins this flush (the Sink
			// writes out a full buffer by itself); otherwise flush now, so
			// a quiet program's line goes out at once.
			var read bool
			if n, read, err = stdout.readAhead(b[held:]); read {
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

// send hands p to out as (part of) a text message, with invalid UTF-8
// replaced.
func (c *lineCodec) send(out Sink, p []byte, fin bool) error {
	return out.WriteFragment(false, c.toValidUTF8(p), fin)
}

// lastNewline returns the index of the last '\n' in p, or -1. It looks for
// any first with bytes.IndexByte, which is vectorised where LastIndexByte is
// a byte loop: a long line's read has none, and with short lines the
// backward search is short.
func lastNewline(p []byte) int {
	if bytes.IndexByte(p, '\n') < 0 {
		return -1
	}
	return bytes.LastIndexByte(p, '\n')
}

// dropCR removes a '\r' ending p.
func dropCR(p []byte) []byte {
	if len(p) > 0 && p[len(p)-1] == '\r' {
		return p[:len(p)-1]
	}
	return p
}

// holdBack returns how many bytes at the end of p must wait for the next read
// before they can go out in a fragment: a '\r' (it may precede '\n'), or the
// start of a rune whose remaining bytes have not arrived. It is at most
// utf8.UTFMax-1.
func holdBack(p []byte) int {
	if len(p) > 0 && p[len(p)-1] == '\r' {
		return 1
	}
	return runeTail(p)
}

// runeTail returns the length of the start of a rune ending p whose
// remaining bytes have not arrived, at most utf8.UTFMax-1; 0 when p ends
// with a complete rune, or with bytes that are invalid whatever follows.
func runeTail(p []byte) int {
	for k := 1; k < utf8.UTFMax && k <= len(p); k++ {
		tail := p[len(p)-k:]
		if utf8.RuneStart(tail[0]) {
			if utf8.FullRune(tail) {
				return 0 // complete, or invalid whatever follows
			}
			return k
		}
	}
	return 0
}

// toValidUTF8 returns p if it is valid UTF-8, and otherwise a copy, in c.repl,
// with each maximal subpart of an ill-formed sequence replaced by U+FFFD (the
// WHATWG decoder's rule, which TextDecoder follows).
func (c *lineCodec) toValidUTF8(p []byte) []byte {
	if utf8.Valid(p) {
		return p
	}
	if c.repl == nil {
		// Worst case, every byte becomes a 3-byte U+FFFD; len(p) never
		// exceeds the read buffer.
		c.repl = make([]byte, 0, c.size*len(string(utf8.RuneError)))
	}
	b := c.repl[:0]
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			b = append(b, p[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError || size > 1 {
			b = append(b, p[i:i+size]...)
			i += size
			continue
		}
		b = utf8.AppendRune(b, utf8.RuneError)
		i += invalidLen(p[i:])
	}
	return b
}

// invalidLen returns the length of the maximal subpart of the ill-formed
// sequence at the start of p: the longest prefix that could begin a valid
// sequence (Unicode §3.9, U+FFFD substitution of maximal subparts), or 1.
func invalidLen(p []byte) int {
	lo, hi := byte(0x80), byte(0xBF) // the range of the next byte
	need := 0                        // continuation bytes after p[0]
	switch b := p[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 1
	case b >= 0xE0 && b <= 0xEF:
		need = 2
		if b == 0xE0 {
			lo = 0xA0 // no overlong forms
		} else if b == 0xED {
			hi = 0x9F // no surrogates
		}
	case b >= 0xF0 && b <= 0xF4:
		need = 3
		if b == 0xF0 {
			lo = 0x90 // no overlong forms
		} else if b == 0xF4 {
			hi = 0x8F // nothing above U+10FFFF
		}
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(p) && p[n] >= lo && p[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}

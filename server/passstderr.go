package server

import (
	"encoding/base64"
	"sync"
	"unicode/utf8"

	"github.com/wsexec/wsexec/procio"
)

// tagger sends the program's stdout and stderr lines to the client as JSON
// text messages, one per line, tagged with their stream (--passstderr, as
// websocketd defines it):
//
//	{"stream":"stdout","data":"a line"}
//	{"stream":"stderr","data":"an error"}
//
// data is the line without its newline, as a JSON string: quotes,
// backslashes and control characters escaped, invalid UTF-8 replaced by
// U+FFFD. A stdout line longer than the codec's buffer is still streamed,
// as one fragmented message holding one JSON object.
//
// With a framing that keeps messages exact (json, length), each of the
// program's messages is tagged whole, with its type, binary data in
// base64 (streamed too), and stderr lines are text:
//
//	{"stream":"stdout","type":"text","data":"a message"}
//	{"stream":"stdout","type":"binary","data":"AAEC"}
//	{"stream":"stderr","type":"text","data":"an error"}
//
// Writes to the socket are serialised here: the stdout side (the write
// pump, through the procio.Sink that attach returns) and the stderr side
// (procio's stderr goroutine, through stderr) take mu for each message, and
// a stderr line waits while a stdout message is open, since the frames of
// two messages cannot interleave (RFC 6455 §5.4). Waiting is the
// back-pressure: a stalled socket stalls the program's stderr writes too.
// A nil *tagger (--passstderr off) does nothing.
type tagger struct {
	mu    sync.Mutex
	cond  sync.Cond    // signalled when out is set, a message ends, or gone
	typed bool         // the framing keeps messages exact: tag them with their type
	out   *sink        // nil until attach
	open  bool         // a stdout message is being streamed in fragments
	bin   bool         // and it is binary
	b64   base64Stream // its data so far, if binary
	gone  bool         // detached: stderr lines are only logged
	buf   []byte       // the JSON being written (either stream's), reused
}

// newTagger returns the tagger of one connection, or nil if on is false.
// typed: the framing keeps messages exact.
func newTagger(on, typed bool) *tagger {
	if !on {
		return nil
	}
	t := &tagger{typed: typed}
	t.cond.L = &t.mu
	return t
}

const (
	stdoutPrefix       = `{"stream":"stdout","data":"`
	stderrPrefix       = `{"stream":"stderr","data":"`
	stdoutTextPrefix   = `{"stream":"stdout","type":"text","data":"`
	stdoutBinaryPrefix = `{"stream":"stdout","type":"binary","data":"`
	stderrTextPrefix   = `{"stream":"stderr","type":"text","data":"`
	jsonSuffix         = `"}`
)

// attach starts sending to out and returns the sink the stdout codec
// writes to.
func (t *tagger) attach(out *sink) procio.Sink {
	t.mu.Lock()
	t.out = out
	t.cond.Broadcast()
	t.mu.Unlock()
	return (*taggedStdout)(t)
}

// endStdout is called once the stdout codec has returned. A stdout line
// it left open (its read failed mid-line) is ended, so that the message
// stays valid JSON and stderr lines waiting for it go out. A message of an
// exact framing left open is not: ending it would pass part of it off as
// whole. It stays unfinished, and stderr lines are only logged from then
// on, since none can go out inside it.
func (t *tagger) endStdout() {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.open && t.typed:
		t.gone = true
		t.cond.Broadcast()
	case t.open:
		t.out.WriteFragment(false, []byte(jsonSuffix), true)
		t.open = false
		t.cond.Broadcast()
	}
}

// detach stops sending stderr lines: after it returns nothing more is
// written through t, so the caller may read out.err.
func (t *tagger) detach() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.gone = true
	t.cond.Broadcast()
	t.mu.Unlock()
}

// stderr sends one stderr line as a message of its own and flushes it.
func (t *tagger) stderr(line []byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for !t.gone && (t.out == nil || t.open) {
		t.cond.Wait()
	}
	if t.gone {
		return
	}
	prefix := stderrPrefix
	if t.typed {
		prefix = stderrTextPrefix
	}
	t.buf = appendJSONString(append(t.buf[:0], prefix...), line)
	t.buf = append(t.buf, jsonSuffix...)
	t.out.WriteFragment(false, t.buf, true)
	t.out.Flush()
}

// taggedStdout is the stdout codec's sink under --passstderr.
type taggedStdout tagger

func (s *taggedStdout) WriteFragment(binary bool, p []byte, fin bool) error {
	t := (*tagger)(s)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = t.buf[:0]
	if !t.open {
		t.bin = binary && t.typed
		switch {
		case !t.typed:
			t.buf = append(t.buf, stdoutPrefix...)
		case t.bin:
			t.buf = append(t.buf, stdoutBinaryPrefix...)
		default:
			t.buf = append(t.buf, stdoutTextPrefix...)
		}
	}
	if t.bin {
		t.buf = t.b64.append(t.buf, p, fin)
	} else {
		t.buf = appendJSONString(t.buf, p)
	}
	if fin {
		t.buf = append(t.buf, jsonSuffix...)
	}
	t.open = !fin
	if fin {
		t.cond.Broadcast()
	}
	return t.out.WriteFragment(false, t.buf, fin)
}

func (s *taggedStdout) Flush() error {
	t := (*tagger)(s)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.Flush()
}

// appendJSONString appends the contents of a JSON string holding p (RFC
// 8259 §7), without the quotes. Invalid UTF-8 becomes U+FFFD; U+2028 and
// U+2029 are escaped too, so that the text is also safe as JavaScript.
func appendJSONString(b, p []byte) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(p); {
		c := p[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, p[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, p[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, p[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, p[start:]...)
}

// base64Stream encodes a message's fragments as one base64 text (RFC 4648
// §4), holding the bytes of an incomplete group of 3 between them.
type base64Stream struct {
	b [3]byte
	n int
}

// append appends the base64 of p to dst; with fin, the message ends and
// its last group is padded.
func (e *base64Stream) append(dst, p []byte, fin bool) []byte {
	if e.n > 0 {
		k := copy(e.b[e.n:], p)
		e.n += k
		p = p[k:]
		if e.n == len(e.b) {
			dst = base64.StdEncoding.AppendEncode(dst, e.b[:])
			e.n = 0
		}
	}
	if len(p) > 0 {
		whole := len(p) / 3 * 3
		dst = base64.StdEncoding.AppendEncode(dst, p[:whole])
		e.n = copy(e.b[:], p[whole:])
	}
	if fin && e.n > 0 {
		dst = base64.StdEncoding.AppendEncode(dst, e.b[:e.n])
		e.n = 0
	}
	return dst
}

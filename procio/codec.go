package procio

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// DefaultBufferSize is the codecs' buffer size when none is given: the stdout
// read buffer, the longest line sent as a single frame, and the stdin write
// buffer. It matches a Linux pipe's default capacity. The buffers are pooled
// and held only while data moves, so their size costs an idle connection
// nothing.
const DefaultBufferSize = 64 << 10

// MinBufferSize is the smallest buffer a codec uses; smaller sizes are raised
// to it. It leaves room for a held-back incomplete rune and one byte more.
const MinBufferSize = 4

// MaxBufferSize is the largest buffer a codec uses; larger sizes, up to the
// largest int, are lowered to it. A bigger buffer would only hold memory: a
// read of the pipe brings at most what the pipe holds (bigPipeSize), and a
// longer line goes out in fragments whatever the size. It also keeps the
// sizes derived from it (one byte more for copyMessage, three times more
// for the U+FFFD replacement buffer) within an int, 32-bit ones included.
const MaxBufferSize = bigPipeSize

// maxStalls bounds how many empty reads in a row a codec accepts before it
// gives up with io.ErrNoProgress, as bufio does.
const maxStalls = 100

// Sink receives outgoing messages, possibly in fragments (the server adapts a
// WebSocket conn to it).
type Sink interface {
	// WriteFragment appends p to the current outgoing message; binary fixes
	// the message type at its first fragment; fin ends the message. p is only
	// valid during the call.
	WriteFragment(binary bool, p []byte, fin bool) error
	// Flush is called when the codec has handed over everything it has ready
	// and is about to read again.
	Flush() error
}

// ErrQuiet is returned by ReadMessages when the program's stdout has been
// quiet for Config.Quiet. The reader may then let its goroutine go and have
// Process.NotifyStdout start another when output comes.
var ErrQuiet = errors.New("procio: stdout quiet")

// Message is one incoming message as a codec reads it: its payload, its
// type and, when it is known before the payload is read, its length.
type Message struct {
	io.Reader
	// Binary is the message's type: binary, or text (valid UTF-8).
	Binary bool
	// Size is the payload's length in bytes if SizeKnown. A message that
	// arrives as one uncompressed frame has it in its frame header; one in
	// fragments, or compressed, shows it only at its end.
	Size      int64
	SizeKnown bool
}

// FramingError is what ReadMessages returns when the program's output
// breaks the codec's framing (json, length): invalid JSON, a bad header,
// invalid UTF-8 in a text message, a message over the limit, output that
// ends inside a message. Nothing of the message it was found in has been
// passed off as whole: its fragments went out without the last one.
type FramingError struct {
	Offset int64  // bytes of stdout before the one where the fault was found
	Reason string // what is wrong, e.g. "invalid base64 in data"
}

func (e *FramingError) Error() string {
	return fmt.Sprintf("bad output at byte %d of stdout: %s", e.Offset, e.Reason)
}

// Codec moves data between WebSocket messages and a program's pipes. A Codec
// value serves one connection; its two methods run on two different
// goroutines at once (each keeps its own buffer).
type Codec interface {
	// WriteMessage copies one incoming message from msg to stdin, framed
	// as the codec frames it (line codec: followed by '\n'). An error
	// after part of it went out leaves stdin inside that message: a
	// framing that can tell (json, length) lets the program see it was
	// cut, at EOF.
	WriteMessage(stdin io.Writer, msg Message) error
	// ReadMessages reads stdout until EOF, handing messages to out; it
	// returns nil at EOF (after the final line). Errors from out are
	// returned as they are; output that breaks the framing is a
	// *FramingError. It returns ErrQuiet when stdout (a Process's,
	// with Config.Quiet set) has been quiet that long with nothing held and
	// no message unfinished; a later call carries on where it stopped.
	ReadMessages(stdout Output, out Sink) error
}

// bufferSize is the buffer size a codec uses when asked for n bytes.
func bufferSize(n int) int {
	switch {
	case n <= 0:
		return DefaultBufferSize
	case n < MinBufferSize:
		return MinBufferSize
	case n > MaxBufferSize:
		return MaxBufferSize
	}
	return n
}

// copyMessage copies msg to w through b after the pre bytes b[:pre] already
// there (a header), writing only when b is full or the message ends, so
// that a message of up to len(b)-pre-1 bytes takes one write with them. With
// newline set, a '\n' follows the message, in its last write. The last byte
// of b is kept for that '\n', or for a byte read ahead when the data fills
// the rest: only that read tells whether the message ends there. It returns
// the payload bytes copied.
func copyMessage(w io.Writer, msg io.Reader, b []byte, pre int, newline bool) (int64, error) {
	room := len(b) - 1
	n := pre
	var total int64
	for stalls := 0; ; {
		limit := room
		if n == room {
			limit++ // read ahead
		}
		m, err := msg.Read(b[n:limit])
		n += m
		total += int64(m)
		if n > room { // the message goes on past a full buffer
			if _, err := w.Write(b[:room]); err != nil {
				return total, fmt.Errorf("write stdin: %w", err)
			}
			b[0] = b[room]
			n = 1
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, fmt.Errorf("read message: %w", err)
		}
		if m > 0 {
			stalls = 0
		} else if stalls++; stalls == maxStalls {
			return total, fmt.Errorf("read message: %w", io.ErrNoProgress)
		}
	}
	if newline {
		b[n] = '\n'
		n++
	}
	if n == 0 {
		return total, nil
	}
	if _, err := w.Write(b[:n]); err != nil {
		return total, fmt.Errorf("write stdin: %w", err)
	}
	return total, nil
}

// readUntilFull reads msg into p until p is full or msg ends. It returns
// io.EOF, with what it read, only if msg ended.
func readUntilFull(msg io.Reader, p []byte) (int, error) {
	n := 0
	for stalls := 0; n < len(p); {
		m, err := msg.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			stalls = 0
		} else if stalls++; stalls == maxStalls {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// noLimit turns a message size limit of 0 or less into none.
func noLimit(max int64) int64 {
	if max <= 0 {
		return math.MaxInt64
	}
	return max
}

// afterTake is the exact codecs' step after a read of stdout was taken
// apart into messages: on a framing fault (ferr) or a read error, what
// went out whole before it is flushed, so it still reaches the client, and
// the error is returned (done); otherwise reads that bring nothing are
// counted, up to maxStalls.
func afterTake(out Sink, pending bool, n int, ferr, err error, stalls *int) (done bool, _ error) {
	if ferr != nil || err != nil {
		if pending {
			if err := out.Flush(); err != nil {
				return true, err
			}
		}
		if ferr != nil {
			return true, ferr
		}
		return true, fmt.Errorf("read stdout: %w", err)
	}
	if n > 0 {
		*stalls = 0
	} else if *stalls++; *stalls == maxStalls {
		return true, fmt.Errorf("read stdout: %w", io.ErrNoProgress)
	}
	return false, nil
}

// Command lengthinspect is an endpoint for --framing=length: each message
// the client sends is answered with a text message saying its type and
// size, then sent back exactly as it came. It exits when the client
// disconnects (stdin closes).
//
// Run:
//
//	go build -o lengthinspect ./examples/go/lengthinspect
//	wsexec --port=8080 --devconsole --framing=length ./lengthinspect
//
// In --framing=length each message, both ways, is a 9-byte header then its
// payload: one byte of type (1 text, 2 binary), then the payload's length
// as an unsigned 64-bit big-endian integer.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// The header's type byte.
const (
	typeText   = 1
	typeBinary = 2
)

// maxSize bounds what this program accepts; wsexec's own limit is
// --maxframesize.
const maxSize = 64 << 20

// readMessage reads one message; io.EOF means stdin ended between two.
func readMessage(r io.Reader) (byte, []byte, error) {
	var h [9]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err // io.EOF, or io.ErrUnexpectedEOF inside a header
	}
	n := binary.BigEndian.Uint64(h[1:])
	if n > maxSize {
		return 0, nil, fmt.Errorf("message of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("stdin ended inside a message: %w", err)
	}
	return h[0], p, nil
}

// writeMessage writes one message and flushes it.
func writeMessage(w *bufio.Writer, typ byte, p []byte) error {
	var h [9]byte
	h[0] = typ
	binary.BigEndian.PutUint64(h[1:], uint64(len(p)))
	w.Write(h[:])
	w.Write(p)
	return w.Flush()
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	for {
		typ, p, err := readMessage(in)
		if err == io.EOF { // between two messages: the client has gone
			return
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "lengthinspect:", err)
			os.Exit(1)
		}
		name := "text"
		if typ == typeBinary {
			name = "binary"
		}
		if writeMessage(out, typeText, fmt.Appendf(nil, "got %s, %d bytes", name, len(p))) != nil ||
			writeMessage(out, typ, p) != nil {
			os.Exit(1) // the client has gone
		}
	}
}

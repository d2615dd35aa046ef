package procio

import (
	"fmt"
	"io"
)

// binaryCodec passes bytes through unchanged: message payloads to stdin, and
// each stdout read out as one binary message.
type binaryCodec struct {
	size int
	in   []byte // WriteMessage's buffer, made on first use
	out  []byte // ReadMessages's buffer, made on first use
}

// NewBinaryCodec returns a codec that writes payloads raw to stdin (in one
// write when a payload is at most bufSize bytes) and sends each stdout read
// (of at most bufSize bytes) as one binary message followed by a Flush.
// bufSize 0 means DefaultBufferSize.
func NewBinaryCodec(bufSize int) Codec {
	return &binaryCodec{size: bufferSize(bufSize)}
}

func (c *binaryCodec) WriteMessage(stdin io.Writer, msg io.Reader) error {
	if c.in == nil {
		c.in = make([]byte, c.size+1) // see copyMessage
	}
	return copyMessage(stdin, msg, c.in, false)
}

func (c *binaryCodec) ReadMessages(stdout io.Reader, out Sink) error {
	if c.out == nil {
		c.out = make([]byte, c.size)
	}
	for stalls := 0; ; {
		n, err := stdout.Read(c.out)
		if n > 0 {
			stalls = 0
			if err := out.WriteFragment(true, c.out[:n], true); err != nil {
				return err
			}
			if err := out.Flush(); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read stdout: %w", err)
		}
		if n == 0 {
			if stalls++; stalls == maxStalls {
				return fmt.Errorf("read stdout: %w", io.ErrNoProgress)
			}
		}
	}
}

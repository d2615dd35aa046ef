package procio

import (
	"fmt"
	"github.com/wsexec/wsexec/internal/bufpool"
	"io"
)

// binaryCodec passes bytes through unchanged: message payloads to stdin, and
// each stdout read out as one binary message.
type binaryCodec struct {
	in  *bufpool.Pool // WriteMessage's buffers, size+1 bytes, held for one message
	out idleBuf       // ReadMessages's buffer, held while output is flowing (a field: readIdle's argument would escape)
}

// NewBinaryCodec returns a codec that writes payloads raw to stdin (in one
// write when a payload is at most bufSize bytes) and sends each stdout read
// (of at most bufSize bytes) as one binary message, with a Flush once no
// more output is waiting.
// bufSize 0 means DefaultBufferSize; it is kept within MinBufferSize and
// MaxBufferSize. Like the line codec, it takes pooled
// buffers and holds none while stdout is quiet.
func NewBinaryCodec(bufSize int) Codec {
	size := bufferSize(bufSize)
	return &binaryCodec{in: bufpool.For(size + 1), out: idleBuf{pool: bufpool.For(size)}} // +1: see copyMessage
}

func (c *binaryCodec) WriteMessage(stdin io.Writer, msg Message) error {
	bp := c.in.Get()
	defer c.in.Put(bp)
	_, err := copyMessage(stdin, msg.Reader, *bp, 0, false)
	return err
}

func (c *binaryCodec) ReadMessages(stdout Output, out Sink) error {
	buf := &c.out
	defer buf.release()
	ahead := false // n and err are a read already made by readAhead
	var (
		b   []byte
		n   int
		err error
	)
	for stalls := 0; ; {
		if ahead {
			ahead = false
		} else if b, n, err = buf.read(stdout, 0, true); err == ErrQuiet {
			return err
		}
		if n > 0 {
			stalls = 0
			if err := out.WriteFragment(true, b[:n], true); err != nil {
				return err
			}
			if err == nil {
				// More output already waiting joins this flush; EOF or an
				// error found by looking is for after it.
				var read bool
				n, read, err = stdout.readAhead(b)
				if read && err == nil {
					ahead = true
					continue
				}
			}
			if err := out.Flush(); err != nil {
				return err
			}
		} else if err == nil {
			if stalls++; stalls == maxStalls {
				return fmt.Errorf("read stdout: %w", io.ErrNoProgress)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read stdout: %w", err)
		}
	}
}

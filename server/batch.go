package server

import (
	"bufio"
	"io"
	"net"
	"sync"
)

// Incoming messages ready together reach the program's stdin in one write:
// readPump writes each message into a stdinBatch, and the batch is written
// out just before the socket is read again (batchReader), which is exactly
// when no further complete message is at hand. A lone message therefore goes
// out at once, and a client's burst of small messages costs one pipe write
// per socket read instead of one per message.

// The socket's buffers: the read buffer stays with the connection (a read
// waits in it); the write buffer is pooled by wsproto and held only while
// frames wait to go out, so it can be large enough for a whole stdout read
// of short lines to leave in one write.
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 32 << 10
)

// stdinBatchSize is the most a batch holds before it is written out.
const stdinBatchSize = 16 << 10

var stdinBatchPool = sync.Pool{New: func() any {
	b := make([]byte, 0, stdinBatchSize)
	return &b
}}

// stdinBatch buffers writes to the program's stdin. Its buffer comes from a
// pool while it holds data and goes back at each flush, so an idle
// connection holds none. It is used by readPump's goroutine only. The first
// write error sticks and is returned by every later Write.
type stdinBatch struct {
	w   io.Writer
	bp  *[]byte
	err error
}

func (b *stdinBatch) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.bp != nil && len(*b.bp)+len(p) > stdinBatchSize {
		if err := b.flush(); err != nil {
			return 0, err
		}
	}
	if len(p) >= stdinBatchSize {
		// Too big to be worth a copy.
		n, err := b.w.Write(p)
		b.err = err
		return n, err
	}
	if b.bp == nil {
		b.bp = stdinBatchPool.Get().(*[]byte)
	}
	*b.bp = append(*b.bp, p...)
	return len(p), nil
}

// flush writes out what the batch holds and gives its buffer back.
func (b *stdinBatch) flush() error {
	if b.bp == nil {
		return b.err
	}
	if b.err == nil {
		_, b.err = b.w.Write(*b.bp)
	}
	*b.bp = (*b.bp)[:0]
	stdinBatchPool.Put(b.bp)
	b.bp = nil
	return b.err
}

// batchReader is what the WebSocket reads from: the bytes net/http had
// already read past the request, then the socket, flushing the stdin batch
// before each socket read. Write errors are the batch's to report.
type batchReader struct {
	pre   *bufio.Reader // net/http's reader while it holds bytes, then nil
	nc    net.Conn
	batch *stdinBatch
}

func (r *batchReader) Read(p []byte) (int, error) {
	if r.pre != nil {
		n, err := r.pre.Read(p)
		if r.pre.Buffered() == 0 {
			r.pre = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	_ = r.batch.flush()
	return r.nc.Read(p)
}

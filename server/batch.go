package server

import (
	"bufio"
	"io"
	"net"
	"syscall"

	"github.com/wsexec/wsexec/internal/bufpool"
	"github.com/wsexec/wsexec/internal/rawread"
)

// Incoming messages ready together reach the program's stdin in one write:
// readPump writes each message into a stdinBatch, and the batch is written
// out just before the socket is read again (batchReader), which is exactly
// when no further complete message is at hand. A lone message therefore goes
// out at once, and a client's burst of small messages costs one pipe write
// per socket read instead of one per message.

// The socket's buffers. Reads from a TCP socket go through a pooled buffer
// of sockReadSize that is held only while it holds unread bytes: a read
// waits for the socket without one (batchReader), so an idle connection
// keeps just the WebSocket's small read buffer, readBufferSize. The write
// buffer is pooled by wsproto and held only while frames wait to go out, so
// it can be large enough for a whole stdout read of short lines to leave in
// one write.
const (
	readBufferSize  = 512
	sockReadSize    = 4 << 10
	writeBufferSize = 32 << 10
)

var sockReadPool = bufpool.For(sockReadSize)

// stdinBatchSize is the most a batch holds before it is written out.
const stdinBatchSize = 16 << 10

var stdinBatchPool = bufpool.For(stdinBatchSize)

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
		b.bp = stdinBatchPool.Get()
		*b.bp = (*b.bp)[:0]
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
	stdinBatchPool.Put(b.bp)
	b.bp = nil
	return b.err
}

// batchReader is what the WebSocket reads from: the bytes net/http had
// already read past the request, then the socket, flushing the stdin batch
// before each socket read. Write errors are the batch's to report.
//
// A TCP socket is read sockReadSize at a time into a pooled buffer, so that
// a burst of small frames costs one read (and one stdin write); the buffer
// is taken when the socket has something to read and given back once it is
// drained, and a read that would block waits without it. Other connections
// (TLS) are read directly.
type batchReader struct {
	pre  *bufio.Reader // net/http's reader while it holds bytes, then nil
	nc   net.Conn
	prog interface{ flush() } // told before each socket read

	rc     syscall.RawConn // nc's, or nil when nc is not a socket
	readFn func(fd uintptr) bool
	buf    *[]byte // from sockReadPool while (*buf)[r:w] is unread
	r, w   int
	err    error // readFn's read error
}

// newBatchReader returns the reader of nc, starting with what pre holds.
func newBatchReader(pre *bufio.Reader, nc net.Conn, prog interface{ flush() }) *batchReader {
	r := &batchReader{nc: nc, prog: prog}
	if pre.Buffered() > 0 {
		r.pre = pre // otherwise net/http's reader and its buffer can go
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			r.rc = rc
			r.readFn = r.readSocket
		}
	}
	return r
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
	if r.r < r.w {
		return r.copyOut(p), nil
	}
	r.prog.flush()
	if r.rc == nil || len(p) >= sockReadSize {
		return r.nc.Read(p)
	}
	if err := r.rc.Read(r.readFn); err != nil {
		return 0, err // readFn holds no buffer when it waits
	}
	if r.err != nil {
		err := r.err
		r.err = nil
		return 0, err
	}
	return r.copyOut(p), nil
}

// readSocket is the func given to rc.Read: one read into the pooled
// buffer, which it takes for the read and gives back if there is nothing.
func (r *batchReader) readSocket(fd uintptr) bool {
	if r.buf == nil {
		r.buf = sockReadPool.Get()
	}
	n, err := rawread.Read(fd, *r.buf)
	switch {
	case err == rawread.ErrWouldBlock:
		r.release()
		return false // wait for the socket, holding nothing
	case err != nil:
		r.release()
		r.err = err
	default:
		r.r, r.w = 0, n
	}
	return true
}

// copyOut copies unread bytes of the buffer to p, giving the buffer back
// once it is drained.
func (r *batchReader) copyOut(p []byte) int {
	n := copy(p, (*r.buf)[r.r:r.w])
	r.r += n
	if r.r == r.w {
		r.release()
	}
	return n
}

func (r *batchReader) release() {
	if r.buf != nil {
		sockReadPool.Put(r.buf)
		r.buf = nil
		r.r, r.w = 0, 0
	}
}

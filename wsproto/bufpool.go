package wsproto

import (
	"net"

	"github.com/wsexec/wsexec/internal/bufpool"
)

// writeBuf is a Conn's write buffer: frames gather in it until a flush, a
// control frame or a full buffer sends them. The buffer comes from the
// shared pool (internal/bufpool) while it holds bytes and goes back as soon
// as a flush leaves it empty, so that an idle Conn holds none. The Conn's
// wmu guards it.
type writeBuf struct {
	pool *bufpool.Pool
	bp   *[]byte // from pool while it holds bytes; nil when empty
	n    int     // bytes buffered in *bp
	err  error   // the first write error: every later write and flush returns it
}

// write buffers p. What is buffered is sent first when p does not fit, and
// a p at least as large as the buffer then goes straight to nc.
func (w *writeBuf) write(nc net.Conn, p []byte) error {
	if w.err != nil {
		return w.err
	}
	size := w.pool.Size()
	if w.n+len(p) > size {
		if err := w.flush(nc); err != nil {
			return err
		}
		if len(p) >= size {
			_, w.err = nc.Write(p)
			return w.err
		}
	}
	if w.bp == nil {
		w.bp = w.pool.Get()
	}
	w.n += copy((*w.bp)[w.n:], p)
	return nil
}

// space returns the free part of the buffer, sending what is buffered
// first if none is free, for a caller that fills it in place and then
// commits what it wrote.
func (w *writeBuf) space(nc net.Conn) ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	if w.n == w.pool.Size() {
		if err := w.flush(nc); err != nil {
			return nil, err
		}
	}
	if w.bp == nil {
		w.bp = w.pool.Get()
	}
	return (*w.bp)[w.n:], nil
}

// commit adds k bytes written into space to what is buffered.
func (w *writeBuf) commit(k int) { w.n += k }

// flush sends what is buffered and gives the buffer back.
func (w *writeBuf) flush(nc net.Conn) error {
	if w.err != nil {
		return w.err
	}
	if w.n > 0 {
		_, w.err = nc.Write((*w.bp)[:w.n])
		w.n = 0
	}
	if w.bp != nil {
		w.pool.Put(w.bp)
		w.bp = nil
	}
	return w.err
}

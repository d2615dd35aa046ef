package procio

import (
	"io"
	"sync"
)

// Buffers for idle connections: a program that is running but quiet should
// cost its connection as little as possible, so the codecs and the stderr
// reader do not keep a buffer while they wait. The codecs wait for stdout
// to become readable without one (readWaiter, which only the stdout pipe
// implements); the stderr reader is not running while stderr is quiet (the
// watcher starts it), or waits in waitReadable without the watcher. Each
// takes a buffer from a pool to read and gives it back once it holds
// nothing it still needs. A busy connection keeps its buffers; pools are
// per size and shared by every connection.

// readWaiter is implemented by the stdout pipe Start returns: wait blocks
// until a Read would not block (data, EOF or an error), with no buffer. If
// quietOK, it gives up with ErrQuiet once the pipe has been quiet for the
// Process's Config.Quiet (when that is set). Another error means it cannot
// tell; the caller then simply reads. readyNow tells without waiting.
// (wait always asks the pipe first, even right after readyNow said no: the
// poller forgets readiness it recorded before a wait begins, so skipping
// that check could miss output that came in between.)
type readWaiter interface {
	wait(quietOK bool) error
	readyNow() bool
}

// waitIdle waits for r to have something to read, if r can say so. If
// quietOK, it returns ErrQuiet when r has been quiet for its quiet period;
// any other error is left for the Read to report.
func waitIdle(r io.Reader, quietOK bool) error {
	if w, ok := r.(readWaiter); ok {
		if err := w.wait(quietOK); err == ErrQuiet {
			return err
		}
	}
	return nil
}

// quiet reports whether r says it has nothing to read right now; false
// when r cannot say (then a reader that filled its buffer reads on).
func quiet(r io.Reader) bool {
	w, ok := r.(readWaiter)
	return ok && !w.readyNow()
}

// readyNow reports whether r has something to read at once; false when r
// cannot say.
func readyNow(r io.Reader) bool {
	w, ok := r.(readWaiter)
	return ok && w.readyNow()
}

// bufPool hands out buffers of one size. It stores *[]byte so that Put does
// not allocate.
type bufPool struct {
	p sync.Pool
}

var (
	poolsMu sync.Mutex
	pools   = map[int]*bufPool{}
)

// poolFor returns the pool of buffers of size bytes.
func poolFor(size int) *bufPool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	bp := pools[size]
	if bp == nil {
		bp = &bufPool{}
		bp.p.New = func() any {
			b := make([]byte, size)
			return &b
		}
		pools[size] = bp
	}
	return bp
}

func (bp *bufPool) get() *[]byte  { return bp.p.Get().(*[]byte) }
func (bp *bufPool) put(b *[]byte) { bp.p.Put(b) }

// idleBuf is a reader's buffer that is held only while it is needed: next
// waits for the reader to be readable without one when the reader is idle
// (nothing held from earlier reads, nothing known to be waiting).
type idleBuf struct {
	pool *bufPool
	bp   *[]byte
}

// next returns the buffer to read into; when busy is false it first gives
// the buffer back and waits for r to have something to read, which returns
// ErrQuiet if quietOK and r has been quiet for its quiet period.
func (ib *idleBuf) next(r io.Reader, busy, quietOK bool) ([]byte, error) {
	if !busy {
		ib.release()
		if err := waitIdle(r, quietOK); err != nil {
			return nil, err
		}
	}
	return ib.get(), nil
}

// get returns the buffer, taking one from the pool if none is held.
func (ib *idleBuf) get() []byte {
	if ib.bp == nil {
		ib.bp = ib.pool.get()
	}
	return *ib.bp
}

// release gives the buffer back to its pool, if one is held.
func (ib *idleBuf) release() {
	if ib.bp != nil {
		ib.pool.put(ib.bp)
		ib.bp = nil
	}
}

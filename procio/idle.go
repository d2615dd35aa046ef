package procio

import (
	"io"
	"sync"
)

// Buffers for idle connections: a program that is running but quiet should
// cost its connection as little as possible, so the codecs and the stderr
// reader do not keep a buffer while they wait. The codecs take one from
// the pool for each read(2) of an empty stdout and give it back when the
// read finds nothing (Output.readIdle);
// the stderr reader is not running while stderr is quiet (the watcher
// starts it), or, without the watcher, reads as the codecs do, holding no
// buffer while stderr is empty. Each takes a buffer from a pool to read
// and gives it back once it holds nothing it still needs. A busy
// connection keeps its buffers; pools are per size and shared by every
// connection.

// Output is a program's output as a codec reads it (Codec.ReadMessages):
// a reader that can also wait for data without holding a buffer, give up
// once it has been quiet, and tell without waiting whether more is there.
// Process.Stdout returns one; ReaderOutput makes one of any io.Reader.
//
// readIdle reads into ib's buffer from its start, taking the buffer only
// for the read(2) itself: while the pipe is empty it waits holding none. If
// quietOK, it gives up with ErrQuiet once the pipe has been quiet for the
// Process's Config.Quiet (when that is set). readAhead reads into p what
// is there without waiting; ok is false when nothing was. It is how a codec
// learns whether more output is waiting to join the current flush: a read
// that finds nothing costs what asking would, and one that finds something
// is the next read.
type Output interface {
	io.Reader
	readIdle(ib *idleBuf, quietOK bool) (int, error)
	readAhead(p []byte) (n int, ok bool, err error)
}

// ReaderOutput returns r as an Output that holds its buffer while it
// waits, is never quiet and never reads ahead (a codec then flushes after
// each read): for output that is not a Process's stdout.
func ReaderOutput(r io.Reader) Output { return readerOutput{r} }

type readerOutput struct{ io.Reader }

func (r readerOutput) readIdle(ib *idleBuf, _ bool) (int, error) { return r.Read(ib.get()) }

func (readerOutput) readAhead([]byte) (int, bool, error) { return 0, false, nil }

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

// idleBuf is a reader's buffer that is held only while it is needed: read
// waits for an idle reader (nothing held from earlier reads) without one.
type idleBuf struct {
	pool *bufPool
	bp   *[]byte
	// with, if set, is released along with this one: a buffer of the same
	// reader that holds nothing between reads (the json codec's decoded
	// payload), so that it too is held only while output flows.
	with *idleBuf
}

// read reads r into the buffer, after its first held bytes. With nothing
// held, the buffer is taken only for the read(2), and given back while r
// is empty (readIdle); ErrQuiet may come back if quietOK, and the buffer
// returned is then nil.
func (ib *idleBuf) read(r Output, held int, quietOK bool) ([]byte, int, error) {
	if held == 0 {
		n, err := r.readIdle(ib, quietOK)
		if err == ErrQuiet {
			return nil, 0, err
		}
		return ib.get(), n, err
	}
	b := ib.get()
	n, err := r.Read(b[held:])
	return b, n, err
}

// get returns the buffer, taking one from the pool if none is held.
func (ib *idleBuf) get() []byte {
	if ib.bp == nil {
		ib.bp = ib.pool.get()
	}
	return *ib.bp
}

// release gives the buffer back to its pool, if one is held, and the one
// it goes with.
func (ib *idleBuf) release() {
	if ib.bp != nil {
		ib.pool.put(ib.bp)
		ib.bp = nil
	}
	if ib.with != nil {
		ib.with.release()
	}
}

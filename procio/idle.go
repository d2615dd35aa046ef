package procio

import (
	"io"
	"os"
	"syscall"

	"github.com/wsexec/wsexec/internal/bufpool"
	"github.com/wsexec/wsexec/internal/rawread"
)

// Reading without holding a buffer. A program that is running but quiet
// should cost its connection as little as possible, so the codecs and the
// stderr reader keep no buffer while they wait: a wait happens in the
// runtime's poller, and the buffer (from the shared pool, internal/bufpool)
// is taken for the read(2) only and given back when it finds nothing. The
// pieces are here: Output (what a codec reads), idleBuf (a buffer held only
// while needed) and rawReader (the read(2) through the pipe's RawConn). The
// other idle-memory pieces, and what each saves, are listed together in
// docs/design.md, "Idle connections".

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

// idleBuf is a reader's buffer that is held only while it is needed: read
// waits for an idle reader (nothing held from earlier reads) without one.
type idleBuf struct {
	pool *bufpool.Pool
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
		ib.bp = ib.pool.Get()
	}
	return *ib.bp
}

// release gives the buffer back to its pool, if one is held, and the one
// it goes with.
func (ib *idleBuf) release() {
	if ib.bp != nil {
		ib.pool.Put(ib.bp)
		ib.bp = nil
	}
	if ib.with != nil {
		ib.with.release()
	}
}

// rawReader reads a pipe one read(2) at a time through its RawConn, for
// one goroutine at a time: a read may wait for data in the runtime's
// poller holding no buffer (into an idleBuf, taken for the read(2) only
// and given back when the pipe is empty), wait into a slice, or not wait.
// Its fields are what readFd works on: readFd is passed to rc.Read, and a
// closure made per read would allocate.
type rawReader struct {
	rc     syscall.RawConn       // the pipe's, made once: SyscallConn allocates
	readFn func(fd uintptr) bool // readFd, made once
	ib     *idleBuf              // when set, read into its buffer
	p      []byte                // otherwise, read into p
	block  bool                  // wait for data; otherwise report rawread.ErrWouldBlock
	n      int
	err    error
}

func (r *rawReader) init(f *os.File) {
	r.rc, _ = f.SyscallConn() // never fails for an *os.File
	r.readFn = r.readFd
}

// read makes one read(2) into ib's buffer from its start, or into p when
// ib is nil. If block, it waits for data (in the poller: no thread is
// held, and neither is ib's buffer); otherwise it returns rawread.ErrWouldBlock when
// the pipe is empty. EOF is io.EOF; an error from rc (the pipe closed, a
// read deadline) is returned as it is.
func (r *rawReader) read(ib *idleBuf, p []byte, block bool) (int, error) {
	r.ib, r.p, r.block = ib, p, block
	err := r.rc.Read(r.readFn)
	r.ib, r.p = nil, nil // hold on to neither between reads
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}

// readFd makes read's read(2) of fd.
func (r *rawReader) readFd(fd uintptr) bool {
	p := r.p
	if r.ib != nil {
		p = r.ib.get()
	}
	r.n, r.err = rawread.Read(fd, p)
	if r.err == rawread.ErrWouldBlock {
		if r.ib != nil {
			r.ib.release() // wait holding nothing
		}
		if r.block {
			return false
		}
	}
	return true
}

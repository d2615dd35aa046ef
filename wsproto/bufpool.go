package wsproto

import (
	"bufio"
	"sync"
)

// The write buffer is taken from a pool when a frame is written and given
// back as soon as a flush leaves it empty, so that an idle connection holds
// none: with a process per connection, idle connections are the common case
// and their memory is what limits how many a small machine serves.

var (
	writerPoolsMu sync.Mutex
	writerPools   = map[int]*sync.Pool{}
)

// writerPool returns the pool of *bufio.Writer of size bytes.
func writerPool(size int) *sync.Pool {
	writerPoolsMu.Lock()
	defer writerPoolsMu.Unlock()
	p := writerPools[size]
	if p == nil {
		p = &sync.Pool{New: func() any { return bufio.NewWriterSize(nil, size) }}
		writerPools[size] = p
	}
	return p
}

// takeWriter makes sure c.bw is there. c.wmu must be held.
func (c *Conn) takeWriter() {
	if c.bw == nil {
		c.bw = c.wpool.Get().(*bufio.Writer)
		c.bw.Reset(c.nc)
	}
}

// releaseWriter gives c.bw back to the pool if it holds nothing. c.wmu must
// be held.
func (c *Conn) releaseWriter() {
	if c.bw != nil && c.bw.Buffered() == 0 {
		c.bw.Reset(nil)
		c.wpool.Put(c.bw)
		c.bw = nil
	}
}

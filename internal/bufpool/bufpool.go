// Package bufpool is the one pool of byte buffers that wsexec's packages
// share. A buffer is taken when data moves and given back as soon as it
// holds nothing still needed, so that an idle connection holds none: with a
// process per connection, idle connections are the common case and their
// memory is what limits how many a small machine serves
// (docs/benchmarks.md, "memory").
//
// Buffers come in fixed sizes, one sync.Pool per size, shared by every
// caller that asks for that size. A caller looks its pool up once (For)
// and keeps it: Get and Put then take no lock and, in steady state,
// allocate nothing.
package bufpool

import "sync"

// Pool hands out buffers of one size. It stores *[]byte so that Put does
// not allocate.
type Pool struct {
	size int
	p    sync.Pool
}

var (
	mu    sync.Mutex
	pools = map[int]*Pool{}
)

// For returns the pool of buffers of size bytes.
func For(size int) *Pool {
	mu.Lock()
	defer mu.Unlock()
	bp := pools[size]
	if bp == nil {
		bp = &Pool{size: size}
		bp.p.New = func() any {
			b := make([]byte, size)
			return &b
		}
		pools[size] = bp
	}
	return bp
}

// Size is the length of the pool's buffers.
func (bp *Pool) Size() int { return bp.size }

// Get returns a buffer of Size bytes (its contents are whatever the last
// user left).
func (bp *Pool) Get() *[]byte { return bp.p.Get().(*[]byte) }

// Put gives b back. b must have come from this pool's Get, at full length
// or resliced: it goes back at its full capacity.
func (bp *Pool) Put(b *[]byte) {
	*b = (*b)[:bp.size]
	bp.p.Put(b)
}

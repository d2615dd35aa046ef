package bufpool

import "testing"

func TestPoolSizes(t *testing.T) {
	a, b := For(100), For(200)
	if For(100) != a {
		t.Fatal("two pools for one size")
	}
	for _, tc := range []struct {
		p    *Pool
		size int
	}{{a, 100}, {b, 200}} {
		buf := tc.p.Get()
		if len(*buf) != tc.size || tc.p.Size() != tc.size {
			t.Fatalf("buffer of %d bytes from the pool of %d", len(*buf), tc.size)
		}
		*buf = (*buf)[:3] // a user reslices; Put restores the length
		tc.p.Put(buf)
		if again := tc.p.Get(); len(*again) != tc.size {
			t.Fatalf("buffer of %d bytes after Put, want %d", len(*again), tc.size)
		}
	}
}

func TestGetPutAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	p := For(64)
	p.Put(p.Get())
	if n := testing.AllocsPerRun(100, func() { p.Put(p.Get()) }); n > 0 {
		t.Fatalf("%v allocations per Get and Put", n)
	}
}

package wsproto

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"testing"
)

// countConn is a discardConn that counts the bytes written.
type countConn struct {
	discardConn
	n *int64
}

func (c countConn) Write(p []byte) (int, error) { *c.n += int64(len(p)); return len(p), nil }

// benchModes are the compression settings compared by the benchmarks.
var benchModes = []struct {
	name string
	p    *DeflateParams
}{
	{"off", nil},
	{"takeover-level1", &DeflateParams{Level: 1}},
	{"takeover-level6", &DeflateParams{Level: 6}},
	{"history2k-level6", &DeflateParams{Level: 6, History: 2 << 10}},
	{"history8k-level6", &DeflateParams{Level: 6, History: 8 << 10}},
	{"history8k-level1", &DeflateParams{Level: 1, History: 8 << 10}},
	{"nocontext-level1", &DeflateParams{Level: 1, ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	{"nocontext-level6", &DeflateParams{Level: 6, ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	// A window under 15 bits either way: Huffman codes only, whatever the level.
	{"window9-huffman", &DeflateParams{ServerMaxWindowBits: 9, ClientMaxWindowBits: 9}},
}

// jsonLines are 1000 different lines of about 200 bytes, as a monitoring
// program prints them.
var jsonLines = func() [][]byte {
	lines := make([][]byte, 1000)
	for i := range lines {
		lines[i] = []byte(jsonLine(i))
	}
	return lines
}()

// BenchmarkDeflateWriteJSON: CPU per message and bytes on the wire per
// message (wire-B/msg) for a server sending ~200-byte JSON lines.
func BenchmarkDeflateWriteJSON(b *testing.B) {
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			var n int64
			c := NewConn(countConn{n: &n}, nil, Config{Deflate: m.p})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.WriteMessage(OpText, jsonLines[i%len(jsonLines)]); err != nil {
					b.Fatal(err)
				}
				if err := c.Flush(); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(n)/float64(i), "wire-B/msg")
			b.ReportMetric(float64(len(jsonLines[0])), "raw-B/msg")
		})
	}
}

// BenchmarkDeflateReadJSON: CPU per message for reading a compressed JSON
// line (the same line over and over, so the stream stays valid with
// context takeover too).
func BenchmarkDeflateReadJSON(b *testing.B) {
	line := jsonLines[0]
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			c := NewConn(discardConn{repeatedLine(b, line, m.p)}, nil, Config{Deflate: m.p})
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				_, p, err := c.ReadMessage(buf)
				if err != nil || !bytes.Equal(p, line) {
					b.Fatalf("read %q, %v", p, err)
				}
			}
		})
	}
}

// repeatedLine is what a client sends writing line over and over: its
// first message, then its second message repeated (with context takeover
// each refers to the one before, which is the same line).
func repeatedLine(t testing.TB, line []byte, p *DeflateParams) io.Reader {
	w, fc := newTestConn(Client, nil, Config{Deflate: p})
	w.WriteMessage(OpText, line)
	w.Flush()
	first, _ := fc.written()
	w.WriteMessage(OpText, line)
	w.Flush()
	both, _ := fc.written()
	return io.MultiReader(bytes.NewReader(first), &repeatReader{b: both[len(first):]})
}

// clientLine is one JSON line as a client sends it in mode p.
func clientLine(p *DeflateParams) []byte {
	w, fc := newTestConn(Client, nil, Config{Deflate: p})
	w.WriteMessage(OpText, jsonLines[0])
	w.Flush()
	in, _ := fc.written()
	return in
}

// idleMemory returns the heap held per Conn by n server Conns that each
// read in and wrote one JSON line.
func idleMemory(t testing.TB, n int, in []byte, p *DeflateParams) float64 {
	held := make([]*Conn, n)
	before := heapInUse()
	for i := range held {
		c := NewConn(discardConn{bytes.NewReader(in)}, nil, Config{Deflate: p})
		if _, _, err := c.ReadMessage(nil); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMessage(OpText, jsonLines[1]); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if c.wz != nil && c.wz.history > 0 {
			c.releaseCompressor() // what the idle timer does after deflateIdle
		}
		held[i] = c
	}
	after := heapInUse()
	runtime.KeepAlive(held)
	return float64(int64(after)-int64(before)) / float64(n) // signed: garbage of earlier tests may go meanwhile
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // the second empties the pools' victim caches
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDeflateIdleMemory measures the heap a server Conn holds once it has
// read and written one JSON line and gone idle, pools emptied by the GC,
// in each mode, and logs it (go test -v -run IdleMemory ./wsproto). It
// pins the point of the no-context mode: an idle Conn holds no compressor
// and no window, while context takeover keeps both.
func TestDeflateIdleMemory(t *testing.T) {
	got := map[string]float64{}
	for _, m := range benchModes {
		// The median of three: a timer of an earlier test (a compressor's
		// idle release) can free or pool memory during one measurement.
		var v [3]float64
		for i := range v {
			v[i] = idleMemory(t, 20, clientLine(m.p), m.p)
		}
		slices.Sort(v[:])
		got[m.name] = v[1]
		t.Logf("%-18s %8.0f bytes per idle connection", m.name, got[m.name])
	}
	if d := got["history8k-level6"] - got["off"]; d > 64<<10 {
		t.Errorf("context takeover with history holds %.0f bytes more per idle connection than no compression", d)
	}
	if d := got["nocontext-level6"] - got["off"]; d > 4096 {
		t.Errorf("no context takeover holds %.0f bytes more per idle connection than no compression", d)
	}
	if d := got["takeover-level6"] - got["off"]; d < 256<<10 {
		t.Errorf("context takeover holds only %.0f bytes more: the compressor should be kept", d)
	}
}

// TestDeflateAllocs: in every compression mode a message read and written
// allocates nothing in steady state: compressors and decompressors come
// from pools or are kept, and buffers are reused.
func TestDeflateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, m := range benchModes[1:] {
		t.Run(m.name, func(t *testing.T) {
			line := jsonLines[0]
			rc := NewConn(discardConn{repeatedLine(t, line, m.p)}, nil, Config{Deflate: m.p})
			wc := NewConn(discardConn{}, nil, Config{Deflate: m.p})
			buf := make([]byte, 0, 4096)
			allocs := testing.AllocsPerRun(200, func() {
				if _, _, err := rc.ReadMessage(buf); err != nil {
					t.Fatal(err)
				}
				if err := wc.WriteMessage(OpText, line); err != nil {
					t.Fatal(err)
				}
				if err := wc.Flush(); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%v allocations per message read and written", allocs)
			if allocs > 0 {
				t.Fatalf("%v allocations per message, want 0", allocs)
			}
		})
	}
}

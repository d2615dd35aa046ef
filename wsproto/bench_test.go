package wsproto

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

var benchSizes = []int{16, 125, 4096, 1 << 16}

// discardConn is a net.Conn that reads r and discards writes.
type discardConn struct{ r io.Reader }

func (d discardConn) Read(p []byte) (int, error)     { return d.r.Read(p) }
func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// endlessConn returns a Conn of role reading the same frame forever.
func endlessConn(role Role, masked bool, op Opcode, p []byte) *Conn {
	return NewConn(discardConn{&repeatReader{b: frame(masked, true, op, p)}}, nil, Config{Role: role})
}

// roleFor returns the reading role for masked or unmasked input, and the
// writing role producing it.
func roleFor(masked bool) (reader, writer Role) {
	if masked {
		return Server, Client
	}
	return Client, Server
}

func BenchmarkReadMessage(b *testing.B) {
	for _, masked := range []bool{true, false} {
		name := map[bool]string{true: "masked", false: "unmasked"}[masked]
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				reader, _ := roleFor(masked)
				c := endlessConn(reader, masked, OpBinary, make([]byte, n))
				buf := make([]byte, 0, n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					_, p, err := c.ReadMessage(buf)
					if err != nil || len(p) != n {
						b.Fatalf("read %d bytes, %v", len(p), err)
					}
				}
			})
		}
	}
}

// BenchmarkReadText adds the UTF-8 check to reading.
func BenchmarkReadText(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p := make([]byte, n)
			for i := range p {
				p[i] = 'a' + byte(i%26)
			}
			c := endlessConn(Server, true, OpText, p)
			buf := make([]byte, 0, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.ReadMessage(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteMessage(b *testing.B) {
	for _, masked := range []bool{true, false} {
		name := map[bool]string{true: "masked", false: "unmasked"}[masked]
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				_, writer := roleFor(masked)
				c := NewConn(discardConn{}, nil, Config{Role: writer})
				p := make([]byte, n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.WriteMessage(OpBinary, p); err != nil {
						b.Fatal(err)
					}
					if err := c.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestZeroAllocs pins the steady-state claim: reading and writing a
// message, whole or streamed, masked or not, allocates nothing.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector (make test runs Allocs tests without it)")
	}
	for _, masked := range []bool{true, false} {
		for _, n := range []int{16, 4096, 70000} {
			t.Run(fmt.Sprint(masked, n), func(t *testing.T) {
				reader, writer := roleFor(masked)
				p := make([]byte, n)
				rc := endlessConn(reader, masked, OpText, p)
				wc := NewConn(discardConn{}, nil, Config{Role: writer})
				buf := make([]byte, 0, n)
				chunk := make([]byte, 512)
				allocs := testing.AllocsPerRun(100, func() {
					if _, _, err := rc.ReadMessage(buf); err != nil {
						t.Fatal(err)
					}
					_, r, err := rc.NextReader()
					if err != nil {
						t.Fatal(err)
					}
					if _, err := r.Read(chunk); err != nil {
						t.Fatal(err)
					}
					if err := wc.WriteMessage(OpText, p); err != nil {
						t.Fatal(err)
					}
					w := wc.NextWriter(OpBinary)
					if _, err := w.Write(p); err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if err := wc.Flush(); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Fatalf("%v allocations per message, want 0", allocs)
				}
			})
		}
	}
}

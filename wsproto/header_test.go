package wsproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    Header
		size int // encoded size
	}{
		{"empty", Header{Fin: true, Op: OpText}, 2},
		{"125", Header{Fin: true, Op: OpBinary, Length: 125}, 2},
		{"126", Header{Fin: true, Op: OpBinary, Length: 126}, 4},
		{"65535", Header{Op: OpText, Length: 65535}, 4},
		{"65536", Header{Op: OpContinuation, Length: 65536}, 10},
		{"4 GiB", Header{Fin: true, Op: OpBinary, Length: 1 << 32}, 10},
		{"largest", Header{Fin: true, Op: OpBinary, Length: 1<<63 - 1}, 10},
		{"top bit set", Header{Fin: true, Op: OpBinary, Length: -1 << 63}, 10},
		{"masked", Header{Fin: true, Op: OpClose, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 2}, 6},
		{"masked 64-bit", Header{Op: OpBinary, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: 70000}, 14},
		{"rsv1", Header{Fin: true, Rsv: 4, Op: OpText, Length: 3}, 2},
		{"all rsv", Header{Rsv: 7, Op: 0xF, Length: 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := AppendHeader([]byte("x"), tc.h)
			if got := len(b) - 1; got != tc.size {
				t.Fatalf("encoded %x: %d bytes, want %d", b[1:], got, tc.size)
			}
			h, err := ReadHeader(bufio.NewReader(bytes.NewReader(b[1:])))
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.h {
				t.Fatalf("decoded %+v, want %+v", h, tc.h)
			}
		})
	}
}

func TestReadHeaderShort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nothing", nil, io.EOF},
		{"one byte", unhex("81"), io.ErrUnexpectedEOF},
		{"16-bit length cut", unhex("82 7e 01"), io.ErrUnexpectedEOF},
		{"64-bit length cut", unhex("82 7f 00 00 00 00 00 01 00"), io.ErrUnexpectedEOF},
		{"mask cut", unhex("81 85 37 fa 21"), io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadHeader(bufio.NewReader(bytes.NewReader(tc.in)))
			if err != tc.want {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range []int{0, 1, 3, 7, 8, 9, 31, 32, 33, 100, 4099} {
		for pos := range 4 {
			t.Run(strconv.Itoa(n)+"/"+strconv.Itoa(pos), func(t *testing.T) {
				t.Parallel()
				p := seq(n)
				want := seq(n)
				for i := range want {
					want[i] ^= key[(pos+i)%4]
				}
				if next := Mask(p, key, pos); next != (pos+n)%4 {
					t.Fatalf("next position %d, want %d", next, (pos+n)%4)
				}
				if !bytes.Equal(p, want) {
					t.Fatalf("masked %x, want %x", p, want)
				}
				// In pieces of every size, carrying the position.
				for piece := 1; piece <= 9 && n > 0; piece++ {
					q := seq(n)
					at := pos
					for i := 0; i < n; i += piece {
						at = Mask(q[i:min(i+piece, n)], key, at)
					}
					if !bytes.Equal(q, want) {
						t.Fatalf("in pieces of %d: %x, want %x", piece, q, want)
					}
				}
			})
		}
	}
}

// FuzzReadHeader checks that whatever decodes re-encodes to the same
// header, and to the same bytes when the input used the shortest length
// form (the form RFC 6455 §5.2 requires of senders, and AppendHeader's);
// and that a server Conn with the given message limit (any int64: 0 or
// less for the default, math.MaxInt64 for none) judges a first data frame
// by its length alone: a length with the top bit set is a 1002, one over
// the limit a 1009, any other passes.
func FuzzReadHeader(f *testing.F) {
	for _, v := range goldenVectors {
		f.Add(v.wire[:min(len(v.wire), MaxHeaderSize)], int64(0))
	}
	f.Add(unhex("82 7e 00 05"), int64(0))                   // 16-bit form of a short length
	f.Add(unhex("82 ff 80 00 00 00 00 00 00 00"), int64(0)) // top bit set
	// The extreme 64-bit lengths, masked, under the extreme limits.
	for _, length := range []string{"7f ff ff ff ff ff ff ff", "80 00 00 00 00 00 00 00", "ff ff ff ff ff ff ff ff"} {
		for _, limit := range []int64{0, 1, math.MaxInt64 - 1, math.MaxInt64} {
			f.Add(unhex("82 ff "+length+" 37 fa 21 3d"), limit)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, limit int64) {
		h, err := ReadHeader(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			if len(b) >= 2 && len(b) >= headerSize(b[1]) {
				t.Fatalf("%x: %v", b, err)
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%x: %v", b, err)
			}
			return
		}
		n := headerSize(b[1])
		enc := AppendHeader(nil, h)
		back, err := ReadHeader(bufio.NewReader(bytes.NewReader(enc)))
		if err != nil || back != h {
			t.Fatalf("%x: re-encoded %x decodes to %+v, %v; want %+v", b, enc, back, err, h)
		}
		l7 := b[1] & lenBits
		shortest := l7 < len16 || l7 == len16 && h.Length >= len16 || l7 == len64 && uint64(h.Length) > 0xffff
		if shortest && !bytes.Equal(enc, b[:n]) {
			t.Fatalf("%x re-encoded as %x", b[:n], enc)
		}
		if !h.Masked || h.Rsv != 0 || (h.Op != OpText && h.Op != OpBinary) {
			return // other rules come first
		}
		c, _ := newTestConn(Server, nil, Config{MaxMessageSize: limit})
		var want uint16
		switch {
		case h.Length < 0:
			want = CloseProtocolError
		case h.Length > effectiveLimit(limit):
			want = CloseMessageTooBig
		}
		if code, reason := c.check(h); code != want {
			t.Fatalf("%x under limit %d: close %d %q, want %d", b[:n], limit, code, reason, want)
		}
	})
}

func BenchmarkMask(b *testing.B) {
	for _, n := range []int{16, 125, 4096, 1 << 16} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p := make([]byte, n)
			key := [4]byte{1, 2, 3, 4}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Mask(p, key, 0)
			}
		})
	}
}

func BenchmarkReadHeader(b *testing.B) {
	r := &repeatReader{b: unhex("82 fe 10 00 37 fa 21 3d")}
	br := bufio.NewReader(r)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadHeader(br); err != nil {
			b.Fatal(err)
		}
	}
}

package procio

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"testing"
)

// BenchmarkLineCodecRead pushes many short lines through ReadMessages.
func BenchmarkLineCodecRead(b *testing.B) {
	for _, n := range []int{16, 80, 1024} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			line := append(bytes.Repeat([]byte("x"), n-1), '\n')
			benchRead(b, NewLineCodec(0), bytes.Repeat(line, (256<<10)/n))
		})
	}
}

// BenchmarkLineCodecWrite writes one message to stdin per op.
func BenchmarkLineCodecWrite(b *testing.B) {
	for _, n := range []int{16, 1024, 64 << 10} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			msg := bytes.Repeat([]byte("x"), n)
			codec, r := NewLineCodec(0), bytes.NewReader(nil)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(msg)
				if err := codec.WriteMessage(io.Discard, Message{Reader: r}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStartStop is the bare cost of one program's life: start, read its
// output to EOF, stop.
func BenchmarkStartStop(b *testing.B) {
	for b.Loop() {
		p, err := Start(helper("exit3"))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, p.Stdout())
		p.Stop()
	}
}

// BenchmarkExactCodecRead parses 256 KiB of stdout holding messages of n
// bytes in the json and length framings, text and binary.
func BenchmarkExactCodecRead(b *testing.B) {
	for _, cc := range exactCodecs {
		for _, bin := range []bool{false, true} {
			for _, n := range []int{16, 1024, 64 << 10} {
				b.Run(fmt.Sprintf("%s/%s/%d", cc.name, map[bool]string{false: "text", true: "binary"}[bin], n), func(b *testing.B) {
					var one bytes.Buffer
					p := bytes.Repeat([]byte("x"), n)
					if err := cc.new(0, 0).WriteMessage(&one, Message{Reader: bytes.NewReader(p), Binary: bin}); err != nil {
						b.Fatal(err)
					}
					benchRead(b, cc.new(0, 0), bytes.Repeat(one.Bytes(), max(1, (256<<10)/one.Len())))
				})
			}
		}
	}
}

// BenchmarkExactCodecWrite writes one message of n bytes to stdin per op
// in the json and length framings, text and binary.
func BenchmarkExactCodecWrite(b *testing.B) {
	for _, cc := range exactCodecs {
		for _, bin := range []bool{false, true} {
			for _, n := range []int{16, 1024, 64 << 10} {
				b.Run(fmt.Sprintf("%s/%s/%d", cc.name, map[bool]string{false: "text", true: "binary"}[bin], n), func(b *testing.B) {
					p := bytes.Repeat([]byte("x"), n)
					codec, r := cc.new(0, 0), bytes.NewReader(nil)
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						r.Reset(p)
						if err := codec.WriteMessage(io.Discard, Message{Reader: r, Binary: bin, Size: int64(n), SizeKnown: true}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// benchRead has codec read out, the program's whole stdout, once per op.
func benchRead(b *testing.B, codec Codec, out []byte) {
	sink, r := &discardSink{}, bytes.NewReader(nil)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(out)
		if err := codec.ReadMessages(ReaderOutput(r), sink); err != nil {
			b.Fatal(err)
		}
	}
}

package procio

import (
	"bytes"
	"io"
	"strconv"
	"testing"
)

// BenchmarkLineCodecRead pushes many short lines through ReadMessages.
func BenchmarkLineCodecRead(b *testing.B) {
	for _, n := range []int{16, 80, 1024} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			line := append(bytes.Repeat([]byte("x"), n-1), '\n')
			out := bytes.Repeat(line, (256<<10)/n)
			codec, sink, r := NewLineCodec(0), &discardSink{}, bytes.NewReader(nil)
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(out)
				if err := codec.ReadMessages(ReaderOutput(r), sink); err != nil {
					b.Fatal(err)
				}
			}
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
				if err := codec.WriteMessage(io.Discard, r); err != nil {
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

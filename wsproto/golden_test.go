package wsproto

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// seq returns n bytes counting up from 0, wrapping at 256.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// goldenVectors are the examples of RFC 6455 §5.7. Each lists its frames
// (payloads unmasked); the same table drives ReadHeader and AppendHeader,
// the Conn's reader and its writer.
var goldenVectors = []struct {
	name   string
	wire   []byte
	frames []wireFrame
}{
	{
		name:   "single-frame unmasked text",
		wire:   unhex("81 05 48 65 6c 6c 6f"),
		frames: []wireFrame{{Header{Fin: true, Op: OpText, Length: 5}, []byte("Hello")}},
	},
	{
		name:   "single-frame masked text",
		wire:   unhex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
		frames: []wireFrame{{Header{Fin: true, Op: OpText, Masked: true, Mask: testKey, Length: 5}, []byte("Hello")}},
	},
	{
		name: "fragmented unmasked text",
		wire: unhex("01 03 48 65 6c 80 02 6c 6f"),
		frames: []wireFrame{
			{Header{Op: OpText, Length: 3}, []byte("Hel")},
			{Header{Fin: true, Op: OpContinuation, Length: 2}, []byte("lo")},
		},
	},
	{
		name:   "unmasked ping",
		wire:   unhex("89 05 48 65 6c 6c 6f"),
		frames: []wireFrame{{Header{Fin: true, Op: OpPing, Length: 5}, []byte("Hello")}},
	},
	{
		name:   "masked pong",
		wire:   unhex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
		frames: []wireFrame{{Header{Fin: true, Op: OpPong, Masked: true, Mask: testKey, Length: 5}, []byte("Hello")}},
	},
	{
		name:   "256 bytes binary, 16-bit length",
		wire:   append(unhex("82 7e 01 00"), seq(256)...),
		frames: []wireFrame{{Header{Fin: true, Op: OpBinary, Length: 256}, seq(256)}},
	},
	{
		name:   "64 KiB binary, 64-bit length",
		wire:   append(unhex("82 7f 00 00 00 00 00 01 00 00"), seq(65536)...),
		frames: []wireFrame{{Header{Fin: true, Op: OpBinary, Length: 65536}, seq(65536)}},
	},
}

// TestGoldenHeader decodes each vector's frames with ReadHeader and encodes
// them back with AppendHeader and Mask.
func TestGoldenHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenVectors {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			br := bufio.NewReader(bytes.NewReader(tc.wire))
			var enc []byte
			for i, f := range tc.frames {
				h, err := ReadHeader(br)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if h != f.h {
					t.Fatalf("frame %d: header %+v, want %+v", i, h, f.h)
				}
				p := make([]byte, h.Length)
				if _, err := io.ReadFull(br, p); err != nil {
					t.Fatalf("frame %d payload: %v", i, err)
				}
				if h.Masked {
					Mask(p, h.Mask, 0)
				}
				if !bytes.Equal(p, f.p) {
					t.Fatalf("frame %d payload %q, want %q", i, p, f.p)
				}
				enc = append(enc, rawFrame(f.h, f.p)...)
			}
			if _, err := ReadHeader(br); err != io.EOF {
				t.Fatalf("after the frames: %v, want io.EOF", err)
			}
			if !bytes.Equal(enc, tc.wire) {
				t.Fatalf("AppendHeader+Mask gave\n%x\nwant\n%x", enc, tc.wire)
			}
		})
	}
}

// TestGoldenReader reads each vector with a Conn of the role that receives
// it: data frames make one message, a ping is answered with a pong with the
// same payload, a pong is ignored.
func TestGoldenReader(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenVectors {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			role := Client // receives unmasked frames
			if tc.frames[0].h.Masked {
				role = Server
			}
			c, fc := newTestConn(role, tc.wire, Config{})
			first := tc.frames[0].h.Op
			if !first.IsControl() {
				var want []byte
				for _, f := range tc.frames {
					want = append(want, f.p...)
				}
				op, p, err := c.ReadMessage(nil)
				if err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
				if op != first || !bytes.Equal(p, want) {
					t.Fatalf("ReadMessage = %v %q, want %v %q", op, p, first, want)
				}
			}
			if _, _, err := c.ReadMessage(nil); !errors.Is(err, io.EOF) {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
			out, _ := fc.written()
			frames := parseFrames(t, out)
			if first != OpPing {
				if len(frames) != 0 {
					t.Fatalf("wrote %d frames, want none", len(frames))
				}
				return
			}
			if len(frames) != 1 || frames[0].h.Op != OpPong || !bytes.Equal(frames[0].p, tc.frames[0].p) {
				t.Fatalf("wrote %+v, want one pong with %q", frames, tc.frames[0].p)
			}
			if !frames[0].h.Masked {
				t.Fatalf("client pong not masked")
			}
		})
	}
}

// TestGoldenWriter writes each vector with a Conn of the role that sends it.
// Unmasked output must match the vector byte for byte; masked output uses
// random keys, so it must match once decoded.
func TestGoldenWriter(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenVectors {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			masked := tc.frames[0].h.Masked
			role := Server
			if masked {
				role = Client
			}
			c, fc := newTestConn(role, nil, Config{})
			for i, f := range tc.frames {
				var err error
				switch f.h.Op {
				case OpPing:
					err = c.WritePing(f.p)
				case OpPong:
					err = c.writeControl(OpPong, f.p)
				default:
					err = c.WriteFragment(tc.frames[0].h.Op, f.p, f.h.Fin)
				}
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			out, _ := fc.written()
			if !masked {
				if !bytes.Equal(out, tc.wire) {
					t.Fatalf("wrote\n%x\nwant\n%x", out, tc.wire)
				}
				return
			}
			frames := parseFrames(t, out)
			if len(frames) != len(tc.frames) {
				t.Fatalf("wrote %d frames, want %d", len(frames), len(tc.frames))
			}
			for i, f := range frames {
				want := tc.frames[i].h
				want.Mask = f.h.Mask
				if f.h != want || !bytes.Equal(f.p, tc.frames[i].p) {
					t.Fatalf("frame %d: %+v %q, want %+v %q", i, f.h, f.p, want, tc.frames[i].p)
				}
			}
		})
	}
}

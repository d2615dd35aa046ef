package wsproto

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math"
	"testing"
	"unicode/utf8"
)

// fuzzLimit is the message limit of the fuzz targets' seeds; each target
// also takes a limit from its input, which may be any int64: 0 or less
// for the default, math.MaxInt64 for no limit (wsexec --maxframesize=0).
const fuzzLimit = 1 << 12

// effectiveLimit is the message limit a Conn configured with limit applies.
func effectiveLimit(limit int64) int64 {
	if limit <= 0 {
		return DefaultMaxMessageSize
	}
	return limit
}

// grownCap bounds the buffer ReadMessage may have grown for messages of at
// most n bytes: each growth at most doubles what has arrived (or adds 512
// bytes to a small buffer), which append's growth rule and the allocator's
// size classes round up. The limit bounds n, so the buffer never grows far
// past the limit either.
func grownCap(n int64) int64 { return 3*n + 16<<10 }

// FuzzReadMessage feeds arbitrary bytes to a server Conn with the given
// message limit and checks that it never panics, never holds more than the
// limit or grows its buffer far past what arrived, reports a violation
// with the close frame it sent, and that each message it accepts
// re-encodes (through a client Conn) to frames it reads back the same. The
// same bytes then go to a Conn with permessage-deflate agreed.
func FuzzReadMessage(f *testing.F) {
	for _, v := range goldenVectors {
		f.Add(v.wire, int64(fuzzLimit))
		f.Add(v.wire, int64(math.MaxInt64))
	}
	f.Add(join(cframe(false, OpText, "Hel"), cframe(true, OpPing, "p"), cframe(true, OpContinuation, "lo")), int64(fuzzLimit))
	f.Add(join(cframe(true, OpBinary, ""), cframe(true, OpClose, closeBody(1000, "bye"))), int64(fuzzLimit))
	f.Add(cframe(true, OpText, "κόσμε\xed\xa0\x80"), int64(fuzzLimit))
	f.Add(cframe(true, OpClose, "\x03"), int64(fuzzLimit))
	compressed := masked(f, unhex("41 03 f2 48 cd 89 00 80 04 c9 c9 07 00 c1 05 f2 00 11 00 00"))
	for _, limit := range []int64{fuzzLimit, 0, 1, 5, math.MaxInt64} {
		f.Add(compressed, limit)
	}
	// The longest lengths a header carries: 2^63-1, and 2^63-1 after a fragment.
	longest := rawFrame(Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey, Length: math.MaxInt64}, []byte("abc"))
	f.Add(longest, int64(math.MaxInt64))
	f.Add(join(cframe(false, OpBinary, "Hello"), longest), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, input []byte, limit int64) {
		readFuzzed(t, input, nil, limit)
		readFuzzed(t, input, &takeover, limit)
	})
}

// readFuzzed reads input as a server Conn with permessage-deflate agreed as
// d (nil: none) and the message limit limit: never a panic, never a message
// over the limit or a text message that is not UTF-8, each message
// re-encodes to itself, nothing but pongs is written before the end, and
// a close ends it.
func readFuzzed(t *testing.T, input []byte, d *DeflateParams, limit int64) {
	c, fc := newTestConn(Server, input, Config{MaxMessageSize: limit, Deflate: d})
	eff := effectiveLimit(limit)
	var buf []byte
	var err error
	// The longest message so far: buf may keep an earlier one's growth.
	most := int64(0)
	for range len(input) + 1 { // each message takes at least 6 bytes
		var op Opcode
		op, buf, err = c.ReadMessage(buf)
		if err != nil {
			break
		}
		most = max(most, int64(len(buf)))
		if int64(len(buf)) > eff || int64(cap(buf)) > grownCap(most) {
			t.Fatalf("message of %d bytes in %d, limit %d", len(buf), cap(buf), eff)
		}
		if op != OpText && op != OpBinary {
			t.Fatalf("message type %v", op)
		}
		if op == OpText && !utf8.Valid(buf) {
			t.Fatalf("text message %q is not UTF-8", buf)
		}
		checkReencode(t, op, buf, d)
	}
	if err == nil {
		t.Fatal("more messages than bytes")
	}
	out, _ := fc.written()
	frames := parseFrames(t, out)
	var ce *CloseError
	if errors.As(err, &ce) {
		if len(frames) == 0 || closeFrameCode(t, frames[len(frames)-1]) != ce.Code {
			t.Fatalf("%v, but the last frame written is not its close", err)
		}
	}
	for _, f := range frames[:max(len(frames)-1, 0)] {
		if f.h.Op != OpPong {
			t.Fatalf("wrote %v before the end", f.h.Op)
		}
	}
}

// checkReencode writes a message as a client and reads it back as a
// server, with permessage-deflate agreed as d (nil: none). The server has
// no limit (math.MaxInt64): compressed, a message within a limit may take
// more bytes than the limit on the wire.
func checkReencode(t *testing.T, op Opcode, p []byte, d *DeflateParams) {
	t.Helper()
	w, fc := newTestConn(Client, nil, Config{Deflate: d})
	if err := w.WriteMessage(op, p); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	wire, _ := fc.written()
	r, _ := newTestConn(Server, wire, Config{MaxMessageSize: math.MaxInt64, Deflate: d})
	op2, p2, err := r.ReadMessage(nil)
	if err != nil || op2 != op || !bytes.Equal(p2, p) {
		t.Fatalf("re-encoded %v %q reads back as %v %q, %v", op, p, op2, p2, err)
	}
}

// FuzzInflate feeds arbitrary DEFLATE data as the payloads of two
// compressed messages, with or without context takeover, under the given
// message limit, and checks the inflate path against compress/flate used
// directly: the same bytes when they inflate within the limit, else a
// close frame with 1002 (bad data), 1007 (text not UTF-8) or 1009 (past
// the limit); never a panic, never a message over the limit, nor a buffer
// grown far past what inflated. Each accepted message is compressed again
// through a Conn and must read back the same.
func FuzzInflate(f *testing.F) {
	for _, v := range deflateGolden {
		frames := parseFrames(f, unhex(v.wire))
		if len(frames) == 1 {
			f.Add(frames[0].p, []byte(nil), true, false, int64(fuzzLimit))
		}
	}
	f.Add(unhex("f2 48 cd c9 c9 07 00"), unhex("f2 00 11 00 00"), true, false, int64(fuzzLimit))
	f.Add(unhex("f3 48 cd c9 c9 07 00 00"), unhex("02 13 00 00"), false, false, int64(fuzzLimit))
	f.Add(unhex("ca c9 c9 07 00"), unhex("00"), false, true, int64(fuzzLimit))
	for _, limit := range []int64{0, 1, 5, 6, math.MaxInt64 - 1, math.MaxInt64} {
		f.Add(unhex("f2 48 cd c9 c9 07 00"), unhex("f2 00 11 00 00"), true, false, limit)
	}
	f.Fuzz(func(t *testing.T, a, b []byte, text, noCtx bool, limit int64) {
		params := takeover
		if noCtx {
			params = noContext
		}
		op := OpBinary
		if text {
			op = OpText
		}
		wire := join(compressedFrame(op, a), compressedFrame(op, b))
		c, fc := newTestConn(Client, wire, Config{Deflate: &params, MaxMessageSize: limit})
		eff := effectiveLimit(limit)
		var dict []byte
		for i, payload := range [][]byte{a, b} {
			if noCtx {
				dict = nil
			}
			want, werr := inflateReference(payload, dict, eff)
			_, got, err := c.ReadMessage(nil)
			// The Conn inflates no more than compress/flate did here.
			if int64(len(got)) > eff || int64(cap(got)) > grownCap(int64(len(want))) {
				t.Fatalf("message %d: %d bytes in %d, limit %d", i, len(got), cap(got), eff)
			}
			var code uint16
			switch {
			case int64(len(payload)) > eff:
				code = CloseMessageTooBig // the wire size counts too, from the header
			case werr != nil:
				code = CloseProtocolError
			case int64(len(want)) > eff:
				code = CloseMessageTooBig
			case text && !utf8.Valid(want):
				code = CloseInvalidPayload
			}
			if code == 0 {
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("message %d: %q, %v; compress/flate gives %q", i, got, err, want)
				}
				checkReencode(t, op, got, &params)
				dict = append(dict, want...)
				continue
			}
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Remote {
				t.Fatalf("message %d: %v, want close %d", i, err, code)
			}
			// Bad data past the limit may be caught by either check
			// first; text that is not UTF-8 before the bad data, or
			// within the limit, is caught before both.
			badText := text && ce.Code == CloseInvalidPayload &&
				(code == CloseProtocolError || code == CloseMessageTooBig && int64(len(want)) > eff && !utf8Prefix(want[:eff]))
			if ce.Code != code && !(werr != nil && ce.Code == CloseMessageTooBig) && !badText {
				t.Fatalf("message %d: close %d, want %d (%v)", i, ce.Code, code, werr)
			}
			out, _ := fc.written()
			frames := parseFrames(t, out)
			if len(frames) == 0 || closeFrameCode(t, frames[len(frames)-1]) != ce.Code {
				t.Fatalf("%v, but the last frame written is not its close", err)
			}
			return
		}
	})
}

// utf8Prefix reports whether p is valid UTF-8 or a prefix of it: valid up
// to a last character whose first bytes came and whose others have not.
func utf8Prefix(p []byte) bool {
	for k := 1; k < utf8.UTFMax && k <= len(p); k++ {
		if utf8.RuneStart(p[len(p)-k]) {
			if !utf8.FullRune(p[len(p)-k:]) {
				p = p[:len(p)-k]
			}
			break
		}
	}
	return utf8.Valid(p)
}

// inflateReference inflates a message payload with compress/flate directly,
// reading at most one byte past limit.
func inflateReference(p, dict []byte, limit int64) ([]byte, error) {
	in := append(append([]byte(nil), p...), inflateTail[:]...)
	fr := flate.NewReaderDict(bytes.NewReader(in), dict)
	return io.ReadAll(io.LimitReader(fr, addSat(limit, 1)))
}

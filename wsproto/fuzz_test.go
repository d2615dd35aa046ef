package wsproto

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimit is the message limit of FuzzReadMessage.
const fuzzLimit = 1 << 12

// FuzzReadMessage feeds arbitrary bytes to a server Conn and checks that it
// never panics, never holds more than the message limit, reports a
// violation with the close frame it sent, and that each message it accepts
// re-encodes (through a client Conn) to frames it reads back the same.
func FuzzReadMessage(f *testing.F) {
	for _, v := range goldenVectors {
		f.Add(v.wire)
	}
	f.Add(join(cframe(false, OpText, "Hel"), cframe(true, OpPing, "p"), cframe(true, OpContinuation, "lo")))
	f.Add(join(cframe(true, OpBinary, ""), cframe(true, OpClose, closeBody(1000, "bye"))))
	f.Add(cframe(true, OpText, "κόσμε\xed\xa0\x80"))
	f.Add(cframe(true, OpClose, "\x03"))
	f.Fuzz(func(t *testing.T, input []byte) {
		c, fc := newTestConn(Server, input, Config{MaxMessageSize: fuzzLimit})
		var buf []byte
		var err error
		for range len(input) + 1 { // each message takes at least 6 bytes
			var op Opcode
			op, buf, err = c.ReadMessage(buf)
			if err != nil {
				break
			}
			if len(buf) > fuzzLimit || cap(buf) > 2*fuzzLimit {
				t.Fatalf("message of %d bytes in %d, limit %d", len(buf), cap(buf), fuzzLimit)
			}
			if op != OpText && op != OpBinary {
				t.Fatalf("message type %v", op)
			}
			checkReencode(t, op, buf)
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
	})
}

// checkReencode writes a message as a client and reads it back as a server.
func checkReencode(t *testing.T, op Opcode, p []byte) {
	t.Helper()
	w, fc := newTestConn(Client, nil, Config{})
	if err := w.WriteMessage(op, p); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	wire, _ := fc.written()
	r, _ := newTestConn(Server, wire, Config{MaxMessageSize: fuzzLimit})
	op2, p2, err := r.ReadMessage(nil)
	if err != nil || op2 != op || !bytes.Equal(p2, p) {
		t.Fatalf("re-encoded %v %q reads back as %v %q, %v", op, p, op2, p2, err)
	}
}

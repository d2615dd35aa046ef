package wsproto

import (
	"io"
	"testing"
)

// TestOnPong checks that Config.OnPong sees every pong, between fragments
// too, and nothing else: not pings, not data.
func TestOnPong(t *testing.T) {
	input := join(
		cframe(true, OpPong, ""),
		cframe(true, OpPing, "p"),
		cframe(false, OpText, "he"),
		cframe(true, OpPong, "unsolicited"),
		cframe(true, OpContinuation, "llo"),
		cframe(true, OpClose, closeBody(CloseNormal, "")),
	)
	pongs := 0
	c, _ := newTestConn(Server, input, Config{OnPong: func() { pongs++ }})
	msgs, err := readAll(c)
	if len(msgs) != 1 || msgs[0] != "text:hello" {
		t.Fatalf("messages %q", msgs)
	}
	if err == nil || err == io.EOF {
		t.Fatalf("want the peer's close, got %v", err)
	}
	if pongs != 2 {
		t.Fatalf("OnPong called %d times, want 2", pongs)
	}
}

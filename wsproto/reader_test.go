package wsproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// wantLocalClose checks that err is a violation with code, and that the
// close frame with that code was the last thing written.
func wantLocalClose(t *testing.T, err error, fc *fakeConn, code uint16) {
	t.Helper()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Remote || ce.Code != code {
		t.Fatalf("error %v, want a local close %d", err, code)
	}
	out, _ := fc.written()
	frames := parseFrames(t, out)
	if len(frames) == 0 {
		t.Fatalf("no close frame written")
	}
	last := frames[len(frames)-1]
	if got := closeFrameCode(t, last); got != code {
		t.Fatalf("close frame code %d, want %d", got, code)
	}
	if string(last.p[2:]) != ce.Reason {
		t.Fatalf("close reason %q, want %q", last.p[2:], ce.Reason)
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		role  Role
		max   int64
		input []byte
		msgs  []string // messages read before the violation
		code  uint16
	}{
		{name: "rsv1", input: rawFrame(Header{Fin: true, Rsv: 4, Op: OpText, Masked: true, Length: 1}, []byte("a")), code: CloseProtocolError},
		{name: "rsv2", input: rawFrame(Header{Fin: true, Rsv: 2, Op: OpText, Masked: true, Length: 1}, []byte("a")), code: CloseProtocolError},
		{name: "rsv3 on ping", input: rawFrame(Header{Fin: true, Rsv: 1, Op: OpPing, Masked: true}, nil), code: CloseProtocolError},
		{name: "rsv after a message", input: join(cframe(true, OpText, "ok"), rawFrame(Header{Fin: true, Rsv: 2, Op: OpText, Masked: true}, nil)),
			msgs: []string{"text:ok"}, code: CloseProtocolError},
		{name: "opcode 3", input: cframe(true, 3, ""), code: CloseProtocolError},
		{name: "opcode 7", input: cframe(true, 7, "x"), code: CloseProtocolError},
		{name: "opcode 0xB", input: cframe(true, 0xB, ""), code: CloseProtocolError},
		{name: "opcode 0xF", input: cframe(true, 0xF, "x"), code: CloseProtocolError},
		{name: "unmasked frame from client", input: sframe(true, OpText, "hi"), code: CloseProtocolError},
		{name: "masked frame from server", role: Client, input: cframe(true, OpText, "hi"), code: CloseProtocolError},
		{name: "fragmented ping", input: cframe(false, OpPing, "x"), code: CloseProtocolError},
		{name: "fragmented close", input: cframe(false, OpClose, closeBody(1000, "")), code: CloseProtocolError},
		{name: "ping of 126 bytes", input: cframe(true, OpPing, strings.Repeat("x", 126)), code: CloseProtocolError},
		{name: "close of 126 bytes", input: cframe(true, OpClose, closeBody(1000, strings.Repeat("x", 124))), code: CloseProtocolError},
		{name: "pong of 126 bytes", input: cframe(true, OpPong, strings.Repeat("x", 126)), code: CloseProtocolError},
		{name: "continuation first", input: cframe(true, OpContinuation, "x"), code: CloseProtocolError},
		{name: "continuation after a whole message", input: join(cframe(true, OpText, "a"), cframe(true, OpContinuation, "b")),
			msgs: []string{"text:a"}, code: CloseProtocolError},
		{name: "text inside a fragmented message", input: join(cframe(false, OpText, "a"), cframe(true, OpText, "b")), code: CloseProtocolError},
		{name: "binary inside a fragmented message", input: join(cframe(false, OpBinary, "a"), cframe(true, OpBinary, "b")), code: CloseProtocolError},
		{name: "64-bit length with top bit", input: unhex("82 ff 80 00 00 00 00 00 00 00 37 fa 21 3d"), code: CloseProtocolError},
		{name: "close payload of 1 byte", input: cframe(true, OpClose, "\x03"), code: CloseProtocolError},
		{name: "invalid UTF-8 in text", input: cframe(true, OpText, "a\xffb"), code: CloseInvalidPayload},
		{name: "surrogate in text", input: cframe(true, OpText, "\xed\xa0\x80"), code: CloseInvalidPayload},
		{name: "overlong in text", input: cframe(true, OpText, "\xc0\xaf"), code: CloseInvalidPayload},
		{name: "above U+10FFFF", input: cframe(true, OpText, "\xf4\x90\x80\x80"), code: CloseInvalidPayload},
		{name: "text ends inside a character", input: cframe(true, OpText, "ab\xe2\x82"), code: CloseInvalidPayload},
		{name: "fragment ends message inside a character", input: join(cframe(false, OpText, "\xe2"), cframe(true, OpContinuation, "\x82")), code: CloseInvalidPayload},
		{name: "invalid UTF-8 in second fragment", input: join(cframe(false, OpText, "ok"), cframe(true, OpContinuation, "\xff")), code: CloseInvalidPayload},
		{name: "invalid UTF-8 across fragments", input: join(cframe(false, OpText, "\xf4"), cframe(true, OpContinuation, "\x90\x80\x80")), code: CloseInvalidPayload},
		{name: "invalid UTF-8 in close reason", input: cframe(true, OpClose, closeBody(1000, "\xce\xba\xed\xa0\x80")), code: CloseInvalidPayload},
		{name: "binary may hold anything", input: join(cframe(true, OpBinary, "\xff"), cframe(true, OpText, "\xff")),
			msgs: []string{"binary:\xff"}, code: CloseInvalidPayload},
		{name: "message too big", max: 10, input: cframe(true, OpBinary, "0123456789a"), code: CloseMessageTooBig},
		{name: "message of the limit", max: 10, input: join(cframe(true, OpBinary, "0123456789"), cframe(true, OpBinary, "0123456789a")),
			msgs: []string{"binary:0123456789"}, code: CloseMessageTooBig},
		{name: "fragments too big", max: 10, input: join(cframe(false, OpText, "01234"), cframe(false, OpContinuation, "56789"), cframe(true, OpContinuation, "a")),
			code: CloseMessageTooBig},
		{name: "too big before the payload", max: 10, input: unhex("82 ff 00 00 00 01 00 00 00 00 37 fa 21 3d"), code: CloseMessageTooBig},
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name  string
			role  Role
			max   int64
			input []byte
			msgs  []string
			code  uint16
		}{name: fmt.Sprintf("close code %d", code), input: cframe(true, OpClose, closeBody(code, "")), code: CloseProtocolError})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fc := newTestConn(tc.role, tc.input, Config{MaxMessageSize: tc.max})
			msgs, err := readAll(c)
			if fmt.Sprint(msgs) != fmt.Sprint(tc.msgs) {
				t.Fatalf("read %q, want %q", msgs, tc.msgs)
			}
			wantLocalClose(t, err, fc, tc.code)
			if _, _, again := c.NextReader(); again != err {
				t.Fatalf("next read: %v, want the same error %v", again, err)
			}
			if !c.CloseSent() {
				t.Fatalf("CloseSent false after a violation")
			}
		})
	}
}

func TestPeerClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		payload  string
		code     uint16 // reported
		reason   string
		wireCode uint16 // of the reply; CloseNoStatus for an empty body
	}{
		{"no code", "", CloseNoStatus, "", CloseNoStatus},
		{"normal", closeBody(1000, ""), 1000, "", 1000},
		{"normal with reason", closeBody(1000, "bye"), 1000, "bye", 1000},
		{"reason of 123 bytes", closeBody(1000, strings.Repeat("r", 123)), 1000, strings.Repeat("r", 123), 1000},
		{"UTF-8 reason", closeBody(1001, "κόσμε"), 1001, "κόσμε", 1001},
	}
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		tests = append(tests, struct {
			name     string
			payload  string
			code     uint16
			reason   string
			wireCode uint16
		}{fmt.Sprintf("code %d", code), closeBody(code, ""), code, "", code})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fc := newTestConn(Server, join(cframe(true, OpText, "m"), cframe(true, OpClose, tc.payload), cframe(true, OpText, "after")), Config{})
			msgs, err := readAll(c)
			if len(msgs) != 1 || msgs[0] != "text:m" {
				t.Fatalf("read %q", msgs)
			}
			var ce *CloseError
			if !errors.As(err, &ce) || !ce.Remote || ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("error %#v, want peer close %d %q", err, tc.code, tc.reason)
			}
			out, _ := fc.written()
			frames := parseFrames(t, out)
			if len(frames) != 1 {
				t.Fatalf("wrote %d frames, want 1 close", len(frames))
			}
			if got := closeFrameCode(t, frames[0]); got != tc.wireCode {
				t.Fatalf("replied with %d, want %d", got, tc.wireCode)
			}
			if tc.wireCode == CloseNoStatus && len(frames[0].p) != 0 {
				t.Fatalf("reply body %x, want empty", frames[0].p)
			}
			if err := c.WriteMessage(OpText, []byte("x")); err != ErrCloseSent {
				t.Fatalf("write after close: %v, want ErrCloseSent", err)
			}
		})
	}
}

// TestPeerCloseAfterOurs: the peer's close answers ours, so none is sent
// back.
func TestPeerCloseAfterOurs(t *testing.T) {
	t.Parallel()
	c, fc := newTestConn(Server, cframe(true, OpClose, closeBody(1000, "")), Config{})
	if err := c.WriteClose(CloseGoingAway, "going away"); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.NextReader()
	var ce *CloseError
	if !errors.As(err, &ce) || !ce.Remote || ce.Code != 1000 {
		t.Fatalf("error %v, want peer close 1000", err)
	}
	out, _ := fc.written()
	frames := parseFrames(t, out)
	if len(frames) != 1 || closeFrameCode(t, frames[0]) != CloseGoingAway {
		t.Fatalf("wrote %+v, want only our close 1001", frames)
	}
}

func TestFragmentsWithControlFrames(t *testing.T) {
	t.Parallel()
	input := join(
		cframe(false, OpText, "Hello"),
		cframe(true, OpPing, "a"),
		cframe(false, OpContinuation, ", "),
		cframe(true, OpPong, "unsolicited"),
		cframe(true, OpPing, "b"),
		cframe(false, OpContinuation, ""),
		cframe(true, OpContinuation, "world"),
		cframe(true, OpPing, ""),
		cframe(true, OpBinary, "\x00\x01"),
	)
	c, fc := newTestConn(Server, input, Config{})
	msgs, err := readAll(c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("error %v, want EOF", err)
	}
	if fmt.Sprint(msgs) != fmt.Sprint([]string{"text:Hello, world", "binary:\x00\x01"}) {
		t.Fatalf("read %q", msgs)
	}
	out, _ := fc.written()
	var pongs []string
	for _, f := range parseFrames(t, out) {
		if f.h.Op != OpPong || f.h.Masked {
			t.Fatalf("wrote %+v, want unmasked pongs only", f.h)
		}
		pongs = append(pongs, string(f.p))
	}
	if fmt.Sprint(pongs) != fmt.Sprint([]string{"a", "b", ""}) {
		t.Fatalf("pongs %q, want a, b and empty", pongs)
	}
}

func TestZeroLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input []byte
		want  []string
	}{
		{"empty text", cframe(true, OpText, ""), []string{"text:"}},
		{"empty binary", cframe(true, OpBinary, ""), []string{"binary:"}},
		{"empty fragments", join(cframe(false, OpText, ""), cframe(false, OpContinuation, ""), cframe(true, OpContinuation, "")), []string{"text:"}},
		{"empty last fragment", join(cframe(false, OpBinary, "ab"), cframe(true, OpContinuation, "")), []string{"binary:ab"}},
		{"several", join(cframe(true, OpText, ""), cframe(true, OpText, "x"), cframe(true, OpText, "")), []string{"text:", "text:x", "text:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestConn(Server, tc.input, Config{})
			msgs, err := readAll(c)
			if !errors.Is(err, io.EOF) || fmt.Sprint(msgs) != fmt.Sprint(tc.want) {
				t.Fatalf("read %q, %v; want %q, EOF", msgs, err, tc.want)
			}
		})
	}
}

// TestUTF8Splits cuts text messages into two fragments at every byte.
func TestUTF8Splits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		valid bool
	}{
		{"ascii", "Hello-µ@ßöäüàá-UTF-8!!", true},
		{"greek", "κόσμε", true},
		{"four-byte", "a\U0001F600b\U0010FFFF", true},
		{"edges", "\u007f\u0080\u07ff\u0800\uffff\U00010000", true},
		{"replacement char", "\uFFFD", true},
		{"stray continuation", "ab\x80cd", false},
		{"surrogate", "κόσμε\xed\xa0\x80edited", false},
		{"overlong", "a\xe0\x80\xaf", false},
		{"too high", "\xf4\x90\x80\x80", false},
		{"F5 lead", "\xf5\x80\x80\x80", false},
		{"truncated", "abc\xf0\x9f\x98", false},
		{"lead then ascii", "\xe2\x82a", false},
	}
	for _, tc := range tests {
		for cut := 0; cut <= len(tc.text); cut++ {
			t.Run(fmt.Sprintf("%s/%d", tc.name, cut), func(t *testing.T) {
				t.Parallel()
				input := join(cframe(false, OpText, tc.text[:cut]), cframe(true, OpContinuation, tc.text[cut:]))
				c, fc := newTestConn(Server, input, Config{})
				op, p, err := c.ReadMessage(nil)
				if !tc.valid {
					wantLocalClose(t, err, fc, CloseInvalidPayload)
					return
				}
				if err != nil || op != OpText || string(p) != tc.text {
					t.Fatalf("read %v %q, %v; want %q", op, p, err, tc.text)
				}
			})
		}
	}
}

// TestUTF8FailFast: a text message fails at its first bad byte, before the
// rest of the frame or message arrives.
func TestUTF8FailFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sent []byte // all the peer sends before waiting
	}{
		{"inside a frame", cframe(true, OpText, "κόσμε\xed\xa0\x80edited")[:6+13]}, // up to "\xed\xa0"
		{"inside a fragment", join(cframe(false, OpText, "κό"), cframe(true, OpContinuation, "\xed\xa0\x80tail")[:6+2])},
		{"first fragment", join(cframe(false, OpText, "ok\xff"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() { pw.Write(tc.sent) }() // the peer then waits
			fc := &fakeConn{r: pr}
			c := NewConn(fc, nil, Config{})
			done := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage(nil)
				done <- err
			}()
			select {
			case err := <-done:
				wantLocalClose(t, err, fc, CloseInvalidPayload)
			case <-time.After(10 * time.Second):
				t.Fatal("reader waited for the rest of the message")
			}
		})
	}
}

// TestStreamReader reads a message in small pieces and leaves another
// half read: NextReader discards its rest.
func TestStreamReader(t *testing.T) {
	t.Parallel()
	input := join(
		cframe(false, OpText, "first "),
		cframe(true, OpContinuation, "message"),
		cframe(false, OpBinary, "skipped "),
		cframe(true, OpPing, "p"),
		cframe(true, OpContinuation, "entirely"),
		cframe(true, OpText, "third"),
	)
	c, fc := newTestConn(Server, input, Config{})
	op, r, err := c.NextReader()
	if err != nil || op != OpText {
		t.Fatalf("NextReader = %v, %v", op, err)
	}
	var got []byte
	buf := make([]byte, 3)
	for range 100 {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "first message" {
		t.Fatalf("read %q", got)
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the end: %d, %v", n, err)
	}
	op, r, err = c.NextReader()
	if err != nil || op != OpBinary {
		t.Fatalf("NextReader = %v, %v", op, err)
	}
	if n, err := r.Read(buf); n != 3 || err != nil || string(buf) != "ski" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	op, p, err := c.ReadMessage(nil)
	if err != nil || op != OpText || string(p) != "third" {
		t.Fatalf("ReadMessage = %v %q, %v; want the third message", op, p, err)
	}
	out, _ := fc.written()
	if frames := parseFrames(t, out); len(frames) != 1 || frames[0].h.Op != OpPong {
		t.Fatalf("wrote %+v, want the pong of the discarded message", frames)
	}
}

// TestStreamReaderSkipsBadUTF8: discarding a message still checks it.
func TestStreamReaderSkipsBadUTF8(t *testing.T) {
	t.Parallel()
	c, fc := newTestConn(Server, join(cframe(true, OpText, "ok\xff"), cframe(true, OpText, "next")), Config{})
	if _, _, err := c.NextReader(); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.NextReader()
	wantLocalClose(t, err, fc, CloseInvalidPayload)
}

func TestReadEOF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"between messages", cframe(true, OpText, "a"), io.EOF},
		{"inside a header", cframe(true, OpText, "a")[:3], io.ErrUnexpectedEOF},
		{"inside a payload", cframe(true, OpText, "abc")[:7], io.ErrUnexpectedEOF},
		{"between fragments", cframe(false, OpText, "abc"), io.EOF},
		{"inside a ping", cframe(true, OpPing, "abc")[:7], io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestConn(Server, tc.input, Config{})
			_, err := readAll(c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var ce *CloseError
			if errors.As(err, &ce) {
				t.Fatalf("error %v is a close error", err)
			}
		})
	}
}

func TestReadMessageReusesBuffer(t *testing.T) {
	t.Parallel()
	c, _ := newTestConn(Server, join(cframe(true, OpBinary, "0123456789"), cframe(true, OpBinary, "abc")), Config{})
	buf := make([]byte, 0, 64)
	_, p, err := c.ReadMessage(buf)
	if err != nil || string(p) != "0123456789" || &p[0] != &buf[:1][0] {
		t.Fatalf("first message %q, %v, or not in buf", p, err)
	}
	_, p, err = c.ReadMessage(p)
	if err != nil || string(p) != "abc" || &p[0] != &buf[:1][0] {
		t.Fatalf("second message %q, %v, or not in buf", p, err)
	}
	if !bytes.Equal(buf[:3], []byte("abc")) {
		t.Fatalf("buf holds %q", buf[:3])
	}
}

// TestMessageSize: a message's length is known before it is read when it
// is one uncompressed frame, and only then.
func TestMessageSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input []byte
		cfg   Config
		size  int64
		known bool
	}{
		{"one frame", cframe(true, OpText, "hello"), Config{}, 5, true},
		{"empty", cframe(true, OpBinary, ""), Config{}, 0, true},
		{"fragments", join(cframe(false, OpText, "he"), cframe(true, OpContinuation, "llo")), Config{}, 0, false},
		{"compressed", rawFrame(Header{Fin: true, Rsv: rsv1, Op: OpText, Masked: true, Length: int64(len(deflateBytes(t, []byte("hello"))))},
			deflateBytes(t, []byte("hello"))), Config{Deflate: &DeflateParams{}}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestConn(Server, tc.input, tc.cfg)
			if _, _, err := c.NextReader(); err != nil {
				t.Fatal(err)
			}
			if size, known := c.MessageSize(); size != tc.size || known != tc.known {
				t.Fatalf("MessageSize() = %d, %v; want %d, %v", size, known, tc.size, tc.known)
			}
		})
	}
}

// TestDeferClose: with Config.DeferClose a violation is returned without
// a close frame; data writes go on, and the close frame the owner sends
// comes after them. The peer's own close is still answered at once.
func TestDeferClose(t *testing.T) {
	t.Parallel()
	bad := rawFrame(Header{Fin: true, Rsv: 2, Op: OpText, Masked: true, Length: 1}, []byte("x"))
	c, fc := newTestConn(Server, join(cframe(true, OpText, "hi"), bad), Config{DeferClose: true})
	if _, p, err := c.ReadMessage(nil); err != nil || string(p) != "hi" {
		t.Fatalf("first message %q, %v", p, err)
	}
	_, _, err := c.ReadMessage(nil)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Remote || ce.Code != CloseProtocolError {
		t.Fatalf("read %v, want a local 1002", err)
	}
	if w, _ := fc.written(); len(w) != 0 {
		t.Fatalf("%d bytes written at the violation, want none", len(w))
	}
	if err := c.WriteMessage(OpText, []byte("hi")); err != nil {
		t.Fatalf("data write after the violation: %v", err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteClose(ce.Code, ce.Reason); err != nil {
		t.Fatal(err)
	}
	w, _ := fc.written()
	frames := parseFrames(t, w)
	if len(frames) != 2 || frames[0].h.Op != OpText || string(frames[0].p) != "hi" || closeFrameCode(t, frames[1]) != CloseProtocolError {
		t.Fatalf("wrote %d frames, want the echo then close 1002", len(frames))
	}

	c, fc = newTestConn(Server, cframe(true, OpClose, closeBody(CloseNormal, "")), Config{DeferClose: true})
	if _, _, err := c.ReadMessage(nil); !errors.As(err, &ce) || !ce.Remote {
		t.Fatalf("read %v, want the peer's close", err)
	}
	if w, _ := fc.written(); len(w) == 0 || closeFrameCode(t, parseFrames(t, w)[0]) != CloseNormal {
		t.Fatal("the peer's close is not answered")
	}
}

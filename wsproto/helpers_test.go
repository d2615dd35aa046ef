package wsproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// testKey is the masking key of the RFC 6455 §5.7 examples.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// fakeConn is a net.Conn reading from r and keeping what is written, with
// the number of Write calls (to see coalescing) and the deadlines set.
type fakeConn struct {
	r io.Reader

	mu     sync.Mutex
	out    bytes.Buffer
	writes int
	rdl    time.Time
	wdl    time.Time
}

func (f *fakeConn) Read(p []byte) (int, error) { return f.r.Read(p) }

func (f *fakeConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	return f.out.Write(p)
}

func (f *fakeConn) Close() error                  { return nil }
func (f *fakeConn) LocalAddr() net.Addr           { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (f *fakeConn) RemoteAddr() net.Addr          { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (f *fakeConn) SetDeadline(t time.Time) error { f.SetReadDeadline(t); return f.SetWriteDeadline(t) }

func (f *fakeConn) SetReadDeadline(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rdl = t
	return nil
}

func (f *fakeConn) SetWriteDeadline(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wdl = t
	return nil
}

// written returns a copy of the bytes written so far and the Write count.
func (f *fakeConn) written() ([]byte, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.out.Bytes()), f.writes
}

// newTestConn returns a Conn of role reading input, writing to a fakeConn.
func newTestConn(role Role, input []byte, cfg Config) (*Conn, *fakeConn) {
	fc := &fakeConn{r: bytes.NewReader(input)}
	cfg.Role = role
	return NewConn(fc, nil, cfg), fc
}

// frame encodes one frame. masked frames use testKey, as a client sends.
func frame(masked, fin bool, op Opcode, p []byte) []byte {
	return rawFrame(Header{Fin: fin, Op: op, Masked: masked, Mask: testKey, Length: int64(len(p))}, p)
}

// rawFrame encodes h followed by p, masked with h.Mask if h.Masked. The
// length comes from h, so it may disagree with p.
func rawFrame(h Header, p []byte) []byte {
	b := AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	if h.Masked {
		Mask(b[start:], h.Mask, 0)
	}
	return b
}

// cframe is a client frame (masked), sframe a server frame (unmasked).
func cframe(fin bool, op Opcode, p string) []byte { return frame(true, fin, op, []byte(p)) }
func sframe(fin bool, op Opcode, p string) []byte { return frame(false, fin, op, []byte(p)) }

// closeBody is a close frame payload with code and reason.
func closeBody(code uint16, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, code)) + reason
}

func join(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// wireFrame is a decoded frame with its payload unmasked.
type wireFrame struct {
	h Header
	p []byte
}

// parseFrames decodes every frame of b, which must hold whole frames.
func parseFrames(t testing.TB, b []byte) []wireFrame {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(b))
	var frames []wireFrame
	for range len(b) { // each frame takes at least 2 bytes
		h, err := ReadHeader(br)
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatalf("written bytes: %v", err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatalf("written payload: %v", err)
		}
		if h.Masked {
			Mask(p, h.Mask, 0)
		}
		frames = append(frames, wireFrame{h, p})
	}
	return frames
}

// closeFrameCode returns the code in a close frame's payload, or
// CloseNoStatus for an empty one.
func closeFrameCode(t testing.TB, f wireFrame) uint16 {
	t.Helper()
	if f.h.Op != OpClose {
		t.Fatalf("frame is %v, want close", f.h.Op)
	}
	if len(f.p) == 0 {
		return CloseNoStatus
	}
	if len(f.p) < 2 {
		t.Fatalf("close payload %x", f.p)
	}
	return binary.BigEndian.Uint16(f.p)
}

// readAll reads messages until an error (at most 1000) and returns them
// with the error.
func readAll(c *Conn) ([]string, error) {
	var msgs []string
	for range 1000 {
		op, p, err := c.ReadMessage(nil)
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, op.String()+":"+string(p))
	}
	return msgs, errors.New("more than 1000 messages")
}

// repeatReader returns b over and over, filling each read.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], r.b[r.off:])
		n += m
		r.off = (r.off + m) % len(r.b)
	}
	return n, nil
}

// readBack reads every message of r to its end (io.EOF) and fails t unless
// they are want, naming the first that differs.
func readBack(t *testing.T, r *Conn, want []string) {
	t.Helper()
	got, err := readAll(r)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("message %d: %.40q, want %.40q", i, got[i], want[i])
		}
	}
}

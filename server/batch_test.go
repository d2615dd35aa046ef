//go:build !tiny

package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// countingWriter records each write.
type countingWriter struct {
	writes [][]byte
	err    error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestStdinBatch(t *testing.T) {
	w := &countingWriter{}
	b := &stdinBatch{w: w}
	big := bytes.Repeat([]byte("B"), stdinBatchSize)
	for _, p := range [][]byte{[]byte("a\n"), []byte("b\n"), big, []byte("c\n")} {
		if _, err := b.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.writes) != 2 {
		t.Fatalf("%d writes before the flush, want 2 (the small ones together, then the big one)", len(w.writes))
	}
	if err := b.flush(); err != nil {
		t.Fatal(err)
	}
	got := bytes.Join(w.writes, nil)
	want := append(append([]byte("a\nb\n"), big...), "c\n"...)
	if !bytes.Equal(got, want) || len(w.writes) != 3 {
		t.Fatalf("%d writes of %d bytes, want 3 of %d in order", len(w.writes), len(got), len(want))
	}
	if b.bp != nil {
		t.Fatal("the buffer was not given back after the flush")
	}
	w.err = errors.New("broken pipe")
	b.Write([]byte("d\n"))
	if err := b.flush(); err == nil {
		t.Fatal("flush after a failed write returned nil")
	}
	if _, err := b.Write([]byte("e\n")); err == nil {
		t.Fatal("the write error did not stick")
	}
}

// TestMessagesBeforeCloseReachProgram sends messages and the close frame in
// one write, so that the server reads them all in one socket read: the
// messages must still reach the program (the batch is flushed when the
// read pump ends, before stdin closes).
func TestMessagesBeforeCloseReachProgram(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	addr := testServerAddr(t, "sh", "-c", "cat > "+out)
	c := dialTest(t, addr)
	defer c.Close()
	for _, m := range []string{"one", "two", "three"} {
		if err := c.WriteMessage(wsproto.OpText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WriteClose(wsproto.CloseNormal, ""); err != nil { // flushes all four frames
		t.Fatal(err)
	}
	for {
		if _, _, err := c.NextReader(); err != nil {
			break
		}
	}
	waitFor(t, 10*time.Second, func() error {
		if b, _ := os.ReadFile(out); string(b) != "one\ntwo\nthree\n" {
			return fmt.Errorf("the program got %q, want the three lines", b)
		}
		return nil
	})
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err = ln.Accept()
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// flushOnRead is what batchReader tells before a socket read, as a
// process does: it flushes the batch.
type flushOnRead struct{ b *stdinBatch }

func (f flushOnRead) flush() { f.b.flush() }

// TestBatchReaderSocket reads a TCP socket through batchReader: bytes
// net/http kept come first, everything arrives in order whatever the read
// sizes, the stdin batch is flushed before the socket is read, a read that
// waits holds no buffer, and EOF and deadlines come through.
func TestBatchReaderSocket(t *testing.T) {
	client, srv := tcpPair(t)
	w := &countingWriter{}
	batch := &stdinBatch{w: w}
	pre := bufio.NewReader(strings.NewReader("pre:"))
	pre.Peek(1) // net/http read past the request
	r := newBatchReader(pre, srv, flushOnRead{batch})
	if r.rc == nil {
		t.Fatal("no raw access to a TCP socket")
	}
	want := append([]byte("pre:"), bytes.Repeat([]byte("0123456789"), 2000)...)
	if _, err := client.Write(want[4:]); err != nil {
		t.Fatal(err)
	}
	batch.Write([]byte("queued\n"))
	var got []byte
	sizes := []int{1, 3, 100, 5000, 7, sockReadSize, 512}
	for i := 0; len(got) < len(want); i++ {
		p := make([]byte, sizes[i%len(sizes)])
		n, err := r.Read(p)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		got = append(got, p[:n]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes out of order or wrong, want %d", len(got), len(want))
	}
	if len(w.writes) != 1 {
		t.Fatalf("%d stdin writes, want the batch flushed before the first socket read", len(w.writes))
	}
	if r.buf != nil {
		t.Fatal("the buffer is held with nothing unread")
	}

	srv.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := r.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	if r.buf != nil {
		t.Fatal("a read that waited kept the buffer")
	}
	srv.SetReadDeadline(time.Time{})
	client.Write([]byte("tail"))
	client.Close()
	b, err := io.ReadAll(r)
	if string(b) != "tail" || err != nil {
		t.Fatalf("read %q, %v; want the tail, then EOF", b, err)
	}
}

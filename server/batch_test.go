package server

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
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
	addr := newBenchServer(t, "sh", "-c", "cat > "+out)
	c, _, err := wstest.Dial(addr, "/", nil)
	if err != nil || c == nil {
		t.Fatal(err)
	}
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if string(b) == "one\ntwo\nthree\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program got %q, want the three lines", b)
		}
		time.Sleep(10 * time.Millisecond) // polling a file, not synchronising
	}
}

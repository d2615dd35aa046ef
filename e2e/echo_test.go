package e2e

// What a program's stdout becomes and what it reads: lines to text
// messages, binary mode, long lines, and a client too slow to read.

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

func TestEchoThroughCat(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	c := dial(t, s.addr, "/", nil)
	for _, msg := range []string{"hello", "", "héllo wörld ✓", strings.Repeat("z", 5000)} {
		echo(t, c, msg)
	}
}

func TestCounterLineByLine(t *testing.T) {
	t.Parallel()
	s := startServer(t, "../examples/bash/count.sh", "3")
	c := dial(t, s.addr, "/", nil)
	for i := 1; i <= 3; i++ {
		if got := readText(t, c); got != strconv.Itoa(i) {
			t.Fatalf("line %d: got %q", i, got)
		}
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %d %q, want 1000", ce.Code, ce.Reason)
	}
}

func TestFinalLineWithoutNewline(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sh", "-c", `printf 'first\nlast'`)
	c := dial(t, s.addr, "/", nil)
	if got := readText(t, c); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	if got := readText(t, c); got != "last" {
		t.Fatalf("got %q, want last", got)
	}
	readClose(t, c)
}

func TestBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--binary", "cat")
	c := dial(t, s.addr, "/", nil)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	write(t, c, wsproto.OpBinary, all)
	var got []byte
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(got) < len(all) {
		op, p, err := c.ReadMessage(nil)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		if op != wsproto.OpBinary {
			t.Fatalf("opcode %v, want binary", op)
		}
		got = append(got, p...)
	}
	if !bytes.Equal(got, all) {
		t.Fatalf("round trip changed the bytes:\n got %x\nwant %x", got, all)
	}
}

func TestLongLines(t *testing.T) {
	t.Parallel()
	t.Run("1 MiB echoed as one message", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "cat")
		c := dial(t, s.addr, "/", nil)
		echo(t, c, strings.Repeat("0123456789abcdef", 1<<16))
	})
	t.Run("16 MiB streamed in bounded memory", func(t *testing.T) {
		t.Parallel()
		const n = 16 << 20
		s := startServer(t, "sh", "-c", fmt.Sprintf(`head -c %d /dev/zero | tr '\0' a; echo; echo end`, n))
		before := memKiB(t, s.pid(), "VmRSS")
		c := dial(t, s.addr, "/", nil)
		c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
		op, r, err := c.NextReader()
		if err != nil || op != wsproto.OpText {
			t.Fatalf("next message: %v %v", op, err)
		}
		var total int
		buf := make([]byte, 64<<10)
		for {
			k, err := r.Read(buf)
			if bytes.Count(buf[:k], []byte("a")) != k {
				t.Fatalf("byte other than 'a' after %d bytes", total)
			}
			total += k
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", total, err)
			}
		}
		if total != n {
			t.Fatalf("got %d bytes, want %d", total, n)
		}
		if got := readText(t, c); got != "end" {
			t.Fatalf("next line %q, want end", got)
		}
		peak := memKiB(t, s.pid(), "VmHWM")
		if grew := peak - before; grew > 8<<10 {
			t.Fatalf("server peak RSS grew by %d KiB streaming a %d MiB line; want under 8 MiB", grew, n>>20)
		}
		t.Logf("server RSS %d KiB before, peak %d KiB", before, peak)
	})
}

func TestSlowClientBlocksProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "yes", "flood")
	before := memKiB(t, s.pid(), "VmRSS")
	c := dial(t, s.addr, "/", nil) // and never read
	var child int
	waitFor(t, 5*time.Second, "the program to start", func() bool {
		if kids := children(t, s.pid()); len(kids) == 1 {
			child = kids[0]
			return true
		}
		return false
	})
	// Blocked means asleep in a pipe write: sample until it is seen asleep
	// many times in a row.
	asleep := 0
	waitFor(t, 20*time.Second, "the flooding program to block", func() bool {
		if procState(child) == 'S' {
			asleep++
		} else {
			asleep = 0
		}
		return asleep >= 20
	})
	if grew := memKiB(t, s.pid(), "VmHWM") - before; grew > 16<<10 {
		t.Fatalf("server peak RSS grew by %d KiB with a client not reading; want under 16 MiB", grew)
	}
	c.Close()
	waitFor(t, 5*time.Second, "the program to be gone", func() bool { return !alive(child) })
}

package wsproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestWriteCoalesces: data writes wait for Flush, and then leave together,
// header and payload in one write.
func TestWriteCoalesces(t *testing.T) {
	t.Parallel()
	for _, role := range []Role{Server, Client} {
		t.Run(fmt.Sprint(role), func(t *testing.T) {
			t.Parallel()
			c, fc := newTestConn(role, nil, Config{})
			for i := range 10 {
				if err := c.WriteMessage(OpText, []byte(fmt.Sprint("line ", i))); err != nil {
					t.Fatal(err)
				}
			}
			if _, writes := fc.written(); writes != 0 {
				t.Fatalf("%d writes before Flush", writes)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			out, writes := fc.written()
			if writes != 1 {
				t.Fatalf("%d writes for 10 small messages, want 1", writes)
			}
			frames := parseFrames(t, out)
			if len(frames) != 10 {
				t.Fatalf("%d frames, want 10", len(frames))
			}
			for i, f := range frames {
				if !f.h.Fin || f.h.Op != OpText || f.h.Masked != (role == Client) || string(f.p) != fmt.Sprint("line ", i) {
					t.Fatalf("frame %d: %+v %q", i, f.h, f.p)
				}
			}
		})
	}
}

// TestWriteFragments writes a message in fragments with control frames
// between them, then a streamed one.
func TestWriteFragments(t *testing.T) {
	t.Parallel()
	c, fc := newTestConn(Server, nil, Config{})
	steps := []func() error{
		func() error { return c.WriteFragment(OpText, []byte("a"), false) },
		func() error { return c.WritePing([]byte("ping")) },
		func() error { return c.WriteFragment(OpText, []byte("b"), false) },
		func() error { return c.WriteFragment(OpText, nil, true) },
		func() error {
			w := c.NextWriter(OpBinary)
			for _, s := range []string{"x", "", "yz"} {
				if _, err := w.Write([]byte(s)); err != nil {
					return err
				}
			}
			if err := w.Close(); err != nil {
				return err
			}
			if _, err := w.Write([]byte("late")); err == nil {
				return errors.New("write after Close succeeded")
			}
			return nil
		},
		func() error { return c.WriteFragment(OpBinary, []byte("one"), true) },
		c.Flush,
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	out, _ := fc.written()
	var got []string
	for _, f := range parseFrames(t, out) {
		got = append(got, fmt.Sprintf("%v/%v/%s", f.h.Op, f.h.Fin, f.p))
	}
	want := []string{
		"text/false/a", "ping/true/ping", "continuation/false/b", "continuation/true/",
		"binary/false/x", "continuation/false/yz", "continuation/true/",
		"binary/true/one",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("frames\n%q\nwant\n%q", got, want)
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(c *Conn) error
	}{
		{"WriteMessage of a control opcode", func(c *Conn) error { return c.WriteMessage(OpPing, nil) }},
		{"WriteMessage of continuation", func(c *Conn) error { return c.WriteMessage(OpContinuation, nil) }},
		{"WriteFragment of close", func(c *Conn) error { return c.WriteFragment(OpClose, nil, true) }},
		{"WriteMessage inside a fragmented message", func(c *Conn) error {
			if err := c.WriteFragment(OpText, []byte("a"), false); err != nil {
				return nil
			}
			return c.WriteMessage(OpText, []byte("b"))
		}},
		{"ping over 125 bytes", func(c *Conn) error { return c.WritePing(make([]byte, 126)) }},
		{"close code 1006", func(c *Conn) error { return c.WriteClose(CloseAbnormal, "") }},
		{"close code 999", func(c *Conn) error { return c.WriteClose(999, "") }},
		{"close code 5000", func(c *Conn) error { return c.WriteClose(5000, "") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fc := newTestConn(Server, nil, Config{})
			if err := tc.write(c); err == nil {
				t.Fatal("no error")
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			out, _ := fc.written()
			for _, f := range parseFrames(t, out) {
				if f.h.Fin || f.h.Op != OpText {
					t.Fatalf("wrote %+v", f.h)
				}
			}
		})
	}
}

func TestWriteClose(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes; é is 2 bytes
	tests := []struct {
		name     string
		code     uint16
		reason   string
		wantBody string
	}{
		{"normal", CloseNormal, "", closeBody(1000, "")},
		{"with reason", CloseGoingAway, "going away", closeBody(1001, "going away")},
		{"no status", CloseNoStatus, "ignored", ""},
		{"long reason cut at a rune", CloseInternalError, long, closeBody(1011, long[:122])},
		{"ascii reason cut", 4000, strings.Repeat("a", 200), closeBody(4000, strings.Repeat("a", 123))},
		{"invalid UTF-8 reason", 3000, "a\xffb", closeBody(3000, "a\uFFFDb")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fc := newTestConn(Server, nil, Config{CloseTimeout: time.Minute})
			if err := c.WriteMessage(OpText, []byte("before")); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := c.WriteClose(tc.code, tc.reason); err != nil {
				t.Fatal(err)
			}
			if !c.CloseSent() {
				t.Fatal("CloseSent false")
			}
			if err := c.WriteClose(CloseNormal, "again"); err != ErrCloseSent {
				t.Fatalf("second WriteClose: %v, want ErrCloseSent", err)
			}
			for _, err := range []error{
				c.WriteMessage(OpText, []byte("x")),
				c.WriteFragment(OpBinary, []byte("x"), true),
				c.WritePing(nil),
			} {
				if err != ErrCloseSent {
					t.Fatalf("write after close: %v, want ErrCloseSent", err)
				}
			}
			out, _ := fc.written()
			frames := parseFrames(t, out)
			if len(frames) != 2 || string(frames[0].p) != "before" || frames[1].h.Op != OpClose {
				t.Fatalf("wrote %+v, want the message then one close", frames)
			}
			if p := frames[1].p; string(p) != tc.wantBody || len(p) > 125 || len(p) > 2 && !utf8.Valid(p[2:]) {
				t.Fatalf("close body %q, want %q", p, tc.wantBody)
			}
			fc.mu.Lock()
			rdl := fc.rdl
			fc.mu.Unlock()
			if rdl.Before(start.Add(time.Minute)) || rdl.After(time.Now().Add(time.Minute)) {
				t.Fatalf("read deadline %v, want the close timeout from now", rdl)
			}
		})
	}
}

// TestClientMasksCopy: a client's frames are masked on the wire, across
// buffer boundaries, and the caller's payload is left alone.
func TestClientMasksCopy(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 125, 4096, 10000, 70000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			c, fc := newTestConn(Client, nil, Config{WriteBufferSize: 512})
			p := seq(n)
			if err := c.WriteMessage(OpBinary, p); err != nil {
				t.Fatal(err)
			}
			if err := c.WriteMessage(OpBinary, p); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, seq(n)) {
				t.Fatal("payload changed by the write")
			}
			out, _ := fc.written()
			frames := parseFrames(t, out)
			if len(frames) != 2 {
				t.Fatalf("%d frames", len(frames))
			}
			for _, f := range frames {
				if !f.h.Masked || !bytes.Equal(f.p, p) {
					t.Fatalf("frame %+v, payload equal %v", f.h, bytes.Equal(f.p, p))
				}
			}
			if n >= 8 && frames[0].h.Mask == frames[1].h.Mask {
				t.Fatalf("two frames with mask %x", frames[0].h.Mask)
			}
			if n >= 8 && bytes.Contains(out, p[:8]) {
				t.Fatal("payload appears unmasked on the wire")
			}
		})
	}
}

// pipePair returns a Conn over one end of a net.Pipe and the other end.
func pipePair(t *testing.T, cfg Config) (*Conn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return NewConn(a, nil, cfg), b
}

// wait returns what ch delivers, failing the test after limit.
func wait[T any](t *testing.T, ch <-chan T, limit time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(limit):
		t.Fatalf("%s: still waiting after %v", what, limit)
		panic("unreachable")
	}
}

// TestCloseTimeout: after our close, a peer that reads but never answers
// lets the reader return within the close timeout.
func TestCloseTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	c, peer := pipePair(t, Config{CloseTimeout: timeout})
	go io.Copy(io.Discard, peer) // reads everything, answers nothing
	start := time.Now()
	if err := c.WriteClose(CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.NextReader()
		done <- err
	}()
	err := wait(t, done, 10*time.Second, "reader after close")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("reader error %v, want a deadline", err)
	}
	if d := time.Since(start); d < timeout {
		t.Fatalf("reader returned after %v, before the close timeout", d)
	}
}

// TestAbortWrites: AbortWrites frees a blocked data write, and a ping
// written after it fails too although the peer reads, whereas a ping sets
// a write deadline of its own.
func TestAbortWrites(t *testing.T) {
	t.Parallel()
	t.Run("blocked write", func(t *testing.T) {
		t.Parallel()
		c, _ := pipePair(t, Config{CloseTimeout: time.Minute})
		blocked := make(chan error, 1)
		go func() { // the peer reads nothing: the flush blocks
			c.WriteMessage(OpText, []byte("stuck"))
			blocked <- c.Flush()
		}()
		c.AbortWrites()
		if err := wait(t, blocked, 10*time.Second, "the blocked flush"); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("blocked flush: %v, want a deadline", err)
		}
	})
	t.Run("ping after", func(t *testing.T) {
		t.Parallel()
		c, peer := pipePair(t, Config{CloseTimeout: time.Minute})
		go io.Copy(io.Discard, peer) // everything written would be read
		c.AbortWrites()
		if err := c.WritePing(nil); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ping after AbortWrites: %v, want a deadline", err)
		}
	})
}

// TestCloseTimeoutNoReader: a peer that reads nothing cannot hold
// WriteClose, nor the reader's pong, beyond the close timeout.
func TestCloseTimeoutNoReader(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	t.Run("WriteClose", func(t *testing.T) {
		t.Parallel()
		c, _ := pipePair(t, Config{CloseTimeout: timeout})
		done := make(chan error, 1)
		go func() { done <- c.WriteClose(CloseNormal, "") }()
		if err := wait(t, done, 10*time.Second, "WriteClose"); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WriteClose: %v, want a deadline", err)
		}
	})
	t.Run("pong", func(t *testing.T) {
		t.Parallel()
		c, peer := pipePair(t, Config{CloseTimeout: timeout})
		go peer.Write(cframe(true, OpPing, "are you there"))
		done := make(chan error, 1)
		go func() {
			_, _, err := c.NextReader()
			done <- err
		}()
		if err := wait(t, done, 10*time.Second, "reader answering a ping"); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("reader: %v, want a deadline", err)
		}
	})
}

// tcpPair returns the two ends of a loopback TCP connection. Unlike
// net.Pipe it buffers, as real peers do: over an unbuffered pipe a reader
// answering a ping waits for the data writer, who waits for the peer's
// reader, who may be waiting the same way.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- nc
	}()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := wait(t, accepted, 10*time.Second, "accept")
	if a == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestConcurrentUse runs a client and a server over loopback TCP: the
// client writes messages and pings while reading the echoes, the server
// echoes and pings from another goroutine, then the client closes. Run
// with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	a, b := tcpPair(t)
	srv := NewConn(a, nil, Config{Role: Server, CloseTimeout: 5 * time.Second})
	cli := NewConn(b, nil, Config{Role: Client, CloseTimeout: 5 * time.Second})
	const n = 200

	srvDone := make(chan error, 1)
	go func() {
		var buf []byte
		for {
			op, p, err := srv.ReadMessage(buf)
			if err != nil {
				srvDone <- err
				return
			}
			buf = p
			if err := srv.WriteMessage(op, p); err != nil {
				srvDone <- err
				return
			}
			if err := srv.Flush(); err != nil {
				srvDone <- err
				return
			}
		}
	}()
	pingDone := make(chan error, 1)
	go func() {
		for range 20 {
			if err := srv.WritePing([]byte("keepalive")); err != nil {
				pingDone <- err
				return
			}
		}
		pingDone <- nil
	}()
	cliRead := make(chan error, 1)
	go func() {
		for i := range n {
			_, p, err := cli.ReadMessage(nil)
			if err != nil {
				cliRead <- err
				return
			}
			if want := fmt.Sprint("message ", i); string(p) != want {
				cliRead <- fmt.Errorf("echo %q, want %q", p, want)
				return
			}
		}
		_, _, err := cli.ReadMessage(nil) // the close reply
		cliRead <- err
	}()
	for i := range n {
		if err := cli.WriteFragment(OpText, []byte("message "), false); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if err := cli.WritePing([]byte("between")); err != nil {
				t.Fatal(err)
			}
		}
		if err := cli.WriteFragment(OpText, []byte(fmt.Sprint(i)), true); err != nil {
			t.Fatal(err)
		}
		if err := cli.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(t, pingDone, 10*time.Second, "server pings"); err != nil {
		t.Fatal(err)
	}
	if err := cli.WriteClose(CloseNormal, "done"); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if err := wait(t, srvDone, 10*time.Second, "server"); !errors.As(err, &ce) || !ce.Remote || ce.Code != CloseNormal || ce.Reason != "done" {
		t.Fatalf("server ended with %v, want the client's close", err)
	}
	if err := wait(t, cliRead, 10*time.Second, "client reader"); !errors.As(err, &ce) || !ce.Remote || ce.Code != CloseNormal {
		t.Fatalf("client ended with %v, want the server's close reply", err)
	}
}

// TestPeerCloseWhileWriteBlocked: the peer sends its close and then reads
// nothing while a data write is blocked. The reader must still return the
// peer's close within the close timeout (it cannot wait for the write lock
// for ever), and no data frame may be written after it. The same holds
// for a violation found while the writer is blocked.
func TestPeerCloseWhileWriteBlocked(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		in   []byte
		want uint16
	}{
		{"peer close", cframe(true, OpClose, closeBody(CloseNormal, "")), CloseNormal},
		{"violation", cframe(true, Opcode(3), ""), CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, peer := pipePair(t, Config{CloseTimeout: timeout})
			blocked := make(chan error, 1)
			go func() { // the peer reads only one byte: the flush blocks
				c.WriteMessage(OpText, []byte("stuck"))
				blocked <- c.Flush()
			}()
			// Once a byte of the frame arrives the flush is under way, and it
			// stays blocked on the rest.
			peer.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(peer, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			go peer.Write(tc.in)
			done := make(chan error, 1)
			go func() {
				_, _, err := c.NextReader()
				done <- err
			}()
			err := wait(t, done, 10*time.Second, "reader after the peer's close")
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tc.want {
				t.Fatalf("reader: %v, want close %d", err, tc.want)
			}
			if err := wait(t, blocked, 10*time.Second, "the blocked flush"); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("blocked flush: %v, want a deadline", err)
			}
			if err := c.WriteMessage(OpText, []byte("late")); err != ErrCloseSent {
				t.Fatalf("data write after the close: %v, want ErrCloseSent", err)
			}
		})
	}
}

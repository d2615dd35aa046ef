//go:build !tiny

package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// panicCodec is the line codec with a bug: it panics on the message
// "panic in" (in the read pump) and on the output line "panic out" (in the
// write pump).
type panicCodec struct{ procio.Codec }

func (c panicCodec) WriteMessage(stdin io.Writer, msg procio.Message) error {
	p, err := io.ReadAll(msg.Reader)
	if err != nil {
		return err
	}
	if string(p) == "panic in" {
		panic("injected fault in the read pump")
	}
	msg.Reader = bytes.NewReader(p)
	return c.Codec.WriteMessage(stdin, msg)
}

func (c panicCodec) ReadMessages(stdout procio.Output, out procio.Sink) error {
	return c.Codec.ReadMessages(stdout, panicSink{out})
}

type panicSink struct{ procio.Sink }

func (s panicSink) WriteFragment(binary bool, p []byte, fin bool) error {
	if string(p) == "panic out" {
		panic("injected fault in the write pump")
	}
	return s.Sink.WriteFragment(binary, p, fin)
}

// TestPanicEndsOneConnection: a panic while serving one connection, in
// either pump, fails that connection alone with 1011, logs the panic with
// its stack and the connection's id, stops its program, and every other
// connection goes on; so do new ones.
func TestPanicEndsOneConnection(t *testing.T) {
	path, err := exec.LookPath("cat")
	if err != nil {
		t.Skipf("cat not found: %v", err)
	}
	var logs lockedBuffer
	s, err := New(Config{
		Command:    []string{"cat"},
		Path:       path,
		Addresses:  []string{"127.0.0.1:0"},
		CloseGrace: 100 * time.Millisecond,
		KillGrace:  100 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := s.codec
	s.codec = func() procio.Codec { return panicCodec{lines()} }
	ts := httptest.NewServer(s)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	roundTrip := func(c *wsproto.Conn, msg string) {
		t.Helper()
		if err := c.WriteMessage(wsproto.OpText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
		_, p, err := c.ReadMessage(nil)
		if err != nil || string(p) != msg {
			t.Fatalf("echo of %q: %q, %v\n%s", msg, p, err, logs.String())
		}
	}
	bystander := dialTest(t, addr)
	defer bystander.Close()
	roundTrip(bystander, "before")

	for i, fault := range []string{"panic in", "panic out"} {
		t.Run(fault, func(t *testing.T) {
			c := dialTest(t, addr)
			defer c.Close()
			roundTrip(c, "fine so far")
			if err := c.WriteMessage(wsproto.OpText, []byte(fault)); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage(nil)
			var ce *wsproto.CloseError
			if !errors.As(err, &ce) || ce.Code != wsproto.CloseInternalError {
				t.Fatalf("after the fault: %v, want close 1011\n%s", err, logs.String())
			}
			// Its program is stopped and reaped: only the bystander's runs.
			waitFor(t, 10*time.Second, func() error {
				if n := s.running.Load(); n != 1 {
					return fmt.Errorf("%d programs running, want 1", n)
				}
				return nil
			})
			roundTrip(bystander, "still here")
			fresh := dialTest(t, addr)
			defer fresh.Close()
			roundTrip(fresh, "new connection")

			log := logs.String()
			id := fmt.Sprintf("conn=%d", 2+2*i) // the bystander is 1; each case dials its own and a fresh one
			if !strings.Contains(log, `msg=panic `+id) || !strings.Contains(log, "injected fault") ||
				!strings.Contains(log, "goroutine ") {
				t.Fatalf("no panic line with %s and its stack in the log:\n%s", id, log)
			}
			if !strings.Contains(log, "msg=disconnect "+id) || !strings.Contains(log, "code=1011") {
				t.Fatalf("no disconnect line with code 1011 for %s:\n%s", id, log)
			}
		})
	}
}

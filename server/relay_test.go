//go:build !tiny

package server

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	rtmetrics "runtime/metrics" // metrics is the server's
	"strconv"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/wsproto"
)

// relayClient dials an in-process server running argv.
func relayClient(tb testing.TB, argv ...string) *wsproto.Conn {
	tb.Helper()
	addr := testServerAddr(tb, argv...)
	c := dialTest(tb, addr)
	tb.Cleanup(func() { c.Close() })
	return c
}

// echo sends n messages of msg through the relay, in batches of batch
// (flushed together, so the program's output comes back many lines per
// read), and reads every echo back into buf, checking it.
func echo(tb testing.TB, c *wsproto.Conn, msg, buf []byte, n, batch int) {
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		for range k {
			if err := c.WriteMessage(wsproto.OpText, msg); err != nil {
				tb.Fatal(err)
			}
		}
		if err := c.Flush(); err != nil {
			tb.Fatal(err)
		}
		for range k {
			_, p, err := c.ReadMessage(buf)
			if err != nil {
				tb.Fatal(err)
			}
			if !bytes.Equal(p, msg) {
				tb.Fatalf("echo %q, want %q", p, msg)
			}
		}
		sent += k
	}
}

// TestRelayZeroAllocs pins the steady-state claim of the relay: a message
// through the server (socket, stdin, cat, stdout, socket) allocates nothing,
// whether messages come one at a time or many together. The client runs in
// the same process and is itself allocation-free (wsproto's
// TestZeroAllocs), so every allocation counted here is the server's; a
// per-message allocation anywhere in readPump, writePump, the codec or
// wsproto gives at least 1 per message and fails the test.
func TestRelayZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own (and sync.Pool drops items at random under it)")
	}
	for _, tc := range []struct {
		name    string
		framing Framing
		size    int
		batch   int
	}{
		{"one at a time", FramingLines, 64, 1},
		{"batches of 64", FramingLines, 64, 64},
		{"4 KiB one at a time", FramingLines, 4 << 10, 1},
		{"40 KiB fragmented", FramingLines, 40 << 10, 1},
		{"json one at a time", FramingJSON, 64, 1},
		{"json batches of 64", FramingJSON, 64, 64},
		{"json 40 KiB", FramingJSON, 40 << 10, 1},
		{"length one at a time", FramingLength, 64, 1},
		{"length batches of 64", FramingLength, 64, 64},
		{"length 40 KiB", FramingLength, 40 << 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialTest(t, strings.TrimPrefix(newFramedTestServer(t, tc.framing, "cat").URL, "http://"))
			t.Cleanup(func() { c.Close() })
			msg := bytes.Repeat([]byte("x"), tc.size)
			buf := make([]byte, 0, tc.size)
			echo(t, c, msg, buf, 512, tc.batch) // warm up: buffers, pools, goroutine stacks
			const n = 2048
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			echo(t, c, msg, buf, n, tc.batch)
			runtime.ReadMemStats(&after)
			// A little slack for the runtime's and the test framework's own
			// allocations, which are not per message.
			if per := float64(after.Mallocs-before.Mallocs) / n; per > 0.05 {
				t.Fatalf("%.2f allocations per message (%d over %d messages), want 0",
					per, after.Mallocs-before.Mallocs, n)
			}
		})
	}
}

// The relay benchmarks run the server in process, so that `go test
// -cpuprofile` profiles it (with the client, which is small beside it):
//
//	go test -run '^$' -bench Relay -cpuprofile cpu.out ./server
//	go tool pprof -top server.test cpu.out

// relayEcho is the setup of the 64-byte echo benchmarks: a client of an
// in-process cat, the message and a buffer for its echo.
func relayEcho(b *testing.B) (c *wsproto.Conn, msg, buf []byte) {
	const size = 64
	b.SetBytes(size)
	b.ReportAllocs()
	return relayClient(b, "cat"), bytes.Repeat([]byte("x"), size), make([]byte, 0, size)
}

// BenchmarkRelayRoundTrip is one message at a time, each waiting for its
// echo.
func BenchmarkRelayRoundTrip(b *testing.B) {
	c, msg, buf := relayEcho(b)
	for b.Loop() {
		echo(b, c, msg, buf, 1, 1)
	}
}

// BenchmarkRelayPipelined writes messages, flushed 32 at a time, while
// reading the echoes.
func BenchmarkRelayPipelined(b *testing.B) {
	c, msg, buf := relayEcho(b)
	done := make(chan error, 1)
	n := b.N
	b.ResetTimer()
	go func() {
		for i := range n {
			if err := c.WriteMessage(wsproto.OpText, msg); err != nil {
				done <- err
				return
			}
			if i%32 == 31 || i == n-1 {
				if err := c.Flush(); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	for range n {
		if _, _, err := c.ReadMessage(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRelayStream reads `seq 100000` per op, one message per line.
func BenchmarkRelayStream(b *testing.B) {
	const lines = 100000
	addr := testServerAddr(b, "seq", strconv.Itoa(lines))
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		c := dialTest(b, addr)
		n := 0
		for {
			_, _, err := c.ReadMessage(buf)
			if err != nil {
				var ce *wsproto.CloseError
				if !errors.As(err, &ce) || ce.Code != wsproto.CloseNormal {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		c.Close()
		if n != lines {
			b.Fatalf("%d messages, want %d", n, lines)
		}
	}
	b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkRelayCycle is one connection's life: connect, "hi" and its echo,
// close, program reaped (the server closes the socket after that). Beside
// the allocations (the client's included) it reports the goroutines the
// server starts per cycle, each a wake-up to schedule (docs/benchmarks.md,
// "Where a connection's microseconds go").
func BenchmarkRelayCycle(b *testing.B) {
	addr := testServerAddr(b, "cat")
	b.ReportAllocs()
	created := []rtmetrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	rtmetrics.Read(created)
	before := created[0].Value.Uint64()
	for b.Loop() {
		c := dialTest(b, addr)
		echo(b, c, []byte("hi"), nil, 1, 1)
		c.WriteClose(wsproto.CloseNormal, "")
		for {
			if _, _, err := c.NextReader(); err != nil {
				break
			}
		}
		io.Copy(io.Discard, c.NetConn())
		c.Close()
	}
	rtmetrics.Read(created)
	b.ReportMetric(float64(created[0].Value.Uint64()-before)/float64(b.N), "goroutines/op")
}

// BenchmarkRelayBigLine is a 1 MiB line through cat and back.
func BenchmarkRelayBigLine(b *testing.B) {
	c := relayClient(b, "cat")
	msg := bytes.Repeat([]byte("x"), 1<<20)
	buf := make([]byte, 0, 1<<20)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			err := c.WriteMessage(wsproto.OpText, msg)
			if err == nil {
				err = c.Flush()
			}
			done <- err
		}()
		if _, p, err := c.ReadMessage(buf); err != nil || len(p) != len(msg) {
			b.Fatalf("echo of %d bytes: %v", len(p), err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

//go:build !tiny

package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

func TestMain(m *testing.M) {
	base := goroutines()
	code := m.Run()
	// -test.fuzz starts os/signal's goroutine for good: not a leak.
	fuzzing := flag.Lookup("test.fuzz") != nil && flag.Lookup("test.fuzz").Value.String() != ""
	if code == 0 && !fuzzing {
		if n := settle(base); n > base {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "leaked goroutines: %d at start, %d at end\n%s\n", base, n, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

// settle waits up to 5 s for the goroutine count to fall to base.
func settle(base int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := goroutines()
	for n > base && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling a counter, not synchronising
		n = goroutines()
	}
	return n
}

// goroutines counts the goroutines but procio's watcher and forker, which
// start with the first program and live as long as the process.
func goroutines() int {
	return runtime.NumGoroutine() - countStacks("procio.(*watcher).run") - countStacks("procio.forker.run")
}

// lowest returns the lowest goroutine count seen over d: the baseline once
// the warm-up connection's goroutines have ended. It counts as settle does,
// without procio's watcher and forker: a raw count would include them in
// the baseline but not in settle's count, letting leaked goroutines pass.
func lowest(d time.Duration) int {
	low := goroutines()
	for end := time.Now().Add(d); time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond) // sampling a counter, not synchronising
		low = min(low, goroutines())
	}
	return low
}

// waitFor polls cond until it returns nil, failing tb with cond's last
// error once d has passed. The error says what is awaited and what was seen
// instead, so a timeout reports the state that kept the test waiting.
func waitFor(tb testing.TB, d time.Duration, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising
	}
}

// newTestServer serves argv in process on loopback.
func newTestServer(tb testing.TB, argv ...string) *httptest.Server {
	tb.Helper()
	return newFramedTestServer(tb, FramingLines, argv...)
}

// newFramedTestServer is newTestServer in framing f.
func newFramedTestServer(tb testing.TB, f Framing, argv ...string) *httptest.Server {
	tb.Helper()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		tb.Skipf("%s not found: %v", argv[0], err)
	}
	s, err := New(Config{
		Command:    argv,
		Path:       path,
		Addresses:  []string{"127.0.0.1:0"},
		CloseGrace: 100 * time.Millisecond,
		KillGrace:  100 * time.Millisecond,
		Framing:    f,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return ts
}

// testServerAddr serves argv in process on loopback, as newTestServer
// does, and returns its host:port.
func testServerAddr(tb testing.TB, argv ...string) string {
	tb.Helper()
	return strings.TrimPrefix(newTestServer(tb, argv...).URL, "http://")
}

// dialTest opens a WebSocket to addr's "/". wstest.Dial answers a refused
// handshake with a nil Conn and a nil error, so the refusal is reported
// from the response: its status and body.
func dialTest(tb testing.TB, addr string) *wsproto.Conn {
	tb.Helper()
	c, resp, err := wstest.Dial(addr, "/", nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	if c == nil {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("dial %s: refused: %s %q", addr, resp.Status, body)
	}
	return c
}

// TestConnectionsLeakNoGoroutines runs many short connections in process
// and checks that every goroutine they started has ended.
func TestConnectionsLeakNoGoroutines(t *testing.T) {
	ts := newTestServer(t, "cat")
	addr := strings.TrimPrefix(ts.URL, "http://")
	cycle := func() {
		c := dialTest(t, addr)
		defer c.Close()
		c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.WriteMessage(wsproto.OpText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		c.Flush()
		if _, p, err := c.ReadMessage(nil); err != nil || string(p) != "hi" {
			t.Fatalf("echo: %q %v", p, err)
		}
		c.WriteClose(wsproto.CloseNormal, "")
		var ce *wsproto.CloseError
		if _, _, err := c.ReadMessage(nil); !errors.As(err, &ce) {
			t.Fatalf("want the close echo, got %v", err)
		}
	}
	cycle() // warm up pools and the HTTP server's own goroutines
	ts.CloseClientConnections()
	base := lowest(time.Second)
	for i := 0; i < 200; i++ {
		cycle()
	}
	if n := settle(base); n > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after 200 connections\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestCloseFor(t *testing.T) {
	tests := []struct {
		name   string
		argv   []string
		code   uint16
		reason string
	}{
		{"success", []string{"true"}, wsproto.CloseNormal, ""},
		{"exit 3", []string{"sh", "-c", "exit 3"}, wsproto.CloseInternalError, "exit status 3"},
		{"signal", []string{"sh", "-c", "kill -TERM $$"}, wsproto.CloseInternalError, "signal: terminated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.argv[0], tc.argv[1:]...)
			cmd.Run()
			cf := closeFor(cmd.ProcessState)
			if cf.code != tc.code || cf.reason != tc.reason {
				t.Fatalf("closeFor = %d %q, want %d %q", cf.code, cf.reason, tc.code, tc.reason)
			}
		})
	}
}

// countStacks counts the goroutines whose stack mentions fn.
func countStacks(fn string) int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// TestIdleConnectionsHoldOneGoroutine: once a program's stdout has been
// quiet for quietAfter, its connection holds only the read pump's
// goroutine, and the write pump comes back when output does.
func TestIdleConnectionsHoldOneGoroutine(t *testing.T) {
	addr := testServerAddr(t, "cat")
	const n = 8
	var conns []*wsproto.Conn
	for i := range n {
		c := dialTest(t, addr)
		defer c.Close()
		conns = append(conns, c)
		msg := []byte(fmt.Sprintf("first %d", i))
		echo(t, c, msg, nil, 1, 1)
	}
	waitFor(t, quietAfter+10*time.Second, func() error {
		if n := countStacks("server.(*conn).writePump"); n > 0 {
			return fmt.Errorf("%d write pumps still running after the last output", n)
		}
		return nil
	})
	if got := countStacks("server.(*conn).relay"); got != n {
		t.Fatalf("%d read pumps for %d connections", got, n)
	}
	for i, c := range conns {
		echo(t, c, []byte(fmt.Sprintf("again %d", i)), nil, 3, 1) // the write pump is back
	}
}

// TestNewChecksOnce: the rules on a Config that New checks come back as a
// *ConfigError naming the fields at fault, so that main can name its flags.
func TestNewChecksOnce(t *testing.T) {
	t.Parallel()
	base := Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"}}
	tests := []struct {
		name   string
		change func(*Config)
		fields []string
	}{
		{"passstderr with binary", func(c *Config) { c.PassStderr, c.Framing = true, FramingBinary }, []string{"PassStderr", "Framing"}},
		{"subprotocol", func(c *Config) { c.Subprotocols = []string{"a b"} }, []string{"Subprotocols"}},
		{"header bytes", func(c *Config) { c.MaxHeaderBytes = 100 }, []string{"MaxHeaderBytes"}},
		{"dir with command", func(c *Config) { c.Dir = t.TempDir() }, []string{"Dir", "Command"}},
		{"console with static", func(c *Config) { c.DevConsole, c.StaticDir = true, t.TempDir() }, []string{"DevConsole", "StaticDir"}},
		{"nothing", func(c *Config) { c.Command, c.Path = nil, "" }, []string{"Command"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.change(&cfg)
			_, err := New(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || !slices.Equal(ce.Fields, tc.fields) {
				t.Fatalf("New: %v, want a ConfigError on %v", err, tc.fields)
			}
		})
	}
}

func TestParseFraming(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Framing
		ok   bool
	}{
		{"lines", FramingLines, true}, {"binary", FramingBinary, true}, {"json", FramingJSON, true},
		{"length", FramingLength, true}, {"JSON", FramingJSON, true}, {"", 0, false}, {"line", 0, false},
	} {
		got, err := ParseFraming(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseFraming(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && !strings.EqualFold(got.String(), tc.in) {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
	if _, err := New(Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"}, Framing: 9}); err == nil {
		t.Error("New accepted framing 9")
	}
}

//go:build !tiny

package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// broadcastServer serves argv in process with Broadcast on, cfg's other
// fields added, and returns its address and its log.
func broadcastServer(tb testing.TB, cfg Config, argv ...string) (string, *lockedBuffer) {
	tb.Helper()
	if len(argv) > 0 {
		path, err := exec.LookPath(argv[0])
		if err != nil {
			tb.Skipf("%s not found: %v", argv[0], err)
		}
		cfg.Command, cfg.Path = argv, path
	}
	logs := &lockedBuffer{}
	cfg.Broadcast = true
	cfg.Addresses = []string{"127.0.0.1:0"}
	cfg.CloseGrace = 100 * time.Millisecond
	cfg.KillGrace = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s)
	tb.Cleanup(func() {
		ts.Close()
		if tb.Failed() {
			tb.Logf("server log:\n%s", logs.String())
		}
	})
	return strings.TrimPrefix(ts.URL, "http://"), logs
}

// clients dials n clients of addr's path.
func clients(tb testing.TB, addr, path string, n int, hdr http.Header) []*wsproto.Conn {
	tb.Helper()
	cs := make([]*wsproto.Conn, n)
	for i := range cs {
		c, resp, err := wstest.Dial(addr, path, hdr)
		if err != nil || c == nil {
			tb.Fatalf("dial %d: %v %v", i, resp, err)
		}
		tb.Cleanup(func() { c.Close() })
		cs[i] = c
	}
	return cs
}

func send(tb testing.TB, c *wsproto.Conn, op wsproto.Opcode, p string) {
	tb.Helper()
	c.NetConn().SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(op, []byte(p)); err != nil {
		tb.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// recv reads one message, within 10 s.
func recv(tb testing.TB, c *wsproto.Conn) (wsproto.Opcode, string) {
	tb.Helper()
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	op, p, err := c.ReadMessage(nil)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return op, string(p)
}

func recvText(tb testing.TB, c *wsproto.Conn) string {
	tb.Helper()
	op, p := recv(tb, c)
	if op != wsproto.OpText {
		tb.Fatalf("%v message %q, want text", op, p)
	}
	return p
}

// recvClose reads until the server's close frame and returns it,
// failing on any message before it unless skip is set.
func recvClose(tb testing.TB, c *wsproto.Conn, skip bool) *wsproto.CloseError {
	tb.Helper()
	c.NetConn().SetReadDeadline(time.Now().Add(15 * time.Second))
	for range 1 << 20 {
		_, p, err := c.ReadMessage(nil)
		if err == nil {
			if !skip {
				tb.Fatalf("message %q before the close", p)
			}
			continue
		}
		var ce *wsproto.CloseError
		if !errors.As(err, &ce) || !ce.Remote {
			tb.Fatalf("want the server's close, got %v", err)
		}
		return ce
	}
	tb.Fatal("no close frame")
	return nil
}

// TestBroadcastReachesEveryClient: a line of the shared program reaches
// every client, and a client's message reaches the program (cat echoes
// it to all).
func TestBroadcastReachesEveryClient(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name    string
		framing Framing
		op      wsproto.Opcode
	}{{"lines", FramingLines, wsproto.OpText}, {"binary", FramingBinary, wsproto.OpBinary}} {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := broadcastServer(t, Config{Framing: mode.framing}, "cat")
			cs := clients(t, addr, "/", 5, nil)
			for i, from := range cs {
				msg := fmt.Sprintf("hello from %d", i)
				send(t, from, mode.op, msg)
				for j, c := range cs {
					op, got := recv(t, c)
					if op != mode.op || got != msg {
						t.Fatalf("client %d got %v %q, want %v %q", j, op, got, mode.op, msg)
					}
				}
			}
		})
	}
}

// TestBroadcastInputWhole: many clients sending at once, messages larger
// than a pipe's atomic write: each reaches the program whole, in each
// client's order, and with ids every line of a message carries its
// sender's id.
func TestBroadcastInputWhole(t *testing.T) {
	t.Parallel()
	// A queue that holds all the output: the test is of the input, and the
	// senders' flood can outrun the fan-out on a busy machine.
	addr, _ := broadcastServer(t, Config{BroadcastIDs: true, BroadcastQueue: 8 << 20}, "cat")
	const senders, each = 4, 40
	cs := clients(t, addr, "/", senders+1, nil)
	watch := cs[senders]
	pad := strings.Repeat("x", 10<<10) // over PIPE_BUF: no write of it is atomic
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(2)
		go func() { // a sender gets every line too
			defer wg.Done()
			c := cs[i]
			c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
			for range senders * (each + 1) {
				if _, _, err := c.ReadMessage(nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			c := cs[i]
			c.NetConn().SetWriteDeadline(time.Now().Add(30 * time.Second))
			for j := range each {
				msg := fmt.Sprintf("s%d-%d-%s", i, j, pad)
				if j == each-1 {
					msg = fmt.Sprintf("s%d-last\nsecond line", i)
				}
				if err := c.WriteMessage(wsproto.OpText, []byte(msg)); err != nil {
					t.Error(err)
					return
				}
				if err := c.Flush(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := map[string]int{} // sender's id: its next message
	ids := map[string]string{}
	for range senders * (each + 1) {
		line := recvText(t, watch)
		id, msg, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("line without an id: %.40q", line)
		}
		if msg == "second line" {
			if next[id] != each {
				t.Fatalf("client %s's second line after %d messages", id, next[id])
			}
			next[id]++
			continue
		}
		sender, _, _ := strings.Cut(msg, "-")
		if prev, seen := ids[id]; seen && prev != sender {
			t.Fatalf("id %s carries %s's and %s's messages", id, prev, sender)
		}
		ids[id] = sender
		want := fmt.Sprintf("%s-%d-%s", sender, next[id], pad)
		if next[id] == each-1 {
			want = sender + "-last"
		}
		if msg != want {
			t.Fatalf("from %s: %.60q (%d bytes), want %.60q (%d bytes)", id, msg, len(msg), want, len(want))
		}
		next[id]++
	}
	wg.Wait()
	if len(ids) != senders {
		t.Fatalf("%d senders seen, want %d", len(ids), senders)
	}
}

// TestBroadcastAddressing: with ids, "@ID TEXT" goes to that client
// alone, "@* TEXT" to all as TEXT, a line addressed to a client that is
// not there to nobody, any other line to all.
func TestBroadcastAddressing(t *testing.T) {
	t.Parallel()
	script := `while IFS= read -r line; do
	id=${line%% *}; msg=${line#* }
	echo "@$id you said $msg"
	echo "@999999 nobody"
	echo "@* @$id looks addressed"
	echo "$id said $msg"
done`
	addr, _ := broadcastServer(t, Config{BroadcastIDs: true}, "sh", "-c", script)
	cs := clients(t, addr, "/", 2, nil)
	a, b := cs[0], cs[1]
	send(t, a, wsproto.OpText, "hi")
	if got := recvText(t, a); got != "you said hi" {
		t.Fatalf("sender got %q first, want its answer alone", got)
	}
	lookalike := recvText(t, a)
	id, ok := strings.CutSuffix(strings.TrimPrefix(lookalike, "@"), " looks addressed")
	if !ok || id == "" {
		t.Fatalf("sender got %q, want @ID looks addressed", lookalike)
	}
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("id %q is not a number", id)
	}
	for _, c := range cs {
		if c == b {
			if got := recvText(t, b); got != lookalike {
				t.Fatalf("other client got %q, want %q", got, lookalike)
			}
		}
		if got := recvText(t, c); got != id+" said hi" {
			t.Fatalf("got %q, want %q", got, id+" said hi")
		}
	}
}

// TestBroadcastEvents: join and leave lines reach the program, the join
// line with the client's request, each value escaped.
func TestBroadcastEvents(t *testing.T) {
	t.Parallel()
	addr, _ := broadcastServer(t, Config{BroadcastEvents: true, PassEnv: []string{"PATH"}}, "cat")
	a := clients(t, addr, "/room?x=1", 1, nil)[0]
	first := recvText(t, a) // its own join, echoed by cat
	if !strings.HasPrefix(first, "+") {
		t.Fatalf("first line %q, want a join event", first)
	}
	hdr := http.Header{}
	hdr.Set("User-Agent", "a b%c\tz")
	b, resp, err := wstest.Dial(addr, "/other/path?q=a%20b", hdr)
	if err != nil || b == nil {
		t.Fatal(resp, err)
	}
	join := recvText(t, a)
	fields := strings.Split(join, " ")
	id, ok := strings.CutPrefix(fields[0], "+")
	if !ok {
		t.Fatalf("%q, want a join event", join)
	}
	vars := map[string]string{}
	for _, f := range fields[1:] {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			t.Fatalf("field %q of %q", f, join)
		}
		vars[name] = value
	}
	_, port, _ := net.SplitHostPort(b.NetConn().LocalAddr().String())
	want := map[string]string{
		"REMOTE_ADDR":     "127.0.0.1",
		"REMOTE_PORT":     port,
		"SCRIPT_NAME":     "/", // one COMMAND, as websocketd
		"PATH_INFO":       "/other/path",
		"QUERY_STRING":    "q=a%2520b",
		"REQUEST_URI":     "/other/path?q=a%2520b",
		"HTTP_USER_AGENT": "a%20b%25c%09z",
		"HTTP_HOST":       addr,
	}
	for k, v := range want {
		if got, ok := vars[k]; !ok || got != v {
			t.Errorf("%s=%q (set %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"PATH", "SERVER_SOFTWARE", "UNIQUE_ID", "REMOTE_USER"} {
		if _, ok := vars[k]; ok {
			t.Errorf("%s is in the join event", k)
		}
	}
	send(t, b, wsproto.OpText, "hello")
	if got := recvText(t, a); got != id+" hello" {
		t.Fatalf("%q, want %q", got, id+" hello")
	}
	b.WriteClose(wsproto.CloseNormal, "")
	if got := recvText(t, a); got != "-"+id {
		t.Fatalf("%q, want the leave event -%s", got, id)
	}
	b.Close()
}

// TestBroadcastEnvironment: the shared program gets the server's CGI
// variables and --passenv, none of a client's.
func TestBroadcastEnvironment(t *testing.T) {
	t.Parallel()
	addr, _ := broadcastServer(t, Config{PassEnv: []string{"PATH"}}, "sh", "-c", "env; echo end; exec cat")
	c := clients(t, addr, "/x?y=1", 1, nil)[0]
	env := map[string]string{}
	for line := recvText(t, c); line != "end"; line = recvText(t, c) {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	for _, k := range []string{"SERVER_SOFTWARE", "GATEWAY_INTERFACE", "SCRIPT_NAME", "PATH"} {
		if _, ok := env[k]; !ok {
			t.Errorf("%s not set", k)
		}
	}
	if env["SCRIPT_NAME"] != "/" || env["GATEWAY_INTERFACE"] != "CGI/1.1" {
		t.Errorf("SCRIPT_NAME=%q GATEWAY_INTERFACE=%q", env["SCRIPT_NAME"], env["GATEWAY_INTERFACE"])
	}
	for _, k := range []string{"REMOTE_ADDR", "REMOTE_PORT", "QUERY_STRING", "HTTP_HOST", "UNIQUE_ID", "REQUEST_URI", "PATH_INFO", "PATH_TRANSLATED"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q: a client's variable in the shared environment", k, v)
		}
	}
}

// TestBroadcastDir: with --dir, one shared program per script.
func TestBroadcastDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a.sh", "b.sh"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho \"$SCRIPT_NAME\"\nexec cat\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr, _ := broadcastServer(t, Config{Dir: dir})
	a1 := clients(t, addr, "/a.sh", 1, nil)[0]
	if got := recvText(t, a1); got != "/a.sh" {
		t.Fatalf("SCRIPT_NAME %q", got)
	}
	a2 := clients(t, addr, "/a.sh/more", 1, nil)[0]
	b := clients(t, addr, "/b.sh", 1, nil)[0]
	if got := recvText(t, b); got != "/b.sh" {
		t.Fatalf("SCRIPT_NAME %q", got)
	}
	send(t, a2, wsproto.OpText, "to a")
	send(t, b, wsproto.OpText, "to b")
	for _, c := range []*wsproto.Conn{a1, a2} {
		if got := recvText(t, c); got != "to a" {
			t.Fatalf("a client of a.sh got %q", got)
		}
	}
	if got := recvText(t, b); got != "to b" {
		t.Fatalf("b.sh's client got %q", got)
	}
}

// TestBroadcastProgramExit: the program's end closes every client with
// the code that says how it ended, after what it printed; the next
// client starts a new program.
func TestBroadcastProgramExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script string
		code   uint16
		reason string
	}{
		{"exit 0", "read x; echo bye", wsproto.CloseNormal, ""},
		{"exit 3", "read x; echo bye; exit 3", wsproto.CloseInternalError, "exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := broadcastServer(t, Config{}, "sh", "-c", tc.script)
			for range 2 { // the second round runs a new program
				cs := clients(t, addr, "/", 3, nil)
				send(t, cs[0], wsproto.OpText, "go")
				for _, c := range cs {
					if got := recvText(t, c); got != "bye" {
						t.Fatalf("got %q, want bye", got)
					}
					if ce := recvClose(t, c, false); ce.Code != tc.code || ce.Reason != tc.reason {
						t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Reason, tc.code, tc.reason)
					}
				}
			}
		})
	}
}

// TestBroadcastLastClientStopsProgram: the program runs while a client
// is connected; the last one's leaving stops it, after what that client
// sent has been written to its stdin.
func TestBroadcastLastClientStopsProgram(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "got")
	addr, _ := broadcastServer(t, Config{}, "sh", "-c", `echo $$; while IFS= read -r l; do echo "$l" >>`+out+`; done`)
	cs := clients(t, addr, "/", 2, nil)
	pid, err := strconv.Atoi(recvText(t, cs[0]))
	if err != nil || pid <= 0 {
		t.Fatalf("pid: %v", err)
	}
	cs[0].WriteClose(wsproto.CloseNormal, "")
	recvClose(t, cs[0], false)
	if !processAlive(pid) {
		t.Fatal("the program stopped while a client was connected")
	}
	send(t, cs[1], wsproto.OpText, "last words")
	cs[1].WriteClose(wsproto.CloseNormal, "")
	recvClose(t, cs[1], true)
	waitFor(t, 10*time.Second, func() error {
		if processAlive(pid) {
			return fmt.Errorf("program %d still running after its last client left", pid)
		}
		return nil
	})
	if b, _ := os.ReadFile(out); string(b) != "last words\n" {
		t.Fatalf("the program read %q, want the last client's message", b)
	}
}

// processAlive reports whether pid runs (a zombie does not).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// TestBroadcastSlowClient: a client that stops reading is dropped once
// its queue is full, with 1008 "too slow" and a log line, while the
// others get every line. The program prints 20 MB, more than the kernel
// and the queue can hold for the stalled client (a socket's send buffer
// grows to 4 MB), in bursts that a reading client keeps up with on a busy
// machine, under the race detector too: 200 bursts of 500 lines of 200
// bytes, 20 ms apart.
func TestBroadcastSlowClient(t *testing.T) {
	t.Parallel()
	const bursts, burst, lines = 200, 500, 200 * 500
	pad := strings.Repeat("x", 200-7)
	script := wstest.NumberedFlood(bursts, burst, pad)
	addr, logs := broadcastServer(t, Config{CloseTimeout: time.Minute}, "sh", "-c", script)
	// The stalled client's receive buffer is small, so that the server
	// cannot park much output in the kernel for it.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	stalled, _, err := wstest.Handshake(nc, addr, "/", nil)
	if err != nil || stalled == nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fast := clients(t, addr, "/", 3, nil)
	send(t, fast[0], wsproto.OpText, "go")
	var wg sync.WaitGroup
	for i, c := range fast {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.NetConn().SetReadDeadline(time.Now().Add(2 * time.Minute))
			if err := wstest.ReadNumbered(c, lines, pad); err != nil {
				t.Errorf("fast client %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 10*time.Second, func() error {
		if strings.Count(logs.String(), "msg=dropped") != 1 || !strings.Contains(logs.String(), `reason="too slow"`) {
			return fmt.Errorf("want one drop, too slow, in the log")
		}
		return nil
	})
	if ce := recvClose(t, stalled, true); ce.Code != wsproto.ClosePolicyViolation || ce.Reason != "too slow" {
		t.Fatalf("stalled client's close %d %q, want 1008 too slow", ce.Code, ce.Reason)
	}
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	mu sync.Mutex
	n  int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.n += n
	c.mu.Unlock()
	return n, err
}

func (c *countingConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestBroadcastDeflate: clients that offer permessage-deflate get it
// without context takeover (one compressed frame serves all) and their
// messages compressed; the others get them plain; all read the same.
func TestBroadcastDeflate(t *testing.T) {
	t.Parallel()
	addr, _ := broadcastServer(t, Config{}, "cat")
	type client struct {
		c  *wsproto.Conn
		nc *countingConn
	}
	var cs []client
	for _, offer := range []bool{true, true, false} {
		var hdr http.Header
		if offer {
			hdr = wstest.DeflateHeader(wsproto.DeflateConfig{})
		}
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cn := &countingConn{Conn: nc}
		c, resp, err := wstest.Handshake(cn, addr, "/", hdr)
		if err != nil || c == nil {
			t.Fatal(resp, err)
		}
		defer c.Close()
		ext := resp.Header.Get("Sec-WebSocket-Extensions")
		if offer != strings.Contains(ext, "server_no_context_takeover") {
			t.Fatalf("offer %v: answer %q", offer, ext)
		}
		cs = append(cs, client{c, cn})
	}
	var msgs []string
	for i := range 20 {
		msgs = append(msgs, fmt.Sprintf(`{"n":%d,"text":"%s"}`, i, strings.Repeat("compressible ", 100)))
	}
	base := make([]int, len(cs))
	for i, c := range cs {
		base[i] = c.nc.count()
	}
	for _, m := range msgs {
		send(t, cs[0].c, wsproto.OpText, m)
	}
	for _, c := range cs {
		for _, m := range msgs {
			if got := recvText(t, c.c); got != m {
				t.Fatalf("got %.40q, want %.40q", got, m)
			}
		}
	}
	raw := 0
	for _, m := range msgs {
		raw += len(m)
	}
	for i, c := range cs {
		n := c.nc.count() - base[i]
		if compressed := n < raw/4; compressed != (i < 2) {
			t.Errorf("client %d read %d bytes for %d of messages", i, n, raw)
		}
	}
}

// TestBroadcastMessageTooBig: a client message that cannot be queued
// whole (counting the id put on each of its lines) closes it with 1009.
func TestBroadcastMessageTooBig(t *testing.T) {
	t.Parallel()
	addr, _ := broadcastServer(t, Config{BroadcastQueue: MinBroadcastQueue, BroadcastIDs: true}, "cat")
	for _, msg := range []string{
		strings.Repeat("x", MinBroadcastQueue+1),
		strings.Repeat("\n", MinBroadcastQueue/2), // each line gets "ID "
	} {
		c := clients(t, addr, "/", 1, nil)[0]
		send(t, c, wsproto.OpText, msg)
		if ce := recvClose(t, c, false); ce.Code != wsproto.CloseMessageTooBig {
			t.Fatalf("close %d %q, want 1009", ce.Code, ce.Reason)
		}
	}
}

// TestBroadcastChurn: clients coming and going, with the program kept
// by one client and without, leave no goroutine and no fd behind.
func TestBroadcastChurn(t *testing.T) {
	addr, _ := broadcastServer(t, Config{BroadcastEvents: true}, "cat")
	cycle := func() {
		c := clients(t, addr, "/", 1, nil)[0]
		// Its own join comes back from cat; before it, maybe the leave
		// of the client before.
		for i := 0; recvText(t, c)[0] != '+'; i++ {
			if i == 2 {
				t.Fatal("no join event")
			}
		}
		c.WriteClose(wsproto.CloseNormal, "")
		recvClose(t, c, true)
		c.Close()
	}
	cycle() // warm up pools and the HTTP server's own goroutines
	waitFor(t, 10*time.Second, func() error {
		if n := countStacks("server.(*hub)"); n > 0 {
			return fmt.Errorf("%d hub goroutines", n)
		}
		return nil
	})
	base, fds := lowest(time.Second), openFDs(t)
	for range 3 {
		keep := clients(t, addr, "/", 1, nil)[0]
		recvText(t, keep)
		for range 30 {
			cycle()
		}
		keep.WriteClose(wsproto.CloseNormal, "")
		recvClose(t, keep, true)
		keep.Close()
		for range 30 { // each starts and stops the program
			cycle()
		}
	}
	if n := settle(base); n > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
	waitFor(t, 10*time.Second, func() error {
		if n := openFDs(t); n > fds {
			return fmt.Errorf("%d fds open, %d before", n, fds)
		}
		return nil
	})
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestBroadcastZeroAllocs pins the fan-out's steady state: a message from
// one client through the shared cat to four clients (socket, staging,
// stdin queue, stdout, one prepared frame, four queues and writers)
// allocates nothing.
func TestBroadcastZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own (and sync.Pool drops items at random under it)")
	}
	for _, tc := range []struct {
		name    string
		deflate bool
	}{{"plain", false}, {"deflate", true}} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := broadcastServer(t, Config{BroadcastIDs: true}, "cat")
			var hdr http.Header
			if tc.deflate {
				hdr = wstest.DeflateHeader(wsproto.DeflateConfig{NoContextTakeover: true})
			}
			cs := clients(t, addr, "/", 4, hdr)
			msg := []byte(strings.Repeat("a line of text, ", 4))
			buf := make([]byte, 0, 256)
			round := func(n int) {
				for range n {
					if err := cs[0].WriteMessage(wsproto.OpText, msg); err != nil {
						t.Fatal(err)
					}
					if err := cs[0].Flush(); err != nil {
						t.Fatal(err)
					}
					for _, c := range cs {
						if _, _, err := c.ReadMessage(buf); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			round(512) // warm up
			const n = 2048
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			round(n)
			runtime.ReadMemStats(&after)
			if per := float64(after.Mallocs-before.Mallocs) / n; per > 0.05 {
				t.Fatalf("%.2f allocations per message (%d over %d), want 0", per, after.Mallocs-before.Mallocs, n)
			}
		})
	}
}

// TestBroadcastIdleClientsHoldOneGoroutine: a member's writer runs only
// while it has something to write, so idle clients hold their read pump
// alone, and writers come back with output.
func TestBroadcastIdleClientsHoldOneGoroutine(t *testing.T) {
	addr, _ := broadcastServer(t, Config{}, "cat")
	const n = 8
	cs := clients(t, addr, "/", n, nil)
	for round := range 2 {
		msg := fmt.Sprint("round ", round)
		send(t, cs[round], wsproto.OpText, msg)
		for _, c := range cs {
			if got := recvText(t, c); got != msg {
				t.Fatalf("got %q, want %q", got, msg)
			}
		}
		waitFor(t, 10*time.Second, func() error {
			if k := countStacks("server.(*member).run"); k > 0 {
				return fmt.Errorf("%d writers still running after the last output", k)
			}
			return nil
		})
	}
}

// TestBroadcastInputBackPressure: a client sending faster than the shared
// program reads is held back (its socket is not read) while every client,
// that one included, keeps getting the program's output; nothing it sent
// is lost, and memory stays bounded.
func TestBroadcastInputBackPressure(t *testing.T) {
	t.Parallel()
	// The program prints a tick every 20 ms and reads one line a second.
	script := `i=0; while :; do i=$((i+1)); echo "tick $i"; if [ $((i % 50)) = 0 ]; then read -r l; echo "read ${#l}"; fi; sleep 0.02; done`
	addr, _ := broadcastServer(t, Config{BroadcastQueue: MinBroadcastQueue}, "sh", "-c", script)
	cs := clients(t, addr, "/", 2, nil)
	flood, other := cs[0], cs[1]
	// 64 MiB: more than the queue, the pipe and the kernel's socket
	// buffers on both sides hold.
	const msgs, size = 2048, 32 << 10
	sent := make(chan error, 1)
	go func() {
		flood.NetConn().SetWriteDeadline(time.Now().Add(time.Minute))
		msg := bytes.Repeat([]byte("f"), size)
		for range msgs {
			if err := flood.WriteMessage(wsproto.OpText, msg); err != nil {
				sent <- err
				return
			}
			if err := flood.Flush(); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	// The flood is held back, yet both clients get ticks on time.
	for _, c := range cs {
		for range 30 {
			if got := recvText(t, c); !strings.HasPrefix(got, "tick ") && !strings.HasPrefix(got, "read ") {
				t.Fatalf("got %q", got)
			}
		}
	}
	select {
	case err := <-sent:
		t.Fatalf("the whole flood was taken by a program that reads a line a second: %v", err)
	default:
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > 32<<20 {
		t.Fatalf("heap %d MiB in use with the flood held back", m.HeapInuse>>20)
	}
	flood.Close() // the sender gives up; the program goes on for the other
	for range 10 {
		if got := recvText(t, other); !strings.HasPrefix(got, "tick ") && !strings.HasPrefix(got, "read ") {
			t.Fatalf("got %q", got)
		}
	}
	<-sent
}

func TestAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line, id, rest string
		ok             bool
	}{
		{"@42 hello", "42", "hello", true},
		{"@42 ", "42", "", true},
		{"@* @42 hi", "", "@42 hi", true},
		{"@12345678901234567890 x", "12345678901234567890", "x", true},
		{"@123456789012345678901 x", "", "", false},
		{"@42", "", "", false},
		{"@42x y", "", "", false},
		{"@abc def", "", "", false},
		{"@ x", "", "", false},
		{"@*x", "", "", false},
		{"42 x", "", "", false},
		{"", "", "", false},
	} {
		id, rest, ok := address([]byte(tc.line))
		if string(id) != tc.id || string(rest) != tc.rest || ok != tc.ok {
			t.Errorf("address(%q) = %q %q %v, want %q %q %v", tc.line, id, rest, ok, tc.id, tc.rest, tc.ok)
		}
	}
}

// BenchmarkBroadcastFanout is a 64-byte line from one client through the
// shared cat to every client, in rounds of 64 lines that all clients read
// before the next round (so that no client falls behind and is dropped):
//
//	go test -run '^$' -bench BroadcastFanout ./server
func BenchmarkBroadcastFanout(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			addr, _ := broadcastServer(b, Config{}, "cat")
			cs := clients(b, addr, "/", n, nil)
			msg := bytes.Repeat([]byte("x"), 64)
			const round = 64
			rounds := (b.N + round - 1) / round
			var wg sync.WaitGroup
			start := make([]chan struct{}, n)
			for i, c := range cs {
				start[i] = make(chan struct{}, 1)
				go func() {
					buf := make([]byte, 0, 64)
					for range rounds {
						<-start[i]
						for range round {
							if _, _, err := c.ReadMessage(buf); err != nil {
								b.Error(err)
							}
						}
						wg.Done()
					}
				}()
			}
			b.SetBytes(int64(len(msg) * n))
			b.ReportAllocs()
			b.ResetTimer()
			for range rounds {
				wg.Add(n)
				for _, ch := range start {
					ch <- struct{}{}
				}
				for range round {
					if err := cs[0].WriteMessage(wsproto.OpText, msg); err != nil {
						b.Fatal(err)
					}
				}
				if err := cs[0].Flush(); err != nil {
					b.Fatal(err)
				}
				wg.Wait()
			}
			b.ReportMetric(float64(rounds*round*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// TestBroadcastChat runs a chat room in bash (examples/broadcast/chat.sh)
// through --broadcast --broadcast-events: join events carry the query and
// headers, "@ID" lines reach one client, other lines all of them, a
// client's message with a newline is two lines with its id, and a
// departure is announced.
func TestBroadcastChat(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--broadcast", "--broadcast-events", "../examples/broadcast/chat.sh")
	ua := func(v string) http.Header {
		h := http.Header{}
		h.Set("User-Agent", v)
		return h
	}
	alice := dial(t, s.addr, "/?name=alice", ua("agent one 1.0"))
	for _, want := range []string{"welcome alice (agent one 1.0)", "alice joined"} {
		if got := readText(t, alice); got != want {
			t.Fatalf("alice got %q, want %q", got, want)
		}
	}
	bob := dial(t, s.addr, "/?name=bob", ua("50% bot"))
	if got := readText(t, bob); got != "welcome bob (50% bot)" {
		t.Fatalf("bob got %q, want his welcome alone", got)
	}
	for _, c := range []*wsproto.Conn{alice, bob} {
		if got := readText(t, c); got != "bob joined" {
			t.Fatalf("got %q, want bob joined", got)
		}
	}
	write(t, alice, wsproto.OpText, []byte("hi bob\nhow are you?"))
	for _, c := range []*wsproto.Conn{alice, bob} {
		for _, want := range []string{"alice: hi bob", "alice: how are you?"} {
			if got := readText(t, c); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	}
	bob.WriteClose(wsproto.CloseNormal, "")
	if got := readText(t, alice); got != "bob left" {
		t.Fatalf("alice got %q, want bob left", got)
	}
}

// TestBroadcastOneProgram: every client shares one program, which
// starts with the first and is stopped when the last leaves; a client
// leaving before then stops nothing. Nothing is left behind.
func TestBroadcastOneProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--broadcast", "cat")
	if err := echoCycle(s.addr); err != nil { // warm up, then take the idle count
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "no children", func() bool { return len(children(t, s.pid())) == 0 })
	baseFDs := fdCount(t, s.pid())
	var conns []*wsproto.Conn
	for range 5 {
		conns = append(conns, dial(t, s.addr, "/", nil))
	}
	write(t, conns[0], wsproto.OpText, []byte("to all"))
	for _, c := range conns {
		if got := readText(t, c); got != "to all" {
			t.Fatalf("got %q", got)
		}
	}
	kids := children(t, s.pid())
	if len(kids) != 1 {
		t.Fatalf("%d programs for 5 clients, want 1", len(kids))
	}
	for _, c := range conns[:4] {
		c.WriteClose(wsproto.CloseNormal, "")
		readClose(t, c)
	}
	if !alive(kids[0]) {
		t.Fatal("the program stopped while a client was connected")
	}
	conns[4].WriteClose(wsproto.CloseNormal, "")
	readClose(t, conns[4])
	waitFor(t, 10*time.Second, "the program to stop", func() bool { return !alive(kids[0]) })
	waitIdle(t, s, baseFDs)
}

// TestBroadcastProgramExit: the shared program's exit closes every client
// with the code that says how it ended, after its last line.
func TestBroadcastProgramExit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--broadcast", "sh", "-c", "read x; echo bye; exit 3")
	a, b := dial(t, s.addr, "/", nil), dial(t, s.addr, "/", nil)
	write(t, b, wsproto.OpText, []byte("go"))
	for _, c := range []*wsproto.Conn{a, b} {
		if got := readText(t, c); got != "bye" {
			t.Fatalf("got %q, want bye", got)
		}
		if ce := readClose(t, c); ce.Code != wsproto.CloseInternalError || ce.Reason != "exit status 3" {
			t.Fatalf("close %d %q, want 1011 exit status 3", ce.Code, ce.Reason)
		}
	}
}

// TestBroadcastStalledClient: a client that stops reading is dropped with
// 1008 "too slow", logged, while the others get every line of a program
// that prints 20 MB (more than the kernel buffers for a socket) in bursts.
func TestBroadcastStalledClient(t *testing.T) {
	t.Parallel()
	const bursts, burst, lines = 200, 500, 200 * 500
	pad := strings.Repeat("y", 200-7)
	script := wstest.NumberedFlood(bursts, burst, pad)
	s := startServer(t, "--broadcast", "--closetimeoutms=60000", "sh", "-c", script)
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	nc, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	stalled, _, err := wstest.Handshake(nc, s.addr, "/", nil)
	if err != nil || stalled == nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fast := []*wsproto.Conn{dial(t, s.addr, "/", nil), dial(t, s.addr, "/", nil)}
	write(t, fast[0], wsproto.OpText, []byte("go"))
	var wg sync.WaitGroup
	for i, c := range fast {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.NetConn().SetReadDeadline(time.Now().Add(2 * time.Minute))
			if err := wstest.ReadNumbered(c, lines, pad); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 10*time.Second, "the drop to be logged", func() bool {
		log := s.logText()
		return strings.Count(log, "msg=dropped") == 1 && strings.Contains(log, `msg=dropped conn=1 `) && strings.Contains(log, `reason="too slow"`)
	})
	if ce := readClose(t, stalled); ce.Code != wsproto.ClosePolicyViolation || ce.Reason != "too slow" {
		t.Fatalf("stalled client's close %d %q, want 1008 too slow", ce.Code, ce.Reason)
	}
}

// TestBroadcastBinary: in binary mode a client's payload reaches every
// client as it is.
func TestBroadcastBinary(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--broadcast", "--binary", "cat")
	a, b := dial(t, s.addr, "/", nil), dial(t, s.addr, "/", nil)
	p := make([]byte, 256)
	for i := range p {
		p[i] = byte(i)
	}
	write(t, a, wsproto.OpBinary, p)
	for _, c := range []*wsproto.Conn{a, b} {
		c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
		op, got, err := c.ReadMessage(nil)
		if err != nil || op != wsproto.OpBinary || string(got) != string(p) {
			t.Fatalf("%v %d bytes %v, want the binary payload", op, len(got), err)
		}
	}
}

// TestBroadcastDeflate: clients that offer permessage-deflate get it
// without server context takeover, whatever they asked, and their copy of
// a broadcast message compressed; a client without it gets it plain.
func TestBroadcastDeflate(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--broadcast", "cat")
	z, resp, zc := dialCounting(t, s.addr, wstest.DeflateHeader(wsproto.DeflateConfig{}))
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "server_no_context_takeover") {
		t.Fatalf("answer %q, want server_no_context_takeover", ext)
	}
	plain, _, pc := dialCounting(t, s.addr, nil)
	msg := strings.Repeat(`{"sensor":"temperature","value":21.5} `, 50)
	z0, p0 := zc.read.Load(), pc.read.Load()
	write(t, plain, wsproto.OpText, []byte(msg))
	for _, c := range []*wsproto.Conn{z, plain} {
		if got := readText(t, c); got != msg {
			t.Fatalf("got %.40q", got)
		}
	}
	if n := zc.read.Load() - z0; n >= int64(len(msg))/4 {
		t.Errorf("compressing client read %d bytes for a %d-byte message", n, len(msg))
	}
	if n := pc.read.Load() - p0; n < int64(len(msg)) {
		t.Errorf("plain client read %d bytes for a %d-byte message", n, len(msg))
	}
}

// TestBroadcastChurn: clients coming and going, with the program kept
// running by one client and without, leave no program, fd or memory
// behind.
func TestBroadcastChurn(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--loglevel=info", "--broadcast", "cat")
	if err := echoCycle(s.addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "no children", func() bool { return len(children(t, s.pid())) == 0 })
	baseFDs, baseRSS := fdCount(t, s.pid()), memKiB(t, s.pid(), "VmRSS")
	for round := range 4 {
		var keep *wsproto.Conn
		if round%2 == 0 {
			keep = dial(t, s.addr, "/", nil)
			echo(t, keep, "keeper")
		}
		for i := range 100 {
			if err := echoCycle(s.addr); err != nil {
				t.Fatalf("round %d, cycle %d: %v", round, i, err)
			}
		}
		if keep != nil {
			keep.Close()
		}
	}
	waitIdle(t, s, baseFDs)
	if rss := memKiB(t, s.pid(), "VmRSS"); rss > baseRSS+16<<10 {
		t.Errorf("RSS %d KiB after churn, %d KiB before", rss, baseRSS)
	}
}

// TestBroadcastShutdown: SIGTERM closes every client with 1001 and stops
// the shared program.
func TestBroadcastShutdown(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--broadcast", "cat")
	var conns []*wsproto.Conn
	for range 10 {
		conns = append(conns, dial(t, s.addr, "/", nil))
	}
	kids := children(t, s.pid())
	if len(kids) != 1 {
		t.Fatalf("%d programs, want 1", len(kids))
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	for _, c := range conns {
		if ce := readClose(t, c); ce.Code != wsproto.CloseGoingAway {
			t.Fatalf("close %d %q, want 1001", ce.Code, ce.Reason)
		}
		c.WriteClose(wsproto.CloseGoingAway, "")
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("wsexec exited with %v after SIGTERM, want status 0", s.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsexec still running 15 s after SIGTERM")
	}
	if alive(kids[0]) {
		t.Fatal("the shared program outlived the server")
	}
}

// TestBroadcastUsageErrors: the broadcast flags that cannot be honoured
// stop wsexec before it listens.
func TestBroadcastUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"--broadcast-ids needs --broadcast", []string{"--broadcast-ids", "cat"}},
		{"--broadcastqueue needs --broadcast", []string{"--broadcastqueue=1000000", "cat"}},
		{"--broadcastqueue: 1000 is less than 131072", []string{"--broadcast", "--broadcastqueue=1000", "cat"}},
		{"--broadcast-ids with --framing (or --binary): cannot be combined with binary framing", []string{"--broadcast", "--binary", "--broadcast-events", "cat"}},
		{"--passstderr with --broadcast: cannot be combined", []string{"--broadcast", "--passstderr", "cat"}},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, tc.args...)
		})
	}
}

// TestBroadcastMemoryPerClient measures what a connected client costs in
// broadcast mode and in the default mode (its own cat): the server's RSS
// and the programs' PSS, per client, once connected and after a message
// has gone to each. It checks that a broadcast client costs under a
// quarter of one with its own program. The figures are logged (go test
// -run TestBroadcastMemoryPerClient -v .).
func TestBroadcastMemoryPerClient(t *testing.T) {
	if testing.Short() {
		t.Skip("300 clients in each mode: skipped with -short")
	}
	const n = 300
	type cost struct{ idle, busy, programs float64 }
	measure := func(broadcast bool) cost {
		args := []string{"--loglevel=info", "cat"}
		if broadcast {
			args = append([]string{"--broadcast"}, args...)
		}
		s := startServer(t, args...)
		first := dial(t, s.addr, "/", nil)
		echo(t, first, "warm")
		baseRSS, basePSS := memKiB(t, s.pid(), "VmRSS"), childrenPSS(t, s.pid())
		conns := make([]*wsproto.Conn, n)
		for i := range conns {
			conns[i] = dial(t, s.addr, "/", nil)
		}
		var c cost
		c.idle = float64(memKiB(t, s.pid(), "VmRSS")-baseRSS) / n
		c.programs = float64(childrenPSS(t, s.pid())-basePSS) / n
		if broadcast {
			write(t, first, wsproto.OpText, []byte("to all"))
			for _, c := range append(conns, first) {
				readText(t, c)
			}
		} else {
			for _, c := range conns {
				echo(t, c, "to one")
			}
		}
		c.busy = float64(memKiB(t, s.pid(), "VmRSS")-baseRSS) / n
		for _, c := range conns {
			c.Close()
		}
		return c
	}
	b, p := measure(true), measure(false)
	t.Logf("KiB per client, server RSS connected / after a message, programs' PSS: broadcast %.1f / %.1f, %.1f; own process %.1f / %.1f, %.1f",
		b.idle, b.busy, b.programs, p.idle, p.busy, p.programs)
	if bc, pc := b.busy+b.programs, p.busy+p.programs; bc > pc/4 {
		t.Errorf("a broadcast client costs %.1f KiB, one with its own program %.1f KiB: want under a quarter", bc, pc)
	}
}

// childrenPSS sums the proportional set size (shared pages divided among
// their sharers) of pid's children, in KiB.
func childrenPSS(t *testing.T, pid int) int {
	t.Helper()
	total := 0
	for _, kid := range children(t, pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", kid))
		if err != nil {
			continue // gone meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
				n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				total += n
			}
		}
	}
	return total
}

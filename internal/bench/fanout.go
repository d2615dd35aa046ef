//go:build linux

package main

import (
	"bufio"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
)

// ---- 8. fan-out: one program, many clients (--broadcast) ---------------

// The scenario runs one program that prints 64-byte lines, each holding
// its sequence number and the time it was written, for 100, 1,000 and
// 5,000 clients of wsexec --broadcast, and beside it for as many clients
// of a Node server on the `ws` package doing the usual
// wss.clients.forEach(c => c.send(line)) (fanout.js).
//
// The program prints as fast as it can, but at most fanWindow lines ahead
// of the slowest client: a client of the harness says, through the
// server, how far every client has got ("c N" on the program's stdin). An
// open-loop program would soon be far ahead of every client: wsexec drops
// a client that falls --broadcastqueue behind (by design), and Node
// buffers for it without bound; neither is a delivery rate. With the
// window, both run at the rate the whole chain sustains, and neither
// queues more than the window for a client. The delay under that load is
// the window's length in time, so the delays (and the memory) are measured
// at a fixed load instead, below what either sustains: fanPaced messages a
// second over all clients, the program writing each line on time ("p R":
// R lines a second). At 1,000 clients one more client stops reading at
// the end, and the rate of the others is measured again.
// docs/benchmarks.md (scenario 9) has the method and the figures.

const (
	feedArg    = "fanout-feed" // os.Args[1] that makes the harness the program (runFeed)
	fanLine    = 64            // bytes in a line, its newline excluded
	fanWindow  = 1024          // lines the program may run ahead of the slowest client
	fanWarm    = time.Second   // from the start (or a change of pace) to a measurement
	fanMeasure = 2 * time.Second
	fanPaced   = 10_000 // messages a second, all clients together, for the delays and memory
)

var nodeDirFlag = flag.String("nodedir", "internal/bench/node", "`folder` where the fanout scenario installs Node's ws (npm install --prefix; skipped without node and npm)")

//go:embed fanout.js
var fanoutJS string

// fanout measures the fan-out at each number of clients, for wsexec and,
// as the baseline, Node's ws, and at 1,000 the rate with a stalled client.
func (h *harness) fanout() []row {
	levels := []int{100, 1000, 5000}
	top := levels[len(levels)-1]
	// Each client is one descriptor in the harness and one in the server.
	if got := raiseNoFile(uint64(2*top + 1024)); got < uint64(top+256) {
		fatalf("fanout: RLIMIT_NOFILE is %d (cannot raise it), too low for %d clients", got, top)
	}
	self, err := os.Executable()
	if err != nil {
		fatalf("fanout: %v", err)
	}
	node, err := setupNode()
	if err != nil {
		progress("fanout: no Node baseline: %v", err)
	}
	type set struct{ rate, p50, p99, idle, mem, cpu row }
	sets := make([]set, len(levels))
	for i, n := range levels {
		name := fmt.Sprintf("8. fan-out, %s clients", commas(n))
		paced := fanPaced / n
		sets[i] = set{
			rate: row{metric: name + ": delivered", unit: "msg/s", higher: true, note: "as fast as it goes"},
			p50:  row{metric: fmt.Sprintf("%s: delay p50 at %s msg/s", name, commas(fanPaced)), unit: "µs", note: fmt.Sprintf("%d lines/s", paced)},
			p99:  row{metric: fmt.Sprintf("%s: delay p99 at %s msg/s", name, commas(fanPaced)), unit: "µs"},
			idle: row{metric: name + ": server RSS per client, idle", unit: "KiB", note: "connected, the program started, nothing printed yet"},
			mem:  row{metric: fmt.Sprintf("%s: server RSS per client at %s msg/s", name, commas(fanPaced)), unit: "KiB"},
			cpu:  row{metric: name + ": server CPU per delivered msg", unit: "ns", note: "as fast as it goes; the server's own, not the program's"},
		}
		if n == 1000 {
			sets[i].rate.target = 2
			sets[i].mem.target = 1
		}
	}
	stalled := row{metric: "8. fan-out, 1,000 clients + 1 stalled: delivered", unit: "msg/s", higher: true}
	share := row{metric: "8. fan-out, 1,000 clients + 1 stalled: rate, share of the same run's without it", unit: "%", higher: true, target: 90, absolute: true}
	stalledCPU := row{metric: "8. fan-out, 1,000 clients + 1 stalled: server CPU per delivered msg", unit: "ns"}
	var drops []string

	for rep := range min(h.repeat, 3) {
		for i, n := range levels {
			s := &sets[i]
			stall := stallNone
			if n == 1000 {
				stall = stallRate
				if rep == 0 {
					stall = stallDrop
				}
			}
			// record appends a run's figures to the rows' values (wsexec)
			// or bases (Node), which side picks.
			record := func(r fanResult, side func(*row) *[]float64) {
				for _, f := range []struct {
					row *row
					v   float64
				}{{&s.rate, r.rate}, {&s.p50, r.p50}, {&s.p99, r.p99}, {&s.idle, r.idlePerClient}, {&s.mem, r.memPerClient}, {&s.cpu, r.cpuPerMsg}} {
					*side(f.row) = append(*side(f.row), f.v)
				}
				if stall == stallNone {
					return
				}
				*side(&stalled) = append(*side(&stalled), r.stalledRate)
				*side(&share) = append(*side(&share), 100*r.stalledRate/r.rate)
				*side(&stalledCPU) = append(*side(&stalledCPU), r.stalledCPU)
				if r.stalledEnd != "" {
					drops = append(drops, r.stalledEnd)
				}
			}
			record(h.fanRun(fanTargetWsexec(h, self, n), n, stall), func(r *row) *[]float64 { return &r.value })
			if node == nil {
				continue
			}
			record(h.fanRun(node(self), n, stall), func(r *row) *[]float64 { return &r.base })
		}
	}
	stalled.note = strings.Join(drops, "; ")
	var rows []row
	for _, s := range sets {
		rows = append(rows, s.rate, s.p50, s.p99, s.idle, s.mem, s.cpu)
	}
	return append(rows, stalled, share, stalledCPU)
}

// fanTarget is a server the fan-out runs against.
type fanTarget struct {
	name string // wsexec or Node, for messages
	addr string
	pid  int
	stop func()
	// dropped, for wsexec: when it first logged a client dropped, or zero.
	dropped func() time.Time
}

// fanTargetWsexec starts wsexec --broadcast with the harness as its
// program.
func fanTargetWsexec(h *harness, self string, clients int) fanTarget {
	s := h.startServer("--broadcast", fmt.Sprintf("--maxforks=%d", clients+16), self, feedArg)
	return fanTarget{name: "wsexec", addr: s.addr, pid: s.pid(), stop: s.stop, dropped: s.firstDrop}
}

// setupNode installs ws@8 with npm into -nodedir (once; it is gitignored)
// and writes fanout.js there. It returns a function that starts the Node
// server, or why there is none.
func setupNode() (func(self string) fanTarget, error) {
	nodePath, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(*nodeDirFlag)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return nil, err
		}
		progress("fanout: npm install ws@8 into %s", dir)
		out, err := exec.Command(npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "--silent", "ws@8").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("npm install ws@8: %v: %s", err, out)
		}
	}
	script := filepath.Join(dir, "fanout.js")
	if err := os.WriteFile(script, []byte(fanoutJS), 0o644); err != nil {
		return nil, err
	}
	return func(self string) fanTarget { return startNode(nodePath, script, self) }, nil
}

// startNode runs fanout.js with the harness as its program and waits for
// its port.
func startNode(nodePath, script, self string) fanTarget {
	cmd := exec.Command(nodePath, script, self, feedArg)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fatalf("node: %v", err)
	}
	if err := cmd.Start(); err != nil {
		fatalf("node: %v", err)
	}
	exited := make(chan struct{})
	port := make(chan string, 1)
	go func() {
		defer close(exited)
		br := bufio.NewReader(stdout)
		if line, err := br.ReadString('\n'); err == nil {
			port <- strings.TrimPrefix(strings.TrimSpace(line), "listening ")
		}
		io.Copy(io.Discard, br)
		cmd.Wait()
	}()
	// Killed: it would take a SIGTERM only between two bursts, which at
	// 5,000 clients last a minute. Its program then finds its stdin closed
	// and ends.
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	atExit(stop)
	select {
	case p := <-port:
		return fanTarget{name: "Node", addr: "127.0.0.1:" + p, pid: cmd.Process.Pid, stop: stop}
	case <-exited:
		fatalf("node %s exited before listening", script)
	case <-time.After(10 * time.Second):
		fatalf("node %s did not print its port", script)
	}
	return fanTarget{}
}

// fanResult is one run's figures.
type fanResult struct {
	rate          float64 // data messages received a second, all clients, as fast as it goes
	p50, p99      float64 // µs, at the paced load
	idlePerClient float64 // KiB, before the program prints
	memPerClient  float64 // KiB, at the paced load
	cpuPerMsg     float64 // ns of server CPU per message received, as fast as it goes
	stalledRate   float64 // rate, with a stalled client besides
	stalledCPU    float64 // cpuPerMsg, with a stalled client besides
	stalledEnd    string  // with stallDrop: what became of the stalled client
}

// stallMode says what a run does with a client that never reads.
type stallMode int

const (
	stallNone stallMode = iota
	stallRate           // the rate again with one more client, which never reads
	stallDrop           // that, then wait (up to fanDropWait) for the server to drop it
)

// fanRun connects n clients to t and measures, at the paced load, the
// delays and the server's memory, then, as fast as the window allows, the
// rate and the server's CPU, and, as stall says, the rate again with one
// more client that never reads (its receive buffer set small); then it
// stops t.
func (h *harness) fanRun(t fanTarget, n int, stall stallMode) fanResult {
	defer t.stop()
	time.Sleep(200 * time.Millisecond) // the server's start-up settles before its baseline RSS
	rss0 := rssKiB(t.pid)
	clients := make([]*fanClient, n)
	for i := range clients {
		clients[i] = dialFan(t, 0)
	}
	for _, c := range clients {
		go c.read()
	}
	// The client that stalls connects with the others and reads as they
	// do until it stops: Node takes no new connection while it sends a
	// burst. It is not counted, nor waited for.
	var slow *fanClient
	if stall != stallNone {
		slow = dialFan(t, 4096)
		slow.hold = make(chan struct{})
		defer slow.nc.Close()
		go slow.read()
	}
	var r fanResult
	time.Sleep(200 * time.Millisecond) // the last clients' handshakes settle
	r.idlePerClient = (rssKiB(t.pid) - rss0) / float64(n)
	ctl := clients[0]
	co := startCredit(ctl, clients)

	ctl.send("p " + strconv.Itoa(fanPaced/n))
	time.Sleep(fanWarm)
	for _, c := range clients {
		c.sampling.Store(true)
	}
	time.Sleep(fanMeasure)
	for _, c := range clients {
		c.sampling.Store(false)
	}
	r.memPerClient = (rssKiB(t.pid) - rss0) / float64(n)

	ctl.send("p 0")
	time.Sleep(fanWarm)
	var cpu float64
	r.rate, cpu = measureRate(t, clients)
	r.cpuPerMsg = cpu * 1e9 / (r.rate * fanMeasure.Seconds())

	if slow != nil {
		close(slow.hold)
		<-slow.done
		stopped := time.Now()
		r.stalledRate, cpu = measureRate(t, clients)
		r.stalledCPU = cpu * 1e9 / (r.stalledRate * fanMeasure.Seconds())
		if stall == stallDrop {
			r.stalledEnd = stalledEnd(t, stopped)
		}
	}

	co.stop()
	var delays []float64
	for _, c := range clients {
		c.nc.Close()
		<-c.done
		if c.err != nil && !errors.Is(c.err, net.ErrClosed) {
			fatalf("fanout: a client's connection to %s ended: %v", t.name, c.err)
		}
		delays = append(delays, c.delays...)
	}
	if len(delays) == 0 {
		fatalf("fanout: no message arrived at the paced load")
	}
	r.p50, r.p99 = pct(delays, 50), pct(delays, 99)
	progress("fanout: %s, %d clients: %s msg/s, %s ns CPU a message, delays %s/%s µs, %s KiB a client",
		t.name, n, num(r.rate), num(r.cpuPerMsg), num(r.p50), num(r.p99), num(r.memPerClient))
	return r
}

// measureRate returns the messages the clients receive a second over
// fanMeasure, and the server's CPU seconds meanwhile.
func measureRate(t fanTarget, clients []*fanClient) (float64, float64) {
	got0, cpu0, t0 := received(clients), readCPU(t.pid), time.Now()
	time.Sleep(fanMeasure)
	got1, cpu1, t1 := received(clients), readCPU(t.pid), time.Now()
	return float64(got1-got0) / t1.Sub(t0).Seconds(), cpu1.server - cpu0.server
}

// fanDropWait bounds the wait for wsexec to drop a stalled client: what it
// holds for it (the kernel's socket buffers, then its queue,
// --broadcastqueue) fills at the rate of one client.
const fanDropWait = 60 * time.Second

// stalledEnd waits for wsexec to drop the stalled client and says when it
// did, counted from stopped, when it stopped reading. Node never drops
// one.
func stalledEnd(t fanTarget, stopped time.Time) string {
	if t.dropped == nil {
		return "Node never drops it: it buffers for it without bound"
	}
	for deadline := time.Now().Add(fanDropWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if at := t.dropped(); !at.IsZero() {
			return fmt.Sprintf("wsexec dropped it (1008) %.1f s after it stopped reading", at.Sub(stopped).Seconds())
		}
	}
	return fmt.Sprintf("wsexec had not dropped it %v after it stopped reading", fanDropWait)
}

func received(clients []*fanClient) int64 {
	var n int64
	for _, c := range clients {
		n += c.got.Load()
	}
	return n
}

// fanClient is one client of the fan-out: its reader parses frames from
// raw reads into one buffer, allocating nothing a message.
type fanClient struct {
	nc       net.Conn
	got      atomic.Int64 // data messages received
	last     atomic.Int64 // the sequence number of the last one; -1 before any
	sampling atomic.Bool  // record each message's delay
	delays   []float64    // µs; read once done is closed
	err      error        // why reading ended; read once done is closed
	done     chan struct{}
	hold     chan struct{} // closed: stop reading, leaving the connection open (nil: never)
	wmu      sync.Mutex    // send's
}

// dialFan connects a client; rcvbuf, when not zero, is its socket's
// receive buffer, set before connecting.
func dialFan(t fanTarget, rcvbuf int) *fanClient {
	addr := t.addr
	d := net.Dialer{Timeout: 5 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		fatalf("fanout: dial %s at %s: %v", t.name, addr, err)
	}
	// The server sends nothing before the program prints, and the program
	// prints nothing before the first "c": nothing is left in the
	// handshake's reader when reading moves to nc.
	c, resp, err := wstest.Handshake(nc, addr, "/", nil)
	if err != nil || c == nil {
		fatalf("fanout: handshake with %s at %s: %v %v", t.name, addr, resp, err)
	}
	fc := &fanClient{nc: nc, done: make(chan struct{})}
	fc.last.Store(-1)
	return fc
}

// read parses server frames (unmasked; RFC 6455 §5.2) until the connection
// ends or a close frame comes.
func (c *fanClient) read() {
	defer close(c.done)
	buf := make([]byte, 16<<10)
	have := 0
	prev := int64(-1) // the last sequence number: each message must be the next
	for {
		select {
		case <-c.hold:
			return
		default:
		}
		n, err := c.nc.Read(buf[have:])
		if err != nil {
			c.err = err
			return
		}
		now := time.Now().UnixNano()
		have += n
		sampling := c.sampling.Load()
		got, last := int64(0), int64(-1)
		i := 0
	frames:
		for have-i >= 2 {
			size, hl := int(buf[i+1]&0x7f), 2
			switch size {
			case 126:
				if have-i < 4 {
					break frames
				}
				size, hl = int(buf[i+2])<<8|int(buf[i+3]), 4
			case 127:
				c.err = errors.New("a frame of 64 KiB or more")
				return
			}
			if have-i < hl+size {
				if hl+size > len(buf) {
					c.err = fmt.Errorf("a frame of %d bytes", size)
					return
				}
				break frames
			}
			p := buf[i+hl : i+hl+size]
			switch buf[i] & 0x0f {
			case 1, 2:
				got++
				if len(p) != fanLine {
					c.err = fmt.Errorf("a message of %d bytes, want %d", len(p), fanLine)
					return
				}
				if seq := int64(digits(p[:10])); seq != prev+1 {
					c.err = fmt.Errorf("message %d after message %d", seq, prev)
					return
				}
				prev++
				last = prev
				if sampling {
					c.delays = append(c.delays, float64(now-int64(digits(p[11:30])))/1e3)
				}
			case 8:
				c.err = errors.New("the server closed the connection")
				return
			}
			i += hl + size
		}
		have = copy(buf, buf[i:have])
		c.got.Add(got)
		if last >= 0 {
			c.last.Store(last)
		}
	}
}

// send writes line as one masked text frame (RFC 6455 §5.3).
func (c *fanClient) send(line string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b := append(make([]byte, 0, 6+len(line)), 0x81, 0x80|byte(len(line)))
	b = append(b, key[:]...)
	for i := range len(line) {
		b = append(b, line[i]^key[i%4])
	}
	if _, err := c.nc.Write(b); err != nil {
		fatalf("fanout: send %q: %v", line, err)
	}
}

// credit tells the program how far it may go: fanWindow lines past the
// slowest client, checked every millisecond.
type credit struct {
	quit, done chan struct{}
}

func startCredit(ctl *fanClient, clients []*fanClient) *credit {
	co := &credit{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(co.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		sent := int64(math.MinInt64 / 2)
		for {
			low := int64(math.MaxInt64)
			for _, c := range clients {
				low = min(low, c.last.Load())
			}
			if allow := low + 1 + fanWindow; allow >= sent+fanWindow/8 {
				ctl.send("c " + strconv.FormatInt(allow, 10))
				sent = allow
			}
			select {
			case <-co.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return co
}

func (co *credit) stop() {
	close(co.quit)
	<-co.done
}

// runFeed is the fan-out's program (the harness again, as `bench
// fanout-feed`): it prints lines of fanLine bytes, "SEQUENCE TIME xxx...",
// TIME the Unix time in ns of the write, while its stdin allows: "c N"
// lets it print up to line N (excluded), "p R" paces it to R lines a
// second, each written on time, "p 0" lets it print as fast as it can,
// many lines a write. It ends when its stdin does.
func runFeed() {
	var allow, pace atomic.Int64
	changed := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), " ")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "c":
				allow.Store(n)
			case "p":
				pace.Store(n)
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
		os.Exit(0)
	}()
	const perWrite = 512 // lines a write when unpaced: 32 KiB
	b := make([]byte, 0, perWrite*(fanLine+1))
	var seq, rate, paceStart int64
	var paceFrom time.Time
	for {
		if r := pace.Load(); r != rate {
			rate, paceStart, paceFrom = r, seq, time.Now()
		}
		n := allow.Load() - seq
		if n <= 0 {
			<-changed
			continue
		}
		if rate == 0 {
			n = min(n, perWrite)
		} else {
			// The lines due by now, at least one: wait for it.
			due := paceFrom.Add(time.Duration((seq - paceStart) * int64(time.Second) / rate))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			late := time.Since(paceFrom)
			n = min(n, perWrite, max(1, paceStart+int64(late)*rate/int64(time.Second)-seq+1))
		}
		now := time.Now().UnixNano()
		b = b[:0]
		for range n {
			b = appendFeedLine(b, seq, now)
			seq++
		}
		if _, err := os.Stdout.Write(b); err != nil {
			os.Exit(0)
		}
	}
}

// appendFeedLine appends "SEQUENCE TIME " (10 and 19 digits) and 'x's to
// fanLine bytes, and a newline.
func appendFeedLine(b []byte, seq, now int64) []byte {
	b = appendDigits(b, seq, 10)
	b = append(b, ' ')
	b = appendDigits(b, now, 19)
	b = append(b, ' ')
	for range fanLine - 31 {
		b = append(b, 'x')
	}
	return append(b, '\n')
}

func appendDigits(b []byte, v int64, width int) []byte {
	var room [19]byte
	b = append(b, room[:width]...)
	for i := len(b) - 1; i >= len(b)-width; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

func digits(p []byte) uint64 {
	var n uint64
	for _, c := range p {
		n = n*10 + uint64(c-'0')
	}
	return n
}

// commas writes n with thousands separated by commas.
func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// ---- 1. connection cycle ----------------------------------------------

// cycle measures connect, "hi" and its echo, close, program reaped, against
// starting and reaping cat from Go with the same "hi" over pipes.
func (h *harness) cycle() []row {
	s := h.startServer(h.cat)
	defer s.stop()
	ws := func() { cycleOnce(s, "/", nil) }
	bare := func() {
		p := h.spawn(h.cat)
		p.roundTrip([]byte("hi\n"), make([]byte, 3))
		p.close()
	}
	const seqN, parN, workers = 150, 320, 16
	rate := func(n, workers int, f func()) float64 {
		start := time.Now()
		parallel(workers, n, func(int) { f() })
		return float64(n) / time.Since(start).Seconds()
	}
	for range 10 { // warm up both
		ws()
		bare()
	}
	seq := row{metric: "1. connection cycle, sequential", unit: "conn/s", higher: true, target: 0.80}
	par := row{metric: "1. connection cycle, 16 workers", unit: "conn/s", higher: true, target: 0.85}
	// Where the CPU of a cycle goes, in the 16-worker runs (the CPU-bound
	// ones): wsexec's own beside the harness spawning cat, the programs'
	// beside the same cats, and the client's, which the baseline has none of.
	const cpuNote = "16 workers; "
	server := row{metric: "1. CPU per cycle: the server (baseline: the Go spawner)", unit: "µs", note: cpuNote + "server's own CPU"}
	prog := row{metric: "1. CPU per cycle: the program, cat", unit: "µs", note: cpuNote + "reaped children's CPU"}
	client := row{metric: "1. CPU per cycle: the client", unit: "µs", note: cpuNote + "the harness, which also reads the server's log"}
	all := row{metric: "1. CPU per cycle: all of it", unit: "µs", note: cpuNote + "the inverse bounds the 16-worker ratio"}
	perCycle := func(sec float64) float64 { return sec * 1e6 / parN }
	for range h.repeat {
		seq.value = append(seq.value, rate(seqN, 1, ws))
		seq.base = append(seq.base, rate(seqN, 1, bare))
		before := readCPU(s.pid())
		par.value = append(par.value, rate(parN, workers, ws))
		mid := readCPU(s.pid())
		par.base = append(par.base, rate(parN, workers, bare))
		w, b := mid.sub(before), readCPU(s.pid()).sub(mid)
		server.value, server.base = append(server.value, perCycle(w.server)), append(server.base, perCycle(b.self))
		prog.value, prog.base = append(prog.value, perCycle(w.serverChildren)), append(prog.base, perCycle(b.children))
		client.value = append(client.value, perCycle(w.self))
		all.value = append(all.value, perCycle(w.server+w.serverChildren+w.self))
		all.base = append(all.base, perCycle(b.self+b.children))
	}
	return []row{seq, par, server, prog, client, all}
}

// parallel runs f(i) for i in [0, n) on workers goroutines.
func parallel(workers, n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ---- 2. round trip ----------------------------------------------------

// roundTrip measures a 64-byte message through cat and back, on one
// connection (p50, p99) and on 64 (aggregate rate, p99), against a loopback
// TCP round trip plus a pipe round trip through cat.
func (h *harness) roundTrip() []row {
	s := h.startServer(h.cat)
	defer s.stop()
	echo, local := startEcho(), startLocalEcho()

	p50 := row{metric: "2. round trip 64 B, 1 conn, p50", unit: "µs", target: 1.3}
	p50local := row{metric: "2. round trip 64 B, 1 conn, p50, TCP echo in the harness", unit: "µs",
		note: "the baseline's TCP echo in the client's process"}
	p99 := row{metric: "2. round trip 64 B, 1 conn, p99", unit: "µs"}
	agg := row{metric: "2. round trip 64 B, 64 conns, rate", unit: "rt/s", higher: true}
	agg99 := row{metric: "2. round trip 64 B, 64 conns, p99", unit: "µs"}
	msg := message(64)
	const n = 3000
	c := s.dial()
	defer c.Close()
	for range h.repeat {
		ws := h.latencies(n, func() { rt(c, msg, nil) })
		tcpRT, tcpClose := tcpRoundTrip(echo, 64)
		localRT, localClose := tcpRoundTrip(local, 64)
		tcp := h.latencies(n, tcpRT)
		pipe := h.latencies(n, h.pipeRoundTrip(64))
		tcpLocal := h.latencies(n, localRT)
		tcpClose()
		localClose()
		p50.value = append(p50.value, pct(ws, 50))
		p50.base = append(p50.base, pct(tcp, 50)+pct(pipe, 50))
		p50local.value = append(p50local.value, pct(ws, 50))
		p50local.base = append(p50local.base, pct(tcpLocal, 50)+pct(pipe, 50))
		p99.value = append(p99.value, pct(ws, 99))
		p99.base = append(p99.base, pct(tcp, 99)+pct(pipe, 99))
	}
	for range h.repeat {
		rate, lat := h.concurrentRT(s, echo, 64, 64, time.Second, true)
		brate, blat := h.concurrentRT(s, echo, 64, 64, time.Second, false)
		agg.value, agg.base = append(agg.value, rate), append(agg.base, brate)
		agg99.value, agg99.base = append(agg99.value, pct(lat, 99)), append(agg99.base, pct(blat, 99))
	}
	return []row{p50, p99, p50local, agg, agg99}
}

// concurrentRT runs conns workers doing round trips of size bytes for d,
// over WebSocket (ws) or over a TCP echo then a pipe through cat, and
// returns the aggregate rate and every latency in µs.
func (h *harness) concurrentRT(s *server, echo string, conns, size int, d time.Duration, ws bool) (float64, []float64) {
	fns := make([]func(), conns)
	var closers []func()
	for i := range fns {
		if ws {
			c := s.dial()
			msg := message(size)
			buf := make([]byte, 0, size)
			fns[i] = func() { rt(c, msg, buf) }
			closers = append(closers, func() { c.Close() })
		} else {
			tcp, tcpClose := tcpRoundTrip(echo, size)
			p := h.spawn(h.cat)
			line := append(message(size), '\n')
			buf := make([]byte, len(line))
			fns[i] = func() { tcp(); p.roundTrip(line, buf) }
			closers = append(closers, tcpClose, p.close)
		}
	}
	lats := make([][]float64, conns)
	counts := make([]int, conns)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				t := time.Now()
				f()
				lats[i] = append(lats[i], float64(time.Since(t).Nanoseconds())/1e3)
				counts[i]++
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	for _, c := range closers {
		c()
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return float64(total) / el, slices.Concat(lats...)
}

// latencies runs f n times and returns each duration in µs.
func (h *harness) latencies(n int, f func()) []float64 {
	f() // warm up
	out := make([]float64, n)
	for i := range out {
		t := time.Now()
		f()
		out[i] = float64(time.Since(t).Nanoseconds()) / 1e3
	}
	return out
}

// pct returns the p-th percentile of v.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// rt sends msg and reads the echo into buf, checking it. Large messages are
// written while the echo is read (a pipe holds only 64 KiB).
func rt(c *wsproto.Conn, msg, buf []byte) []byte {
	write := func() error {
		if err := c.WriteMessage(wsproto.OpText, msg); err != nil {
			return err
		}
		return c.Flush()
	}
	var werr chan error
	if len(msg) > 16<<10 {
		werr = make(chan error, 1)
		go func() { werr <- write() }()
	} else if err := write(); err != nil {
		fatalf("write: %v", err)
	}
	_, p, err := c.ReadMessage(buf)
	if err != nil {
		fatalf("read echo: %v", err)
	}
	if werr != nil {
		if err := <-werr; err != nil {
			fatalf("write: %v", err)
		}
	}
	if !bytes.Equal(p, msg) {
		fatalf("echo of %d bytes came back as %d different bytes", len(msg), len(p))
	}
	return p
}

// message returns n bytes: an 8-digit sequence number then 'x's.
func message(n int) []byte {
	b := bytes.Repeat([]byte("x"), n)
	stamp(b, 0)
	return b
}

// stamp writes i as 8 digits at the start of b (if it has room).
func stamp(b []byte, i int) {
	for k := min(len(b), 8) - 1; k >= 0; k-- {
		b[k] = byte('0' + i%10)
		i /= 10
	}
}

func stamped(b []byte) int {
	n := 0
	for _, c := range b[:min(len(b), 8)] {
		n = n*10 + int(c-'0')
	}
	return n
}

// ---- baselines: a bare program on pipes, a TCP echo -------------------

// proc is a program started from Go on plain pipes.
type proc struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
}

// spawn starts path (with args) in its own process group, as wsexec does.
func (h *harness) spawn(path string, args ...string) *proc {
	inR, inW, err := os.Pipe()
	if err != nil {
		fatalf("pipe: %v", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		fatalf("pipe: %v", err)
	}
	cmd := &exec.Cmd{Path: path, Args: append([]string{path}, args...), Stdin: inR, Stdout: outW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := cmd.Start(); err != nil {
		fatalf("start %s: %v", path, err)
	}
	inR.Close()
	outW.Close()
	return &proc{cmd: cmd, stdin: inW, stdout: outR}
}

// roundTrip writes line and reads as many bytes back into buf.
func (p *proc) roundTrip(line, buf []byte) {
	var werr chan error
	if len(line) > 16<<10 {
		werr = make(chan error, 1)
		go func() { _, err := p.stdin.Write(line); werr <- err }()
	} else if _, err := p.stdin.Write(line); err != nil {
		fatalf("write pipe: %v", err)
	}
	if _, err := io.ReadFull(p.stdout, buf[:len(line)]); err != nil {
		fatalf("read pipe: %v", err)
	}
	if werr != nil {
		if err := <-werr; err != nil {
			fatalf("write pipe: %v", err)
		}
	}
}

// close closes stdin, reads stdout to EOF and reaps the program.
func (p *proc) close() {
	p.stdin.Close()
	io.Copy(io.Discard, p.stdout)
	p.stdout.Close()
	p.cmd.Wait()
}

// pipeRoundTrip returns a function doing one round trip of size bytes and a
// newline through a cat started for the purpose (reaped by runAtExit).
func (h *harness) pipeRoundTrip(size int) func() {
	return h.pipeRoundTripOf(append(message(size), '\n'))
}

// pipeRoundTripOf is pipeRoundTrip with the bytes given.
func (h *harness) pipeRoundTripOf(line []byte) func() {
	p := h.spawn(h.cat)
	atExit(p.close)
	buf := make([]byte, len(line))
	return func() { p.roundTrip(line, buf) }
}

// echoEnv, when set, makes the harness an echo server (see serveEcho).
const echoEnv = "WSEXEC_BENCH_ECHO"

// startEcho starts a TCP echo server on loopback in a process of its own
// (this program again, as serveEcho), as wsexec is a process of its own:
// the baseline round trip then crosses the same number of processes. It
// returns the echo's address; the process is reaped by runAtExit. The
// first call starts it, the others share it: a side-by-side run
// (-websocketd) runs each scenario once a repeat for each server.
var startEcho = sync.OnceValue(func() string {
	self, err := os.Executable()
	if err != nil {
		fatalf("echo: %v", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), echoEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		fatalf("echo: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fatalf("echo: %v", err)
	}
	if err := cmd.Start(); err != nil {
		fatalf("echo: %v", err)
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		fatalf("echo: no address: %v", err)
	}
	atExit(func() { stdin.Close(); cmd.Wait() })
	return strings.TrimSpace(addr)
})

// startLocalEcho is startEcho's server in this process, for the row that
// shows how much of the baseline a process boundary is.
func startLocalEcho() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("listen: %v", err)
	}
	go echoLoop(ln)
	return ln.Addr().String()
}

// serveEcho is the echo process: it prints its address and echoes until
// its stdin closes.
func serveEcho() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("listen: %v", err)
	}
	fmt.Println(ln.Addr())
	go echoLoop(ln)
	io.Copy(io.Discard, os.Stdin)
}

// echoLoop echoes whatever each connection accepted on ln sends.
func echoLoop(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := nc.Read(buf)
				if n > 0 {
					if _, err := nc.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// tcpRoundTrip dials echo and returns a function sending size bytes and
// reading them back, and one closing the connection.
func tcpRoundTrip(echo string, size int) (trip, closer func()) {
	nc, err := net.Dial("tcp", echo)
	if err != nil {
		fatalf("dial echo: %v", err)
	}
	msg := message(size)
	buf := make([]byte, size)
	trip = func() {
		var werr chan error
		if size > 16<<10 {
			werr = make(chan error, 1)
			go func() { _, err := nc.Write(msg); werr <- err }()
		} else if _, err := nc.Write(msg); err != nil {
			fatalf("write echo: %v", err)
		}
		if _, err := io.ReadFull(nc, buf); err != nil {
			fatalf("read echo: %v", err)
		}
		if werr != nil {
			<-werr
		}
	}
	return trip, func() { nc.Close() }
}

// ---- 3. streaming out ---------------------------------------------------

// stream measures `seq 1000000` through wsexec, counted at the client,
// against the same program into a pipe.
func (h *harness) stream() []row {
	const lines = 1000000
	const wantBytes = 6888896 - lines // the digits of 1..1000000
	s := h.startServer(h.seq, strconv.Itoa(lines))
	defer s.stop()
	msgs := row{metric: "3. streaming out (seq 1000000), messages", unit: "msg/s", higher: true, target: 0.05}
	bps := row{metric: "3. streaming out, payload bytes", unit: "MB/s", higher: true}
	buf := make([]byte, 0, 64)
	for range h.repeat {
		start := time.Now()
		c := s.dial()
		// One deadline for the whole stream, which takes a few seconds.
		c.NetConn().SetReadDeadline(time.Now().Add(2 * time.Minute))
		n, size := 0, 0
		var last []byte
		for {
			_, p, err := c.ReadMessage(buf)
			if err != nil {
				if !h.streamEnded(err) {
					fatalf("stream: %v", err)
				}
				break
			}
			n++
			size += len(p)
			last = p
		}
		el := time.Since(start).Seconds()
		c.Close()
		if n != lines || size != wantBytes || string(last) != strconv.Itoa(lines) {
			fatalf("stream: %d messages, %d bytes, last %q; want %d, %d, %d", n, size, last, lines, wantBytes, lines)
		}
		msgs.value = append(msgs.value, float64(n)/el)
		bps.value = append(bps.value, float64(size)/el/1e6)

		start = time.Now()
		p := h.spawn(h.seq, strconv.Itoa(lines))
		p.stdin.Close()
		n, size = countLines(p.stdout)
		p.stdout.Close()
		p.cmd.Wait()
		el = time.Since(start).Seconds()
		if n != lines || size != wantBytes+lines {
			fatalf("stream baseline: %d lines, %d bytes", n, size)
		}
		msgs.base = append(msgs.base, float64(n)/el)
		bps.base = append(bps.base, float64(size-n)/el/1e6)
	}
	return []row{msgs, bps}
}

// countLines reads r to EOF and returns its newlines and bytes.
func countLines(r io.Reader) (int, int) {
	buf := make([]byte, 64<<10)
	n, size := 0, 0
	for {
		m, err := r.Read(buf)
		n += bytes.Count(buf[:m], []byte{'\n'})
		size += m
		if err != nil {
			return n, size
		}
	}
}

// ---- framings -----------------------------------------------------------

// The framings the pipelined echo and the 1 MiB round trip run in: line
// mode, and the two exact ones (--framing). Each row's baseline moves the
// same bytes through cat over pipes, framed the same way.
var framings = []string{"lines", "json", "length"}

// framed returns p as the framing puts one text message on the pipes. p
// holds nothing a JSON string must escape (message's digits and 'x's).
func framed(framing string, p []byte) []byte {
	switch framing {
	case "json":
		return fmt.Appendf(nil, `{"type":"text","data":"%s"}`+"\n", p)
	case "length":
		h := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(h[1:], uint64(len(p)))
		return append(h, p...)
	}
	return append(slices.Clone(p), '\n')
}

// startFramed starts a server running cat in framing; line mode, the
// default, without the flag, which websocketd does not have.
func (h *harness) startFramed(framing string) *server {
	if framing == "lines" {
		return h.startServer(h.cat)
	}
	return h.startServer("--framing="+framing, h.cat)
}

// framingNote names a framing in a row's metric, line mode by none.
func framingNote(framing string) string {
	if framing == "lines" {
		return ""
	}
	return ", --framing=" + framing
}

// ---- 4. pipelined echo -------------------------------------------------

// pipeline sends 200,000 64-byte messages through cat in framing while
// reading the echoes, checking order and count, against the same messages
// framed the same way through cat over pipes.
func (h *harness) pipeline(framing string) []row {
	const n, size = 200000, 64
	s := h.startFramed(framing)
	defer s.stop()
	r := row{metric: "4. pipelined echo, 200k × 64 B" + framingNote(framing), unit: "msg/s", higher: true}
	if framing == "lines" {
		r.target = 0.10
	}
	for range h.repeat {
		c := s.dial()
		c.NetConn().SetDeadline(time.Now().Add(2 * time.Minute)) // for all 200,000
		start := time.Now()
		werr := make(chan error, 1)
		go func() {
			msg := message(size)
			for i := range n {
				stamp(msg, i)
				if err := c.WriteMessage(wsproto.OpText, msg); err != nil {
					werr <- err
					return
				}
				if i%32 == 31 || i == n-1 {
					if err := c.Flush(); err != nil {
						werr <- err
						return
					}
				}
			}
			werr <- nil
		}()
		buf := make([]byte, 0, size)
		for i := range n {
			_, p, err := c.ReadMessage(buf)
			if err != nil {
				fatalf("pipeline: read %d: %v", i, err)
			}
			if len(p) != size || stamped(p) != i%1e8 {
				fatalf("pipeline: message %d out of order or cut: %q", i, p)
			}
		}
		if err := <-werr; err != nil {
			fatalf("pipeline: write: %v", err)
		}
		r.value = append(r.value, n/time.Since(start).Seconds())
		c.Close()

		p := h.spawn(h.cat)
		start = time.Now()
		// Every framed message has the same length, and its stamp the same
		// place: where the payload begins.
		rec := framed(framing, message(size))
		at := bytes.Index(rec, message(size))
		go func() {
			bw := bufio.NewWriterSize(p.stdin, 64<<10)
			for i := range n {
				stamp(rec[at:], i)
				bw.Write(rec)
			}
			bw.Flush()
			p.stdin.Close()
		}()
		br := bufio.NewReaderSize(p.stdout, 64<<10)
		got := make([]byte, len(rec))
		for i := range n {
			if _, err := io.ReadFull(br, got); err != nil || stamped(got[at:]) != i {
				fatalf("pipeline baseline: message %d: %q %v", i, got, err)
			}
		}
		r.base = append(r.base, n/time.Since(start).Seconds())
		p.close()
	}
	return []row{r}
}

// ---- 5. a 1 MiB line ----------------------------------------------------

// bigLine measures a 1 MiB message through cat and back in framing (in
// line mode, a 1 MiB line), against the same framed message over pipes.
func (h *harness) bigLine(framing string) []row {
	const size, trips = 1 << 20, 32
	s := h.startFramed(framing)
	defer s.stop()
	r := row{metric: "5. 1 MiB line round trip", unit: "MB/s", higher: true, target: 0.40}
	if framing != "lines" {
		r = row{metric: "5. 1 MiB message round trip" + framingNote(framing), unit: "MB/s", higher: true}
	}
	c := s.dial()
	defer c.Close()
	msg := message(size)
	buf := make([]byte, 0, size)
	pipe := h.pipeRoundTripOf(framed(framing, msg))
	for range h.repeat {
		ws := h.latencies(trips, func() { rt(c, msg, buf) })
		base := h.latencies(trips, pipe)
		r.value = append(r.value, size/median(ws)) // bytes per µs = MB/s
		r.base = append(r.base, size/median(base)) // the same over pipes
	}
	return []row{r}
}

// ---- 6. memory ------------------------------------------------------------

// memory opens idle connections (each has echoed one message, so every
// buffer a used connection keeps is counted) and reads the server's RSS, its
// children excluded, at 100, 1,000 and, with -big, 5,000 connections.
func (h *harness) memory() []row {
	levels := []int{100, 1000}
	if *bigFlag {
		levels = append(levels, 5000)
	}
	top := levels[len(levels)-1]
	// The server holds 5 descriptors a connection (socket, three pipes and
	// a pidfd: scenario fds counts them), the harness one. Each process has
	// its own count against the limit (the server inherits the harness's),
	// so the server's need is the one to meet.
	if got := raiseNoFile(uint64(8*top + 1024)); got < uint64(5*top+256) {
		fit := (int(got) - 256) / 5 / 100 * 100
		progress("memory: RLIMIT_NOFILE is %d (cannot raise it), too low for %d connections; going to %d", got, top, fit)
		levels, top = levels[:2], 1000
		if fit > 1000 {
			levels, top = append(levels, fit), fit
		}
	}
	rows := []row{
		{metric: "6. server RSS per idle conn, 100→1,000", unit: "KiB", target: 16, absolute: true},
	}
	if top > 1000 {
		rows = append(rows, row{metric: fmt.Sprintf("6. server RSS per idle conn, 1,000→%d", top), unit: "KiB", target: 16, absolute: true})
	}
	total := row{metric: fmt.Sprintf("6. server RSS at %d idle conns", top), unit: "MiB"}
	child := row{metric: "6. child (cat) RSS each, not counted above", unit: "KiB"}
	threads := row{metric: fmt.Sprintf("6. server OS threads at %d idle conns", top), unit: ""}
	repeats := min(h.repeat, 3)
	for range repeats {
		s := h.startServer(fmt.Sprintf("--maxforks=%d", top+16), h.cat)
		pid := s.pid()
		var conns []*wsproto.Conn
		rss := map[int]float64{}
		for _, level := range levels {
			for len(conns) < level {
				c := s.dial()
				rt(c, []byte("hi"), nil)
				conns = append(conns, c)
			}
			// Idle means quiet: let the last children settle, and the last
			// connections pass wsexec's one second of quiet (server/conn.go).
			time.Sleep(1500 * time.Millisecond)
			rss[level] = rssKiB(pid)
		}
		kids, kidRSS := childrenRSS(pid)
		rows[0].value = append(rows[0].value, (rss[1000]-rss[100])/900)
		if top > 1000 {
			rows[1].value = append(rows[1].value, (rss[top]-rss[1000])/float64(top-1000))
		}
		total.value = append(total.value, rss[top]/1024)
		threads.value = append(threads.value, statusField(pid, "Threads:"))
		if kids > 0 {
			child.value = append(child.value, kidRSS/float64(kids))
		}
		for _, c := range conns {
			c.Close()
		}
		s.stop()
	}
	return append(rows, total, threads, child)
}

// ---- 7. cost as work grows ------------------------------------------------

// sizes measures one round trip through cat for message sizes from 16 B to
// 1 MiB, against a TCP round trip plus a pipe round trip of the same size.
func (h *harness) sizes() []row {
	s := h.startServer(h.cat)
	defer s.stop()
	echo := startEcho()
	c := s.dial()
	defer c.Close()
	var rows []row
	for _, size := range []int{16, 256, 4 << 10, 64 << 10, 1 << 20} {
		n := max(8, min(1000, (32<<20)/size/4))
		r := row{metric: "7. round trip p50, " + sizeName(size), unit: "µs"}
		msg := message(size)
		buf := make([]byte, 0, size)
		tcp, tcpClose := tcpRoundTrip(echo, size)
		pipe := h.pipeRoundTrip(size)
		for range min(h.repeat, 3) {
			r.value = append(r.value, pct(h.latencies(n, func() { rt(c, msg, buf) }), 50))
			r.base = append(r.base, pct(h.latencies(n, tcp), 50)+pct(h.latencies(n, pipe), 50))
		}
		tcpClose()
		rows = append(rows, r)
	}
	return rows
}

// concurrency measures the aggregate round-trip rate of 64-byte messages
// over 1 to 256 connections, against as many workers doing a TCP and a pipe
// round trip each.
func (h *harness) concurrency() []row {
	s := h.startServer("--maxforks=2048", h.cat)
	defer s.stop()
	echo := startEcho()
	var rows []row
	for _, conns := range []int{1, 4, 16, 64, 256} {
		r := row{metric: fmt.Sprintf("7. round trips, %d conns", conns), unit: "rt/s", higher: true}
		for range min(h.repeat, 3) {
			rate, _ := h.concurrentRT(s, echo, conns, 64, 500*time.Millisecond, true)
			brate, _ := h.concurrentRT(s, echo, conns, 64, 500*time.Millisecond, false)
			r.value, r.base = append(r.value, rate), append(r.base, brate)
		}
		rows = append(rows, r)
	}
	return rows
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

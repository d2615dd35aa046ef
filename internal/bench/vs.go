//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// ---- side by side with websocketd (-websocketd) ---------------------------

// sideBySide runs scenario s for wsexec (h) and websocketd (vs) in turn,
// one repeat at a time: wsexec, websocketd, wsexec, websocketd..., so that
// a machine busier in one minute than the next weighs on both. Each turn
// measures its baseline too. The rows returned hold wsexec's figures in
// value, websocketd's in vs, and the baselines of every turn in base. A
// scenario that needs a flag websocketd lacks runs for wsexec alone, its
// rows marked vsNA.
func sideBySide(h, vs *harness, s scenario) []row {
	if s.wsexecOnly {
		rows := s.run(h)
		for i := range rows {
			rows[i].vsNA = true
		}
		return rows
	}
	one, other := *h, *vs
	one.repeat, other.repeat = 1, 1
	var rows []row
	for range h.repeat {
		a := s.run(&one)
		b := s.run(&other)
		if rows == nil {
			for _, r := range a {
				r.value, r.base = nil, nil
				rows = append(rows, r)
			}
		}
		if len(a) != len(rows) || len(b) != len(rows) {
			fatalf("scenario %s: %d rows for wsexec, %d for websocketd, %d before", s.name, len(a), len(b), len(rows))
		}
		for i := range rows {
			if a[i].metric != rows[i].metric || b[i].metric != rows[i].metric {
				fatalf("scenario %s: row %d is %q for wsexec, %q for websocketd", s.name, i, a[i].metric, b[i].metric)
			}
			rows[i].value = append(rows[i].value, a[i].value...)
			rows[i].vs = append(rows[i].vs, b[i].value...)
			rows[i].base = slices.Concat(rows[i].base, a[i].base, b[i].base)
		}
	}
	return rows
}

// startWebsocketd runs websocketd on 127.0.0.1 with args (flags, then the
// command), as startServer runs wsexec. websocketd reads --port=0 as its
// default port, 80, so the port is picked here: one the kernel has just
// handed out and taken back. Should another process bind it first,
// websocketd exits and the next try picks another.
func (h *harness) startWebsocketd(args ...string) *server {
	const tries = 3
	for range tries {
		if s := h.tryWebsocketd(freePort(), args); s != nil {
			return s
		}
	}
	fatalf("websocketd %v exited before listening, %d times", args, tries)
	return nil
}

// tryWebsocketd starts websocketd on port and waits until it accepts a TCP
// connection. It returns nil if websocketd exits first.
func (h *harness) tryWebsocketd(port int, args []string) *server {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	all := append([]string{"--port=" + strconv.Itoa(port), "--address=127.0.0.1"}, args...)
	s := &server{cmd: exec.Command(h.bin, all...), addr: addr, exited: make(chan struct{})}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // as startServer
	s.cmd.Stderr = os.Stderr                                             // where it says why it would not start
	// Its log, one access line per connect and disconnect, is drained.
	logs, err := s.cmd.StdoutPipe()
	if err != nil {
		fatalf("%v", err)
	}
	if err := s.cmd.Start(); err != nil {
		fatalf("start %s: %v", h.bin, err)
	}
	go func() {
		defer close(s.exited)
		io.Copy(io.Discard, logs)
		s.cmd.Wait()
	}()
	atExit(s.stop)
	// websocketd logs its URL before it listens, so the log cannot say
	// when it is ready: a connection accepted does.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if nc, err := net.Dial("tcp", addr); err == nil {
			nc.Close()
			return s
		}
		select {
		case <-s.exited:
			return nil
		case <-tick.C:
		}
	}
	fatalf("websocketd %v did not listen on %s within 10 s", all, addr)
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// streamEnded reports whether err, from reading a stream, is the end the
// server meant: a close frame with 1000 or, from websocketd, which closes
// the socket without a close frame once the program has exited, the end
// of the socket.
func (h *harness) streamEnded(err error) bool {
	var ce *wsproto.CloseError
	if errors.As(err, &ce) {
		return ce.Code == wsproto.CloseNormal
	}
	return h.websocketd && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
}

// version returns the first line bin prints for --version.
func version(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "--version: " + err.Error()
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// printSideBySide prints each row for both servers: the medians with their
// spread, their ratio, which is better, and the baseline with each
// server's ratio to it.
func printSideBySide(rows []row) {
	fmt.Println("| metric | wsexec | websocketd | wsexec / websocketd | better | baseline | wsexec / baseline | websocketd / baseline | |")
	fmt.Println("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
	for _, r := range rows {
		a, b := median(r.value), median(r.vs)
		vsS, ratio, win := "n/a", "-", "-"
		if !r.vsNA {
			vsS = figure(r.vs, r.unit)
			ratio = times(a / b)
			win = better(r)
		}
		base, baseA, baseB := "-", "-", "-"
		if len(r.base) > 0 {
			m := median(r.base)
			base = num(m) + " " + r.unit
			baseA = times(a / m)
			if !r.vsNA {
				baseB = times(b / m)
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.metric, figure(r.value, r.unit), vsS, ratio, win, base, baseA, baseB, r.note)
	}
}

// figure is a median, its unit and its spread.
func figure(v []float64, unit string) string {
	if len(v) == 0 {
		return "-"
	}
	return strings.TrimSpace(num(median(v))+" "+unit) + " " + spread(v)
}

// times formats a ratio, or "-" for none.
func times(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	if f < 0.1 {
		return fmt.Sprintf("%.3f×", f)
	}
	return fmt.Sprintf("%.2f×", f)
}

// better names the server whose median is better, or "even" when their
// ratio prints as 1.00×, adding "(ranges overlap)" when the ranges of
// their repeats do: the next run may order them the other way.
func better(r row) string {
	if len(r.value) == 0 || len(r.vs) == 0 {
		return "-"
	}
	a, b := median(r.value), median(r.vs)
	name := "even"
	switch {
	case math.Abs(a/b-1) < 0.005:
	case a > b == r.higher:
		name = "wsexec"
	default:
		name = "websocketd"
	}
	if max(slices.Min(r.value), slices.Min(r.vs)) <= min(slices.Max(r.value), slices.Max(r.vs)) {
		name += " (ranges overlap)"
	}
	return name
}

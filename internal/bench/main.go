//go:build linux

// Command bench is wsexec's end-to-end benchmark harness, run by `make bench`
// as `go run ./internal/bench -bin bin/wsexec`. It starts the real binary on
// loopback with real programs (cat, seq), drives it with a client built on
// wsproto's client role, and measures each scenario beside the bare cost of
// the same work without WebSocket (spawning the program, pipe and TCP round
// trips) in the same run. Every figure is the median of several repeats; the
// table gives its spread, the baseline, their ratio and the target for that
// ratio. docs/benchmarks.md explains the scenarios and the figures. It runs
// on Linux only: it reads /proc for memory, CPU time and the machine.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	binFlag    = flag.String("bin", "bin/wsexec", "the wsexec `binary` to measure (make bench builds it)")
	repeatFlag = flag.Int("repeat", 5, "repeats of each measurement; the table shows their median")
	bigFlag    = flag.Bool("big", false, "also measure memory at 5,000 idle connections (slower)")
	onlyFlag   = flag.String("only", "", "run only the scenarios whose names contain this `text` (cycle, rtt, stream, pipeline, pipeline-json, pipeline-length, mib, mib-json, mib-length, memory, fds, limits, footprint, size, conc, gates, fanout)")
	vsFlag     = flag.String("websocketd", "", "also measure this websocketd `binary`, side by side with wsexec in the same run (make bench WEBSOCKETD=...)")
)

// row is one line of the table. value and base hold one figure per repeat;
// base may be empty (no baseline). ratio is median(value)/median(base).
// target, when not zero, is the bound the ratio must meet: at least target
// when higher is better, at most target otherwise; absolute targets apply
// to the value itself.
type row struct {
	metric   string
	unit     string
	value    []float64
	base     []float64
	higher   bool    // higher values are better
	target   float64 // 0: none
	absolute bool    // target bounds the value, not the ratio
	note     string
	// In a side-by-side run (-websocketd), vs holds websocketd's figures,
	// one per repeat, and vsNA says websocketd has nothing to compare
	// (the scenario uses a flag only wsexec has).
	vs   []float64
	vsNA bool
}

// scenario is one part of the run; run measures it with the harness given.
type scenario struct {
	name       string
	run        func(*harness) []row
	extra      time.Duration // more time than the others get
	wsexecOnly bool          // uses flags websocketd has no equivalent of
}

func main() {
	if os.Getenv(echoEnv) != "" {
		serveEcho()
		return
	}
	if len(os.Args) > 1 && os.Args[1] == feedArg {
		runFeed()
		return
	}
	flag.Parse()
	bin, err := exec.LookPath(*binFlag)
	if err != nil {
		fatalf("-bin %s: %v (run make build first)", *binFlag, err)
	}
	catPath := mustLook("cat")
	seqPath := mustLook("seq")
	start := time.Now()

	h := &harness{bin: bin, cat: catPath, seq: seqPath, repeat: max(*repeatFlag, 1)}
	var vs *harness // websocketd's harness in a side-by-side run
	if *vsFlag != "" {
		wsd, err := exec.LookPath(*vsFlag)
		if err != nil {
			fatalf("-websocketd %s: %v", *vsFlag, err)
		}
		vs = &harness{bin: wsd, cat: catPath, seq: seqPath, repeat: h.repeat, websocketd: true}
	}
	scenarios := []scenario{
		{name: "cycle", run: (*harness).cycle},
		{name: "rtt", run: (*harness).roundTrip},
		{name: "stream", run: (*harness).stream},
	}
	// The pipelined echo and the 1 MiB round trip in each framing, line
	// mode first: pipeline, pipeline-json, pipeline-length, mib...
	for _, run := range []struct {
		name string
		f    func(*harness, string) []row
	}{{"pipeline", (*harness).pipeline}, {"mib", (*harness).bigLine}} {
		for _, framing := range framings {
			name := run.name
			if framing != "lines" {
				name += "-" + framing
			}
			scenarios = append(scenarios, scenario{name: name,
				run:        func(h *harness) []row { return run.f(h, framing) },
				wsexecOnly: framing != "lines"})
		}
	}
	scenarios = append(scenarios, []scenario{
		{name: "memory", run: (*harness).memory},
		{name: "fds", run: (*harness).descriptors},
		{name: "limits", run: (*harness).limits},
		{name: "footprint", run: (*harness).footprint},
		{name: "size", run: (*harness).sizes},
		{name: "conc", run: (*harness).concurrency},
		{name: "gates", run: (*harness).gates, wsexecOnly: true},
		{name: "fanout", run: (*harness).fanout, extra: fanDropWait + 2*time.Minute, wsexecOnly: true},
	}...)
	var rows []row
	for _, s := range scenarios {
		if *onlyFlag != "" && !strings.Contains(s.name, *onlyFlag) {
			continue
		}
		progress("scenario %s", s.name)
		// No connection has a deadline while it is measured (one would
		// cost a timer per operation): a scenario that hangs is ended here,
		// with its servers stopped by fatalf. The bound is generous, a
		// scenario takes seconds a repeat.
		limit := 2*time.Minute + time.Duration(h.repeat)*time.Minute + s.extra
		if vs != nil {
			limit *= 2
		}
		timer := time.AfterFunc(limit, func() { fatalf("scenario %s: no result after %v", s.name, limit) })
		if vs != nil {
			rows = append(rows, sideBySide(h, vs, s)...)
		} else {
			rows = append(rows, s.run(h)...)
		}
		timer.Stop()
	}
	runAtExit()
	fmt.Println(machine())
	fmt.Printf("repeats: %d; total time %v\n\n", h.repeat, time.Since(start).Round(time.Second))
	if vs != nil {
		fmt.Printf("wsexec: %s (%s)\nwebsocketd: %s (%s)\n\n", h.bin, version(h.bin), vs.bin, version(vs.bin))
		printSideBySide(rows)
		return
	}
	printTable(rows)
}

func mustLook(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		fatalf("%s: %v", name, err)
	}
	return p
}

// atExits are the cleanups of the run (servers to stop, baseline programs
// and echo processes to end), run last first by runAtExit.
var (
	atExitMu   sync.Mutex
	atExits    []func()
	atExitOnce sync.Once
)

// atExit adds f to the cleanups that runAtExit runs, at the end of main or
// in fatalf: os.Exit skips deferred calls, and a failing run must not leave
// a wsexec listening or programs running behind it.
func atExit(f func()) {
	atExitMu.Lock()
	defer atExitMu.Unlock()
	atExits = append(atExits, f)
}

// runAtExit runs the cleanups once, the last added first. A second caller
// (fatalf on another goroutine) waits for the first to finish.
func runAtExit() {
	atExitOnce.Do(func() {
		atExitMu.Lock()
		fs := atExits
		atExits = nil
		atExitMu.Unlock()
		for _, f := range slices.Backward(fs) {
			f()
		}
	})
}

// fatalf reports the failure, runs the cleanups and exits with status 1.
// The cleanups get 30 s (a server's stop alone may take 20 s before its
// SIGKILL); past that the harness exits anyway.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	done := make(chan struct{})
	go func() {
		runAtExit()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "bench: cleanup still running after 30 s; exiting without it")
	}
	os.Exit(1)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// machine describes where the figures come from.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("machine: %s, %d CPUs, Linux %s, %s %s/%s",
		cpu, runtime.NumCPU(), kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is half the range of v (max - min) as a percentage of its median,
// printed as ±N% (docs/benchmarks.md reads it so).
func spread(v []float64) string {
	if len(v) < 2 {
		return "-"
	}
	m := median(v)
	if m == 0 {
		return "-"
	}
	return fmt.Sprintf("±%.0f%%", 50*(slices.Max(v)-slices.Min(v))/m)
}

// num formats a figure with three significant digits and SI-ish suffixes.
func num(f float64) string {
	a := math.Abs(f)
	switch {
	case math.IsNaN(f):
		return "-"
	case a >= 10e9:
		return fmt.Sprintf("%.1fG", f/1e9)
	case a >= 10e6:
		return fmt.Sprintf("%.1fM", f/1e6)
	case a >= 10e3:
		return fmt.Sprintf("%.1fk", f/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", f)
	case a >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func printTable(rows []row) {
	fmt.Println("| metric | median | spread | baseline | ratio | target | |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range rows {
		m := median(r.value)
		base, ratio := "-", math.NaN()
		if len(r.base) > 0 {
			b := median(r.base)
			base = num(b) + " " + r.unit
			ratio = m / b
		}
		target, verdict := "-", ""
		if r.target != 0 {
			got := ratio
			if r.absolute {
				got = m
			}
			ok := got >= r.target
			op := "≥"
			if !r.higher {
				ok, op = got <= r.target, "≤"
			}
			target = op + num(r.target)
			if r.absolute {
				target += " " + r.unit
			} else {
				target += "×"
			}
			verdict = "ok"
			if !ok {
				verdict = "**miss**"
			}
		}
		ratioS := "-"
		if !math.IsNaN(ratio) {
			ratioS = fmt.Sprintf("%.2f×", ratio)
		}
		if r.note != "" {
			verdict = strings.TrimSpace(verdict + " " + r.note)
		}
		fmt.Printf("| %s | %s %s | %s | %s | %s | %s | %s |\n",
			r.metric, num(m), r.unit, spread(r.value), base, ratioS, target, verdict)
	}
}

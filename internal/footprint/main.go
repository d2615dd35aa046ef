//go:build linux

// Command footprint shows where wsexec's bytes go: it builds wsexec the
// ways a user might (cgo on or off, with or without the Makefile's size
// tags) and a few probe programs that link only part of what wsexec links
// (probe/: the standard library's HTTP server, urfave/cli, text/template,
// a server with no net/http at all), then prints each binary's stripped
// size and the resident memory of the program idling on loopback.
// `make footprint` runs it; docs/benchmarks.md ("Where the bytes go")
// reads the table. Linux only: it reads /proc.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sizeTags are the Makefile's TAGS.
const sizeTags = "urfave_cli_no_docs nethttpomithttp2"

// variant is one binary to build: the package, its build tags and
// whether cgo is on.
type variant struct {
	name string
	pkg  string
	tags string
	cgo  bool
	args []string // how it idles: what follows the binary
}

var (
	settleFlag = flag.Duration("settle", 500*time.Millisecond, "how long a program idles after it logs that it listens before its memory is read")
	goarchFlag = flag.String("goarch", "", "build for this GOARCH instead of the host's (sizes only: the programs are not run)")
)

func main() {
	flag.Parse()
	wsexec := []string{"--address=127.0.0.1", "--port=0", "cat"}
	probe := []string{"-listen=127.0.0.1:0"}
	variants := []variant{
		{"wsexec, go build . (cgo on, no tags)", ".", "", true, wsexec},
		{"wsexec, CGO_ENABLED=0", ".", "", false, wsexec},
		{"wsexec, + urfave_cli_no_docs", ".", "urfave_cli_no_docs", false, wsexec},
		{"wsexec, + nethttpomithttp2 (make build)", ".", sizeTags, false, wsexec},
		{"wsexec tiny (make tiny)", ".", sizeTags + " tiny", false, wsexec},
		{"probe: net/http server, crypto/tls, net/http/cgi, slog, flate", "./internal/footprint/probe/httpserver", "", false, probe},
		{"probe: the same, nethttpomithttp2", "./internal/footprint/probe/httpserver", "nethttpomithttp2", false, probe},
		{"probe: the same, + text/template", "./internal/footprint/probe/httpserver", "nethttpomithttp2 probetemplate", false, probe},
		{"probe: the same, + urfave/cli (no docs)", "./internal/footprint/probe/httpserver", "nethttpomithttp2 probecli urfave_cli_no_docs", false, probe},
		{"probe: no net/http (net, textproto, flate, slog, flag, os/exec)", "./internal/footprint/probe/core", "", false, probe},
		{"probe: the same, requests read by net/http.ReadRequest", "./internal/footprint/probe/core", "probehttp", false, probe},
	}
	dir, err := os.MkdirTemp("", "wsexec-footprint-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(dir)
	arch := *goarchFlag
	if arch == "" {
		arch = strings.TrimSpace(goEnv("GOARCH"))
	}
	fmt.Printf("linux/%s, %s, stripped (-trimpath -ldflags '-s -w'); idle RSS %s after listening\n\n", arch, strings.TrimSpace(goEnv("GOVERSION")), *settleFlag)
	fmt.Println("| binary | bytes | MB | idle RSS (KiB) | of which file-backed |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: |")
	for i, v := range variants {
		bin := filepath.Join(dir, strconv.Itoa(i))
		if err := build(v, bin); err != nil {
			fatalf("%s: %v", v.name, err)
		}
		fi, err := os.Stat(bin)
		if err != nil {
			fatalf("%v", err)
		}
		rss, file := "-", "-"
		if *goarchFlag == "" {
			total, fileBacked, err := idleRSS(bin, v.args)
			if err != nil {
				fatalf("%s: %v", v.name, err)
			}
			rss, file = strconv.Itoa(total), strconv.Itoa(fileBacked)
		}
		fmt.Printf("| %s | %d | %.2f | %s | %s |\n", v.name, fi.Size(), float64(fi.Size())/1e6, rss, file)
	}
}

func build(v variant, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags="+strings.ReplaceAll(v.tags, " ", ","), "-o", out, v.pkg)
	cgo := "0"
	if v.cgo {
		cgo = "1"
	}
	// GOFLAGS is cleared: the Makefile exports its tags through it, and
	// each variant says its own.
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo, "GOFLAGS=")
	if *goarchFlag != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+*goarchFlag)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, b)
	}
	return nil
}

// idleRSS starts bin with args, waits for its "listening" log line (on
// stdout or stderr), lets it idle for -settle and returns its VmRSS and
// the file-backed part of it (RssFile), in KiB.
func idleRSS(bin string, args []string) (int, int, error) {
	cmd := exec.Command(bin, args...)
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	w.Close()
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		r.Close()
	}()
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				listening <- true
				break
			}
		}
		listening <- false
	}()
	select {
	case ok := <-listening:
		if !ok {
			return 0, 0, fmt.Errorf("exited without listening")
		}
	case <-time.After(10 * time.Second):
		return 0, 0, fmt.Errorf("not listening after 10 s")
	}
	time.Sleep(*settleFlag)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	return statusKiB(status, "VmRSS"), statusKiB(status, "RssFile"), nil
}

// statusKiB reads one "Name:   123 kB" line of /proc/PID/status.
func statusKiB(status []byte, field string) int {
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		fatalf("go env %s: %v", name, err)
	}
	return string(out)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "footprint: "+format+"\n", args...)
	os.Exit(1)
}

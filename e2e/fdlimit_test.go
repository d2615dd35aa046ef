package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// TestFileLimitWarning: at start-up wsexec warns, with the numbers and
// what to do, when its file descriptor limit cannot hold --maxforks
// connections; and does not when it can. A low soft limit under a high
// hard one is no reason to warn: the Go runtime raises the soft limit to
// the hard one.
func TestFileLimitWarning(t *testing.T) {
	t.Parallel()
	var own syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &own); err != nil {
		t.Fatal(err)
	}
	const warning = `level=WARN msg="file descriptor limit too low for maxforks"`
	tests := []struct {
		name    string
		ulimit  string // sh's ulimit arguments: -n sets both limits, -Sn the soft one
		args    []string
		want    []string // what the warning says; nil: no warning
		soft    string   // wsexec's soft limit once running, from /proc; "" unchecked
		minHard uint64   // the hard limit the case needs, else it is skipped
	}{
		{"too low for the default maxforks", "-n 200", nil,
			[]string{"limit=200 ", "need=5184 ", "maxforks=1024 ", "holds=27 ", "ulimit -n", "LimitNOFILE=", "--maxforks"}, "", 0},
		{"high enough for maxforks=10", "-n 200", []string{"--maxforks=10"}, nil, "", 0},
		{"low soft limit, raised to the hard one", "-Sn 200", nil, nil, strconv.FormatUint(uint64(own.Max)-1, 10), 10_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if uint64(own.Max) < tc.minHard {
				t.Skipf("the hard limit here, %d, is below %d", own.Max, tc.minHard)
			}
			wrapper := []string{"sh", "-c", `ulimit ` + tc.ulimit + ` && exec "$0" "$@"`}
			s := launchUnder(t, wrapper, append([]string{"--port=0", "--address=127.0.0.1"}, append(tc.args, "cat")...)...)
			// The check runs before the listening line, which launch waited for.
			var line string
			for l := range strings.SplitSeq(s.logText(), "\n") {
				if strings.Contains(l, warning) {
					line = l
				}
			}
			switch {
			case tc.want == nil && line != "":
				t.Fatalf("unexpected warning: %s", line)
			case tc.want != nil && line == "":
				t.Fatalf("no warning:\n%s", s.logText())
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("the warning does not say %q: %s", w, line)
				}
			}
			if got := softLimit(t, s.pid()); tc.soft != "" && got != tc.soft {
				t.Errorf("wsexec's soft limit is %s, want %s", got, tc.soft)
			}
		})
	}
}

// softLimit reads pid's soft RLIMIT_NOFILE from /proc.
func softLimit(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no open files line in /proc/%d/limits", pid)
	return ""
}

// TestDescriptorsPerConnection counts the server's descriptors while
// connections are held, by difference between two counts, so that what
// the first connection opens once (the watcher's epoll set, the fork
// thread) is left out: the socket, the three pipes and one pidfd, no
// more (docs/security.md gives operators the figure).
func TestDescriptorsPerConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	const n = 16
	hold := func() int {
		for range n {
			echo(t, dial(t, s.addr, "/", nil), "up")
		}
		return fdCount(t, s.pid())
	}
	first := hold()
	second := hold()
	if per := float64(second-first) / n; per > 5 {
		t.Fatalf("%.2f descriptors per connection (%d with %d connections, %d with %d), want at most 5",
			per, first, n, second, 2*n)
	}
}

// TestProgramCannotStart: a program that cannot start for another reason
// than descriptors (here a script whose interpreter is missing) is a 500,
// without Retry-After, and the server goes on serving.
func TestProgramCannotStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/broken.sh", []byte("#!/nonexistent/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/ok.sh", []byte("#!/bin/sh\nexec cat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--dir="+dir)
	r := rawRequest(t, s.addr, "GET", "/broken.sh", true)
	if r.status != http.StatusInternalServerError || r.header.Get("Retry-After") != "" {
		t.Fatalf("a program that cannot start: %d, Retry-After %q; want 500 without it", r.status, r.header.Get("Retry-After"))
	}
	echo(t, dial(t, s.addr, "/ok.sh", nil), "still serving")
}

// TestOutOfDescriptors: under a descriptor limit too low for every client,
// the connections that fit are served, the others are refused with 503
// and Retry-After (not a 500), at once or concurrently, with a log line
// that names the limit; the held ones keep working, and once some close,
// new ones get in.
func TestOutOfDescriptors(t *testing.T) {
	t.Parallel()
	const limit = 64 // about 10 connections
	wrapper := []string{"sh", "-c", `ulimit -n ` + strconv.Itoa(limit) + ` && exec "$0" "$@"`}
	s := launchUnder(t, wrapper, "--port=0", "--address=127.0.0.1", "cat")

	var held []*wsproto.Conn
	var refused *http.Response
	for range limit {
		c, resp, err := dialWS(s.addr, "/", nil)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(held), err)
		}
		if c == nil {
			refused = resp
			break
		}
		t.Cleanup(func() { c.Close() })
		echo(t, c, "up")
		held = append(held, c)
	}
	if refused == nil || len(held) < 5 {
		t.Fatalf("%d connections held under a limit of %d, then %v", len(held), limit, refused)
	}
	checkRefused := func(resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("past the limit: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
		}
	}
	checkRefused(refused)
	logged := regexp.MustCompile(`level=INFO msg=refused .*limit=` + strconv.Itoa(limit) + ` open=\d+ err=.*too many open files.* status=503`)
	waitFor(t, 5*time.Second, "a refusal that names the limit in the log", func() bool { return logged.MatchString(s.logText()) })

	// More clients at once than there are descriptors for their sockets.
	const extra = 200
	start := time.Now()
	resps := make(chan *http.Response, extra)
	errs := make(chan error, extra)
	for range extra {
		go func() {
			resp, err := upgrade(s.addr, nil)
			if err != nil {
				errs <- err
				return
			}
			resps <- resp
		}()
	}
	for range extra {
		select {
		case err := <-errs:
			t.Fatal(err)
		case resp := <-resps:
			checkRefused(resp)
		}
	}
	t.Logf("%d held under a limit of %d; %d more refused together in %v", len(held), limit, extra, time.Since(start))

	for _, c := range held {
		echo(t, c, "still here")
	}
	half := len(held) / 2
	for _, c := range held[:half] {
		c.WriteClose(wsproto.CloseNormal, "")
		readClose(t, c)
	}
	waitFor(t, 10*time.Second, "programs of the closed connections to be reaped", func() bool {
		return len(children(t, s.pid())) == len(held)-half
	})
	for range half {
		echo(t, dial(t, s.addr, "/", nil), "back in")
	}
}

// TestOutOfDescriptorsAtAccept: when every descriptor is held by sockets
// that start no program (clients that send nothing), accepting fails: the
// server says so once, with the limit, and a client that comes then
// waits in the listen backlog and is served once a descriptor is free.
func TestOutOfDescriptorsAtAccept(t *testing.T) {
	t.Parallel()
	const limit = 64
	wrapper := []string{"sh", "-c", `ulimit -n ` + strconv.Itoa(limit) + ` && exec "$0" "$@"`}
	s := launchUnder(t, wrapper, "--port=0", "--address=127.0.0.1", "cat")
	var silent []net.Conn
	for range limit {
		silent = append(silent, rawConn(t, s.addr))
	}
	logged := regexp.MustCompile(`level=WARN msg="out of file descriptors: accepting waits for one to be free" limit=` + strconv.Itoa(limit) + ` err=.*too many open files`)
	waitFor(t, 10*time.Second, "the accept failure in the log", func() bool { return logged.MatchString(s.logText()) })

	// Its TCP handshake completes in the backlog; its request waits there.
	nc := rawConn(t, s.addr)
	for _, c := range silent {
		c.Close()
	}
	// The server closes its ends as it reads their EOFs; its request is
	// sent once they are closed, so that the program it starts has the
	// descriptors it needs (else 503, as TestOutOfDescriptors checks).
	waitFor(t, 10*time.Second, "the server to close the silent connections", func() bool {
		return fdCount(t, s.pid()) <= limit/2
	})
	c, resp, err := wstest.Handshake(nc, s.addr, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.Fatalf("the client that waited: %s, want 101", resp.Status)
	}
	echo(t, c, "in")
}

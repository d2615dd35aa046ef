//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// harness holds what every scenario needs.
type harness struct {
	bin, cat, seq string
	repeat        int
	// websocketd says bin is websocketd, measured beside wsexec
	// (-websocketd): it is started on a port picked here
	// (startWebsocketd) and ends a stream without a close frame.
	websocketd bool
}

// server is one running wsexec (or websocketd, beside it).
type server struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	drop   atomic.Int64 // when it first logged a client dropped (Unix ns), or 0
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer runs wsexec on 127.0.0.1, port 0, at its default log level
// (one access line per connect and disconnect, drained here), with args
// (flags, then the command).
func (h *harness) startServer(args ...string) *server {
	if h.websocketd {
		return h.startWebsocketd(args...)
	}
	all := append([]string{"--port=0", "--address=127.0.0.1"}, args...)
	s := &server{cmd: exec.Command(h.bin, all...), exited: make(chan struct{})}
	// Should the harness die without its cleanups (SIGKILL), the kernel
	// sends the server SIGTERM rather than leave it listening.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	logs, err := s.cmd.StdoutPipe() // the log's default place
	if err != nil {
		fatalf("%v", err)
	}
	if err := s.cmd.Start(); err != nil {
		fatalf("start %s: %v", h.bin, err)
	}
	addr := make(chan string, 1)
	go func() {
		defer close(s.exited)
		br := bufio.NewReader(logs)
		for {
			line, err := br.ReadString('\n')
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
				break
			}
			if err != nil {
				s.cmd.Wait()
				return
			}
		}
		for {
			line, err := br.ReadSlice('\n')
			if bytes.Contains(line, []byte("msg=dropped")) {
				s.drop.CompareAndSwap(0, time.Now().UnixNano())
			}
			if err != nil && err != bufio.ErrBufferFull {
				break
			}
		}
		s.cmd.Wait()
	}()
	// Registered before the wait for its address, so that a fatalf from
	// here on stops it too.
	atExit(s.stop)
	select {
	case s.addr = <-addr:
	case <-s.exited:
		fatalf("wsexec %v exited before listening", all)
	case <-time.After(10 * time.Second):
		fatalf("wsexec %v did not log its address", all)
	}
	return s
}

// stop shuts the server down with SIGTERM and waits for it (SIGKILL after
// 20 s). A second call returns at once: the scenarios stop their servers,
// and runAtExit stops them again.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// firstDrop is when the server first logged a client dropped for falling
// behind (--broadcast), or the zero time.
func (s *server) firstDrop() time.Time {
	if ns := s.drop.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// dial opens a WebSocket to s.
func (s *server) dial() *wsproto.Conn {
	c, resp, err := wstest.Dial(s.addr, "/", nil)
	if err != nil {
		fatalf("dial %s: %v", s.addr, err)
	}
	if c == nil {
		fatalf("dial %s: status %s", s.addr, resp.Status)
	}
	return c
}

// rssKiB returns VmRSS of pid, in KiB, from /proc/PID/status: the process
// alone, its children excluded.
func rssKiB(pid int) float64 { return statusField(pid, "VmRSS:") }

// statusField returns the number of a field of /proc/PID/status.
func statusField(pid int, name string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == name {
			n, _ := strconv.ParseFloat(f[1], 64)
			return n
		}
	}
	return 0
}

// childrenRSS returns the number of children of pid and the sum of their
// VmRSS in KiB.
func childrenRSS(pid int) (int, float64) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0
	}
	n, sum := 0, 0.0
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(child)
		if len(f) < 2 || f[1] != strconv.Itoa(pid) { // f[1]: ppid
			continue
		}
		n++
		sum += rssKiB(child)
	}
	return n, sum
}

// raiseNoFile lifts RLIMIT_NOFILE (inherited by the server) to want if it
// can, and returns the soft limit now in force.
func raiseNoFile(want uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	if lim.Cur >= want {
		return lim.Cur
	}
	try := syscall.Rlimit{Cur: want, Max: max(lim.Max, want)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try) == nil {
		return want
	}
	lim.Cur = lim.Max // not root: as far as the hard limit goes
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// cpuTimes is CPU time used so far, in seconds (user and system): the
// harness's own and that of its reaped children, and the same for the
// server (its reaped children are its programs).
type cpuTimes struct{ self, children, server, serverChildren float64 }

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, which Linux
// fixes at 100 for user space.
const userHZ = 100

// readCPU returns the CPU times of the harness and of the server pid.
func readCPU(pid int) cpuTimes {
	var t cpuTimes
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.self = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		t.children = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	// utime stime cutime cstime are fields 14 to 17.
	f := statFields(pid)
	if len(f) < 15 {
		return t
	}
	tick := func(i int) float64 {
		n, _ := strconv.ParseFloat(f[i-3], 64)
		return n / userHZ
	}
	t.server = tick(14) + tick(15)
	t.serverChildren = tick(16) + tick(17)
	return t
}

// statFields returns the fields of /proc/PID/stat from the third (state)
// on, or nil: the second, comm, may hold spaces, so they are split after
// its ')'.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

func (t cpuTimes) sub(u cpuTimes) cpuTimes {
	return cpuTimes{t.self - u.self, t.children - u.children, t.server - u.server, t.serverChildren - u.serverChildren}
}

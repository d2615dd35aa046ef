//go:build linux

package main

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// ---- 10. descriptors ----------------------------------------------------

// descriptors measures what a held connection costs the server in file
// descriptors, counted in /proc/PID/fd between 100 and 200 connections (so
// that what the first one opens once is left out), and how many
// connections a descriptor limit holds (heldUnder): 1,024 and 4,096, and
// with -big 20,000 and 65,536.
func (h *harness) descriptors() []row {
	per := row{metric: "10. server descriptors per held conn, 100→200", unit: "", target: 5, absolute: true, note: "from /proc/PID/fd"}
	for range min(h.repeat, 3) {
		s := h.startServer("--maxforks=256", h.cat)
		var conns []*wsproto.Conn
		fds := map[int]int{}
		for _, level := range []int{100, 200} {
			for len(conns) < level {
				c := s.dial()
				rt(c, []byte("hi"), nil)
				conns = append(conns, c)
			}
			fds[level] = openFDs(s.pid())
		}
		per.value = append(per.value, float64(fds[200]-fds[100])/100)
		for _, c := range conns {
			c.Close()
		}
		s.stop()
	}
	rows := []row{per}
	limits := []int{1024, 4096}
	if *bigFlag {
		limits = append(limits, 20000, 65536)
	}
	for _, limit := range limits {
		rows = append(rows, h.heldUnder(limit))
	}
	return rows
}

// heldUnder sets the server's RLIMIT_NOFILE to limit, soft and hard, once
// it runs (prlimit, as `ulimit -n` before its start would do), and has a
// quarter of limit in clients connect, 32 at a time, each holding its
// connection: the experiment was 5,000 clients under 20,000. It
// counts the connections answered 101 that then echo, and notes how the
// others were answered (503 with Retry-After, by design) and the server's
// descriptors per held connection. Once: a run at the largest limit starts
// thousands of programs.
func (h *harness) heldUnder(limit int) row {
	clients := limit / 4
	r := row{metric: fmt.Sprintf("10. conns held under ulimit -n %d, %d clients", limit, clients), unit: "conns", higher: true}
	if got := raiseNoFile(uint64(max(limit, clients+1024))); got < uint64(max(limit, clients+1024)) {
		progress("fds: RLIMIT_NOFILE is %d (cannot raise it): the limit of %d is not measured", got, limit)
		r.note = fmt.Sprintf("not measured: the harness could not raise its own limit past %d", got)
		return r
	}
	s := h.startServer(fmt.Sprintf("--maxforks=%d", clients+16), h.cat)
	defer s.stop()
	setNoFile(s.pid(), limit)
	base := openFDs(s.pid())
	var (
		mu      sync.Mutex
		held    []*wsproto.Conn
		refused = map[string]int{}
	)
	parallel(32, clients, func(int) {
		c, resp, err := wstest.Dial(s.addr, "/", nil)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			refused["error"]++
		case c == nil && resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
			refused["503"]++
		case c == nil:
			refused[resp.Status]++
		default:
			held = append(held, c)
		}
	})
	perConn := float64(openFDs(s.pid())-base) / float64(max(len(held), 1))
	for _, c := range held {
		rt(c, []byte("still here"), nil)
		c.Close()
	}
	r.value = []float64{float64(len(held))}
	var answers []string
	for what, n := range refused {
		answers = append(answers, fmt.Sprintf("%s ×%d", what, n))
	}
	sort.Strings(answers)
	r.note = fmt.Sprintf("the others: %s; %.2f descriptors each", strings.Join(answers, ", "), perConn)
	return r
}

// openFDs counts the descriptors process pid has open.
func openFDs(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		fatalf("count descriptors: %v", err)
	}
	return len(ents)
}

// setNoFile sets RLIMIT_NOFILE of process pid, soft and hard, to n
// (prlimit(2); syscall has no wrapper for another process).
func setNoFile(pid, n int) {
	lim := syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		fatalf("prlimit %d RLIMIT_NOFILE %d: %v", pid, n, errno)
	}
}

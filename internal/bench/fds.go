//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// ---- 10. connections under a descriptor limit ----------------------------------------------------

// limits measures how many connections a descriptor limit holds
// (heldUnder): 1,024 and 4,096, and with -big 20,000 and 65,536. The
// descriptors a held connection costs are the "fds" scenario
// (footprint.go).
func (h *harness) limits() []row {
	limits := []int{1024, 4096}
	if *bigFlag {
		limits = append(limits, 20000, 65536)
	}
	var rows []row
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
	base := fdCount(s.pid())
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
	perConn := float64(fdCount(s.pid())-base) / float64(max(len(held), 1))
	echoed := 0
	for _, c := range held {
		if echoes(c) {
			echoed++
		} else {
			// websocketd answers 101 before it starts the program, and
			// closes the connection when it cannot.
			refused["101, then closed"]++
		}
		c.Close()
	}
	r.value = []float64{float64(echoed)}
	var answers []string
	for what, n := range refused {
		answers = append(answers, fmt.Sprintf("%s ×%d", what, n))
	}
	sort.Strings(answers)
	r.note = fmt.Sprintf("the others: %s; %.2f descriptors each", strings.Join(answers, ", "), perConn)
	return r
}

// echoes reports whether a message sent on c comes back within 10 s.
func echoes(c *wsproto.Conn) bool {
	msg := []byte("still here")
	c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
	if c.WriteMessage(wsproto.OpText, msg) != nil || c.Flush() != nil {
		return false
	}
	_, p, err := c.ReadMessage(nil)
	return err == nil && bytes.Equal(p, msg)
}

// setNoFile sets RLIMIT_NOFILE of process pid, soft and hard, to n
// (prlimit(2); syscall has no wrapper for another process).
func setNoFile(pid, n int) {
	lim := syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		fatalf("prlimit %d RLIMIT_NOFILE %d: %v", pid, n, errno)
	}
}

//go:build linux

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// ---- 6. what a server holds: descriptors, binary, idle RSS ----------------

// descriptors counts the server's open descriptors (/proc/PID/fd) at 10
// and at 210 idle connections (each has echoed one message) and gives the
// difference per connection: RLIMIT_NOFILE divided by it bounds how many
// connections a server holds.
func (h *harness) descriptors() []row {
	const from, to = 10, 210
	raiseNoFile(8*to + 1024)
	r := row{metric: "6. server descriptors per held conn", unit: "fd", note: fmt.Sprintf("%d→%d idle conns", from, to)}
	for range h.repeat {
		s := h.startServer(fmt.Sprintf("--maxforks=%d", to+16), h.cat)
		var conns []*wsproto.Conn
		fds := map[int]int{}
		for _, level := range []int{from, to} {
			for len(conns) < level {
				c := s.dial()
				rt(c, []byte("hi"), nil)
				conns = append(conns, c)
			}
			fds[level] = fdCount(s.pid())
		}
		r.value = append(r.value, float64(fds[to]-fds[from])/(to-from))
		for _, c := range conns {
			c.Close()
		}
		s.stop()
	}
	return []row{r}
}

// fdCount returns the number of descriptors pid has open.
func fdCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		fatalf("descriptors of %d: %v", pid, err)
	}
	return len(ents)
}

// footprint gives the size of the binary and the RSS of a server that has
// started and served nobody yet, sampled a second after it listens: what a
// small board pays before the first client.
func (h *harness) footprint() []row {
	fi, err := os.Stat(h.bin)
	if err != nil {
		fatalf("%v", err)
	}
	size := row{metric: "6. binary size", unit: "MB", note: "as built; make build strips it"}
	idle := row{metric: "6. server RSS, idle, no connection yet", unit: "MiB"}
	for range h.repeat {
		s := h.startServer(h.cat)
		time.Sleep(time.Second)
		idle.value = append(idle.value, rssKiB(s.pid())/1024)
		s.stop()
		size.value = append(size.value, float64(fi.Size())/1e6)
	}
	return []row{size, idle}
}

package procio

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// threads returns this process's OS thread count.
func threads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// TestRunningProgramsHoldNoThread runs many quiet programs at once: waiting
// for them must not take an OS thread each (as os/exec's Wait alone does,
// blocked in waitid), or a server with a program per idle connection pays a
// thread per connection.
func TestRunningProgramsHoldNoThread(t *testing.T) {
	const n = 64
	base := threads(t)
	ps := startCats(t, n)
	// Each supervisor is waiting by now, or soon: a thread blocked in waitid
	// would stay, so any count reached is a lower bound.
	for range 3 {
		if _, err := ps[0].Stdin().Write([]byte("x\n")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 2)
		if _, err := ps[0].Stdout().Read(b); err != nil {
			t.Fatal(err)
		}
	}
	if got := threads(t); got > base+n/2 {
		t.Fatalf("%d threads with %d programs running, %d before: a thread per program", got, n, base)
	}
}

// pidfds returns how many pidfds this process holds.
func pidfds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		// A descriptor may close between the listing and the look.
		if dst, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && dst == "anon_inode:[pidfd]" {
			n++
		}
	}
	return n
}

// TestRunningProgramHoldsOnePidfd: a running program costs the server one
// pidfd, the watcher's, not a second one for waiting (which os/exec's
// os.Process would keep): descriptors bound how many connections a server
// holds.
func TestRunningProgramHoldsOnePidfd(t *testing.T) {
	const n = 8
	base := pidfds(t)
	startCats(t, n)
	if got := pidfds(t) - base; got > n {
		t.Fatalf("%d pidfds for %d running programs, want at most one each", got, n)
	}
}

// startCats starts n quiet programs (cat), each stopped when t ends.
func startCats(t *testing.T, n int) []*Process {
	t.Helper()
	var ps []*Process
	t.Cleanup(func() {
		for _, p := range ps {
			p.Stop()
		}
	})
	for range n {
		p, err := Start(helper("cat"))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

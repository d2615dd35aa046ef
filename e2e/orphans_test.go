package e2e

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestServerDeathKillsPrograms: wsexec killed outright (SIGKILL, as the OOM
// killer does: no shutdown runs, no close frame goes out) takes its
// programs with it, on Linux through their parent-death signal. The
// program here would outlive it otherwise: the end of its stdin means
// nothing to sleep, and it ignores SIGHUP.
func TestServerDeathKillsPrograms(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sh", "-c", `trap '' HUP; echo $$; exec sleep 1000`)
	var pids []int
	for range 2 {
		pid := readPID(t, dial(t, s.addr, "/", nil))
		pids = append(pids, pid)
		t.Cleanup(func() {
			if alive(pid) { // the test failed: its group is the program's (procio's Setpgid)
				syscall.Kill(-pid, syscall.SIGKILL)
			}
		})
	}
	kids := children(t, s.pid())
	for _, pid := range pids {
		if !slices.Contains(kids, pid) || !alive(pid) {
			t.Fatalf("program %d: not a running child of wsexec (children %v)", pid, kids)
		}
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	waitFor(t, 10*time.Second, "the programs to die with wsexec", func() bool {
		return !slices.ContainsFunc(pids, alive)
	})
}

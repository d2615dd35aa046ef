//go:build unix

package procio

import (
	"syscall"
	"time"
)

// Stop ends the program: it closes stdin, waits CloseGrace for the program to
// exit, then signals the whole process group with SIGINT, SIGTERM and
// SIGKILL, KillGrace apart, stopping as soon as the program has exited. It
// returns once the program is reaped, a final SIGKILL has gone to its group,
// the stderr reader has returned and stdout has reached EOF or been closed
// (so a Read blocked in Stdout returns). Stop is idempotent and safe to call
// from several goroutines and with Wait; every call returns when the first
// is done.
func (p *Process) Stop() {
	p.stopOnce.Do(p.stop)
}

func (p *Process) stop() {
	close(p.stopping)
	p.stdin.Close()
	if !p.exitsWithin(p.closeGrace) {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
			p.signal(sig)
			if p.exitsWithin(p.killGrace) {
				break
			}
		}
		<-p.done // SIGKILL cannot be ignored
	}
	<-p.released
}

// exitsWithin reports whether the program is reaped within d.
func (p *Process) exitsWithin(d time.Duration) bool {
	if d <= 0 {
		return stopped(p.done)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// signal sends sig to the program's process group. The group id stays
// reserved while any member lives, so after the leader is reaped it still
// names the program's descendants; an error only means none is left.
func (p *Process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.pid, sig)
}

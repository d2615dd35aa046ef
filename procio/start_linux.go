package procio

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// startCmd starts cmd with SIGKILL as its parent-death signal
// (prctl PR_SET_PDEATHSIG, which os/exec sets from SysProcAttr.Pdeathsig),
// so that the program dies with the server however the server ends: a
// crash, SIGKILL, the OOM killer. os/exec checks in the child that the
// parent is still there once the signal is set, so a server that dies
// while forking leaves nothing either.
//
// The kernel sends that signal when the thread that forked the child
// exits, not when its process does (go.dev/issue/27505): a child's parent
// is the forking thread, and the signal goes out at every reparenting,
// even to another thread of the same process. The Go runtime ends an OS
// thread in one case: a goroutine locked to it (runtime.LockOSThread)
// returns without unlocking. wsexec locks no thread, but procio cannot
// vouch for every package in its process, and the danger is not only the
// caller's own goroutine: Start runs on whatever thread its caller happens
// to be on, and any goroutine scheduled there later may lock that thread
// and let it die (code that switches Linux namespaces does exactly that,
// to discard a thread it changed). Each program forked there would be
// killed under a server that is alive. So every program is forked by one
// goroutine locked to its thread for good (forker): that thread ends only
// with the process. The hand-off costs a wake-up per start, not
// throughput: forks are serialised anyway (os/exec holds syscall.ForkLock
// until the child has called exec).
func startCmd(cmd *exec.Cmd) error {
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	forkerOnce.Do(func() {
		theForker = make(forker)
		go theForker.run()
	})
	done := make(chan error, 1)
	theForker <- forkReq{cmd: cmd, done: done}
	return <-done
}

// forker starts the programs it is sent, from its one thread.
type forker chan forkReq

// forkReq is a program for the forker to start and where its error goes.
type forkReq struct {
	cmd  *exec.Cmd
	done chan<- error
}

var (
	forkerOnce sync.Once
	theForker  forker // started with the first program; lives as long as the process
)

func (f forker) run() {
	runtime.LockOSThread() // never undone: the thread must outlive every program it forks
	for r := range f {
		r.done <- r.cmd.Start()
	}
}

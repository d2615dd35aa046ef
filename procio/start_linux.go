package procio

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// startProcess forks and execs the program in a process group of its own,
// and returns its pid and the pidfd the fork gave (clone's CLONE_PIDFD),
// or -1 when there is none. Forking here rather than through os/exec
// keeps that pidfd the only one: os.StartProcess opens one for the
// os.Process it returns, and the watcher would need a second
// (startSupervise), so a running program would hold two descriptors where
// one does.
//
// The program gets SIGKILL as its parent-death signal (prctl
// PR_SET_PDEATHSIG, which syscall sets from SysProcAttr.Pdeathsig), so that
// it dies with the server however the server ends: a crash, SIGKILL, the
// OOM killer. syscall checks in the child that the parent is still there
// once the signal is set, so a server that dies while forking leaves
// nothing either.
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
// throughput: forks are serialised anyway (syscall holds syscall.ForkLock
// until the child has called exec).
func startProcess(path string, argv []string, attr *syscall.ProcAttr) (pid, pidfd int, err error) {
	pidfd = -1
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if !noClonePidfd.Load() {
		sys.PidFD = &pidfd
	}
	attr.Sys = sys
	pid, err = fork(path, argv, attr)
	if err == syscall.EINVAL && sys.PidFD != nil {
		// A clone that refuses the flag (qemu's user mode before 8.0):
		// if the fork works without it, the flag was the cause, and
		// programs are waited for in goroutines from now on.
		sys.PidFD = nil
		if pid, err = fork(path, argv, attr); err == nil {
			noClonePidfd.Store(true)
		}
	}
	return pid, pidfd, err
}

// noClonePidfd is set once clone has refused CLONE_PIDFD.
var noClonePidfd atomic.Bool

// fork has the forker start a program.
func fork(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	forkerOnce.Do(func() {
		theForker = make(forker)
		go theForker.run()
	})
	done := make(chan forkResult, 1)
	theForker <- forkReq{path: path, argv: argv, attr: attr, done: done}
	r := <-done
	return r.pid, r.err
}

// forker starts the programs it is sent, from its one thread.
type forker chan forkReq

// forkReq is a program for the forker to start and where its pid goes.
type forkReq struct {
	path string
	argv []string
	attr *syscall.ProcAttr
	done chan<- forkResult
}

type forkResult struct {
	pid int
	err error
}

var (
	forkerOnce sync.Once
	theForker  forker // started with the first program; lives as long as the process
)

func (f forker) run() {
	runtime.LockOSThread() // never undone: the thread must outlive every program it forks
	for r := range f {
		pid, err := syscall.ForkExec(r.path, r.argv, r.attr)
		r.done <- forkResult{pid: pid, err: err}
	}
}

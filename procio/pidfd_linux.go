package procio

import (
	"os"
	"runtime"
	"syscall"
)

// sysPidfdOpen is pidfd_open(2)'s number: 434 in the table every newer port
// shares, offset on the MIPS ABIs.
var sysPidfdOpen = func() uintptr {
	switch runtime.GOARCH {
	case "mips", "mipsle":
		return 4434
	case "mips64", "mips64le":
		return 5434
	}
	return 434
}()

// waitExit blocks until the process pid has exited, in the runtime's poller
// on a pidfd (Linux 5.3), so that the cmd.Wait after it returns at once.
// os/exec's Wait alone blocks in waitid, holding an OS thread (a few
// pages of stack, and a thread the runtime must create) for every running
// program; with one program per idle connection that was a large part of
// a connection's memory. Where a pidfd cannot be had or polled, waitExit
// returns at once and Wait blocks as before.
//
// The pid cannot have been reused: only supervise reaps it, after this.
func waitExit(pid int) {
	fd, err := pidfdOpen(pid)
	if err != nil {
		return
	}
	if syscall.SetNonblock(fd, true) != nil {
		syscall.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd") // non-blocking: registered with the poller
	defer f.Close()
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Read(readable) // readable once the process has exited
	}
}

// pidfdOpen returns a pidfd for pid (close-on-exec): readable once the
// process has exited.
func pidfdOpen(pid int) (int, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

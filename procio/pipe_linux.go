package procio

import (
	"os"
	"syscall"
	"unsafe"
)

// childPipe makes a pipe for one of the child's standard descriptors.
// The parent's end is non-blocking and in the runtime's poller; the
// child's is blocking, as programs expect, and never in the poller.
// os.Pipe would make both ends non-blocking and register both, and
// os/exec would then make the child's end blocking again and unregister
// it when it is closed: five system calls more per pipe, on the path of
// every connection (docs/benchmarks.md, "Where a connection's
// microseconds go"). The ends are two open file descriptions, so
// clearing O_NONBLOCK on the child's leaves the parent's as it is.
// childReads says which end is the child's: r (stdin) or w (stdout,
// stderr).
func childPipe(childReads bool) (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	theirs := p[1]
	if childReads {
		theirs = p[0]
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(theirs), syscall.F_SETFL, 0); errno != 0 {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, nil, os.NewSyscallError("fcntl", errno)
	}
	// os.NewFile puts a non-blocking descriptor in the poller and leaves
	// a blocking one out.
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}

// pipeBuffered returns how many bytes wait unread in the pipe of rc
// (FIONREAD), or -1 when it cannot tell. It takes the pipe's RawConn, made
// once, rather than its *os.File: SyscallConn allocates.
func pipeBuffered(rc syscall.RawConn) int {
	var n int32 // FIONREAD stores a C int
	var errno syscall.Errno
	err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	if err != nil || errno != 0 {
		return -1
	}
	return int(n)
}

// growPipe raises the capacity of the pipe of rc to bigPipeSize. The kernel
// refuses (EPERM) once the user's pipes hold more than
// /proc/sys/fs/pipe-user-pages-soft, and anything past
// /proc/sys/fs/pipe-max-size; the pipe then keeps the size it has, which
// only costs speed, so the error is dropped.
func growPipe(rc syscall.RawConn) {
	rc.Control(func(fd uintptr) {
		syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, bigPipeSize)
	})
}

const fSetPipeSize = 1031 // F_SETPIPE_SZ

package procio

import (
	"syscall"
	"unsafe"
)

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

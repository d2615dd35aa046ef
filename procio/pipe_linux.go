package procio

import (
	"os"
	"syscall"
	"unsafe"
)

// pipeBuffered returns how many bytes wait unread in the pipe f (FIONREAD),
// or -1 when it cannot tell.
func pipeBuffered(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	var n int32 // FIONREAD stores a C int
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	if err != nil || errno != 0 {
		return -1
	}
	return int(n)
}

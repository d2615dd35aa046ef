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

// readable reports whether a read of fd would not block: data, EOF, an error
// or a hang-up (ppoll with a zero timeout, which every Linux port has).
func readable(fd uintptr) bool {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(fd), events: pollIn}
	var ts syscall.Timespec
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno == syscall.EINTR {
			// A signal (the Go runtime preempts with SIGURG) says nothing
			// about the pipe: ask again, rather than end a wait for
			// nothing.
			continue
		}
		return errno != 0 || n != 0 // on another error, let the read tell
	}
}

const pollIn = 0x1 // POLLIN

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

// waitReadable blocks until rc has something to read, in the runtime's
// poller (no thread is held), without reading it.
func waitReadable(rc syscall.RawConn) error {
	return rc.Read(readable)
}

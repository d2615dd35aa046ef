package procio

import (
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

// pidfdOpen returns a pidfd for pid (close-on-exec): readable once the
// process has exited.
func pidfdOpen(pid int) (int, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

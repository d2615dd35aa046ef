//go:build !windows

// Package rawread is the one read(2) loop behind wsexec's raw reads of
// sockets and pipes. Those reads go through a syscall.RawConn so that a
// read can wait in the runtime's poller holding no buffer (the buffer is
// taken only for the read(2) itself and given back when there is nothing;
// docs/design.md, "Idle connections").
package rawread

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// ErrWouldBlock is Read's report of a descriptor with nothing to read.
var ErrWouldBlock = errors.New("nothing to read")

// Read makes one read(2) of fd into p, retrying when interrupted. It
// returns the bytes read, io.EOF at end of file, ErrWouldBlock when a
// non-blocking fd has nothing, or the system's error.
func Read(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, ErrWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

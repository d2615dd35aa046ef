//go:build !linux

package procio

import (
	"os"
	"syscall"
)

// childPipe makes a pipe for one of the child's standard descriptors;
// childReads (r is the child's end, else w) matters only on Linux.
func childPipe(childReads bool) (r, w *os.File, err error) { return os.Pipe() }

// pipeBuffered cannot tell outside Linux: -1 means "maybe". supervise then
// closes a pipe still held open a grace after the program's group died.
func pipeBuffered(syscall.RawConn) int { return -1 }

// growPipe cannot change a pipe's capacity here.
func growPipe(syscall.RawConn) {}

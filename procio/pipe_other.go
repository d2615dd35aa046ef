//go:build !linux

package procio

import "syscall"

// pipeBuffered cannot tell outside Linux: -1 means "maybe". supervise then
// closes a pipe still held open a grace after the program's group died.
func pipeBuffered(syscall.RawConn) int { return -1 }

// growPipe cannot change a pipe's capacity here.
func growPipe(syscall.RawConn) {}

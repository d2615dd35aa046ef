//go:build !linux

package procio

import (
	"os"
	"syscall"
)

// pipeBuffered cannot tell outside Linux: -1 means "maybe". supervise then
// closes a pipe still held open a grace after the program's group died.
func pipeBuffered(*os.File) int { return -1 }

// waitReadable cannot wait without reading here: the caller reads at once.
func waitReadable(syscall.RawConn) error { return nil }

// readable cannot ask without reading here: it says yes and the read tells.
func readable(uintptr) bool { return true }

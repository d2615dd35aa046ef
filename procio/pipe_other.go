//go:build !linux

package procio

import "os"

// pipeBuffered cannot tell outside Linux: -1 means "maybe". supervise then
// closes a pipe still held open a grace after the program's group died.
func pipeBuffered(*os.File) int { return -1 }

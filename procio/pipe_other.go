//go:build !linux

package procio

import "syscall"

// pipeBuffered cannot tell outside Linux: -1 means "maybe". supervise then
// closes a pipe still held open a grace after the program's group died.
func pipeBuffered(syscall.RawConn) int { return -1 }

// waitReadable cannot wait without reading here: the caller reads at once.
func waitReadable(syscall.RawConn) error { return nil }

// readable cannot ask without reading here: it says no, so that readyNow
// reports nothing waiting and the line codec flushes after every read (a
// yes would hold a lone line in the Sink until more output or EOF). quiet
// then says yes, which only makes a codec that filled its buffer wait in
// waitReadable, and that returns at once here.
func readable(uintptr) bool { return false }

// growPipe cannot change a pipe's capacity here.
func growPipe(syscall.RawConn) {}

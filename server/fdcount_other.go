//go:build !linux

package server

// openFiles returns -1: only Linux lists a process's descriptors
// (/proc/self/fd).
func openFiles() int { return -1 }

//go:build !linux

package procio

import "errors"

// waitExit has nothing better than Wait outside Linux.
func waitExit(int) {}

// pidfdOpen: there are no pidfds outside Linux.
func pidfdOpen(int) (int, error) { return -1, errors.ErrUnsupported }

//go:build !linux

package procio

import "errors"

// pidfdOpen: there are no pidfds outside Linux.
func pidfdOpen(int) (int, error) { return -1, errors.ErrUnsupported }

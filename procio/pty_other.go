//go:build !linux

package procio

import (
	"errors"
	"os"
)

// openPty is Linux's: wsexec is built and tested there, and the termios
// requests differ elsewhere.
func openPty(WindowSize) (master, slave *os.File, err error) {
	return nil, nil, errors.ErrUnsupported
}

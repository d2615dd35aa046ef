package procio

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Errors returned by LookPath, wrapped so that the message names the command;
// match them with errors.Is.
var (
	ErrNotFound      = errors.New("command not found")
	ErrNotExecutable = errors.New("not executable")
	ErrIsDirectory   = errors.New("is a directory")
)

// lookError names the command a LookPath error is about.
type lookError struct {
	name string
	err  error
}

func (e *lookError) Error() string {
	if e.err == ErrNotFound {
		return "command not found: " + e.name
	}
	return e.name + ": " + e.err.Error()
}

func (e *lookError) Unwrap() error { return e.err }

// xOK is access(2)'s X_OK, which package syscall does not name.
const xOK = 1

// LookPath resolves name once at start-up: a name with a slash must exist, be
// a regular file and be executable; otherwise it is searched in PATH. The
// result is an absolute path, so a later change of working directory (for the
// process or for a child through Config.Dir) does not change what runs.
// Errors read "command not found: NAME", "NAME: not executable" or
// "NAME: is a directory" and wrap ErrNotFound, ErrNotExecutable or
// ErrIsDirectory.
func LookPath(name string) (string, error) {
	path := name
	if !strings.Contains(name, "/") {
		found, err := exec.LookPath(name)
		// ErrDot: PATH names a relative directory and the program is there.
		// The user put it in PATH; the path is made absolute below, so the
		// working directory at connection time plays no part.
		if err != nil && !errors.Is(err, exec.ErrDot) {
			return "", &lookError{name, ErrNotFound}
		}
		path = found
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return "", &lookError{name, ErrNotFound}
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", &lookError{name, ErrIsDirectory}
	case !fi.Mode().IsRegular(), fi.Mode()&0o111 == 0, syscall.Access(path, xOK) != nil:
		return "", &lookError{name, ErrNotExecutable}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return abs, nil
}

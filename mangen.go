//go:build mangen && !tiny

package main

import (
	"fmt"
	"os"
)

// Built with -tags mangen, wsexec writes its man page on stdout and exits:
// `make man` runs `go run -tags mangen .`. The man page comes from the
// same flags() as --help, so it cannot drift from the command line.
func init() {
	if err := writeMan(os.Stdout, newApp(os.Stdout, os.Stderr)); err != nil {
		fmt.Fprintf(os.Stderr, "wsexec: man page: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

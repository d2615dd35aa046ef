//go:build probetemplate

package main

import (
	"net"
	"net/http"
	"os"
	"text/template"
)

// run executes one text/template before serving: the cost of the
// package and of what its reflection makes the linker keep.
func run(srv *http.Server, ln net.Listener) {
	t := template.Must(template.New("probe").Parse("{{.Name}}\n"))
	t.Execute(os.Stderr, struct{ Name string }{"probe"})
	srv.Serve(ln)
}

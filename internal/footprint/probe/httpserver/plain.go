//go:build !probecli && !probetemplate

package main

import (
	"net"
	"net/http"
)

func run(srv *http.Server, ln net.Listener) { srv.Serve(ln) }

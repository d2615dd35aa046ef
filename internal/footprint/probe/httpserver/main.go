// Command httpserver is a footprint probe (internal/footprint): the
// standard library a full-featured wsexec links — net/http's server,
// crypto/tls, net/http/cgi, log/slog, compress/flate, os/exec — and
// nothing of its own.
package main

import (
	"compress/flate"
	"crypto/tls"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address")
	cert := flag.String("cert", "", "certificate")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		os.Exit(1)
	}
	slog.Info("listening", "addr", ln.Addr().String())
	srv := &http.Server{Handler: handler(), TLSConfig: &tls.Config{NextProtos: []string{"http/1.1"}}}
	if *cert != "" {
		srv.ServeTLS(ln, *cert, *cert)
		return
	}
	run(srv, ln)
}

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/cgi/", &cgi.Handler{Path: "/bin/true"})
	mux.Handle("/files/", http.FileServer(http.Dir(".")))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fw, _ := flate.NewWriter(w, 1)
		cmd := exec.Command("cat")
		cmd.Stdout = fw
		cmd.Run()
	})
	return mux
}

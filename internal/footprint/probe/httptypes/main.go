// Command httptypes is a footprint probe (internal/footprint): core's
// server reading its requests with net/http's http.ReadRequest, the
// cost of net/http's types and package state without its server.
package main

import (
	"bufio"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		os.Exit(1)
	}
	slog.Info("listening", "addr", ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	r, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-Websocket-Key")))
	io.WriteString(c, base64.StdEncoding.EncodeToString(sum[:]))
	w, _ := flate.NewWriter(c, 1)
	cmd := exec.Command("cat")
	cmd.Stdout = w
	cmd.Run()
}

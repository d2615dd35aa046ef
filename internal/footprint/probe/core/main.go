// Command core is a footprint probe (internal/footprint): what a server
// needs at least without net/http — TCP, a request head read with
// net/textproto, the accept key, deflate, a logger, std flag, a child
// process. With the tag probehttp it reads its requests with
// http.ReadRequest instead: the cost of net/http's types and package
// state without its server.
package main

import (
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"net"
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
	key, err := readKey(c)
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(key))
	io.WriteString(c, base64.StdEncoding.EncodeToString(sum[:]))
	w, _ := flate.NewWriter(c, 1)
	cmd := exec.Command("cat")
	cmd.Stdout = w
	cmd.Run()
}

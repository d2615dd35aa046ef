//go:build !probehttp

package main

import (
	"bufio"
	"net"
	"net/textproto"
)

// readKey reads a request head with net/textproto and returns its key.
func readKey(c net.Conn) (string, error) {
	h, err := textproto.NewReader(bufio.NewReader(c)).ReadMIMEHeader()
	return h.Get("Sec-Websocket-Key"), err
}

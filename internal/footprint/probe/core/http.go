//go:build probehttp

package main

import (
	"bufio"
	"net"
	"net/http"
)

// readKey reads a request with http.ReadRequest and returns its key.
func readKey(c net.Conn) (string, error) {
	r, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return "", err
	}
	return r.Header.Get("Sec-Websocket-Key"), nil
}

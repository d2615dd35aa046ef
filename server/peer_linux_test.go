//go:build !tiny

package server

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestPeerGone(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, how := range []string{"close", "reset"} {
		t.Run(how, func(t *testing.T) {
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			// Unread bytes must not hide the peer's leaving.
			if _, err := client.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			if peerGone(server) {
				t.Fatal("peerGone with the client connected")
			}
			if how == "reset" {
				client.(*net.TCPConn).SetLinger(0)
			}
			client.Close()
			waitFor(t, 5*time.Second, func() error {
				if !peerGone(server) {
					return errors.New("peerGone still false after the client left")
				}
				return nil
			})
		})
	}
}

//go:build !linux

package server

import "net"

// peerGone reports false: only Linux tells a socket's TCP state without
// reading it. Elsewhere a client that leaves while its program is not
// reading stdin is noticed by --pingms, or when the program exits.
func peerGone(net.Conn) bool { return false }

package server

import (
	"encoding/binary"
	"net"
	"syscall"
)

// Linux TCP states (include/net/tcp_states.h).
const (
	tcpClose     = 7
	tcpCloseWait = 8
)

// peerGone reports whether the peer of a TCP connection has closed its
// side or reset the connection, from the kernel's view of the socket
// (TCP_INFO), without reading from it. For anything else it reports false.
func peerGone(nc net.Conn) bool {
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS: the TCP connection under it
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var state byte
	rc.Control(func(fd uintptr) {
		// The first byte of struct tcp_info is tcpi_state; reading four
		// bytes as an int keeps them in memory order.
		v, err := syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO)
		if err != nil {
			return
		}
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], uint32(v))
		state = b[0]
	})
	return state == tcpClose || state == tcpCloseWait
}

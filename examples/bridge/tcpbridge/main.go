// Command tcpbridge joins a WebSocket to a TCP service, as websockify
// does: run by wsexec in binary mode, it connects to HOST:PORT and copies
// the client's bytes (its stdin) to the service and the service's bytes
// to the client (its stdout), unchanged and as they come.
//
//	go build -o bin/tcpbridge ./examples/bridge/tcpbridge
//	bin/wsexec --port=8080 --binary --subprotocol=binary bin/tcpbridge localhost:5900
//
// Its exit status says which side ended; wsexec turns it into the close
// code the client sees (README.md, "How a connection ends"):
//
//	0  the service closed the connection: close 1000
//	1  the service could not be reached: close 1011, reason "exit status 1"
//	2  usage: no HOST:PORT
//	3  the connection to the service broke (reset, timeout): close 1011,
//	   reason "exit status 3"
//
// When the client leaves first, wsexec closes stdin: tcpbridge then
// closes its own half of the TCP connection, so the service reads an end
// after the client's last bytes, and exits 0 once the service has closed
// too (or is stopped by wsexec after --closems). The client's close code
// is then the one wsexec logs.
//
// Try it without wsexec: printf 'GET / HTTP/1.0\r\n\r\n' | go run ./examples/bridge/tcpbridge example.com:80
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// dialTimeout bounds the connection to the service, so that a client of a
// service that does not answer gets its close (1011, exit status 1)
// rather than waiting on the kernel's own retries for minutes.
const dialTimeout = 10 * time.Second

// The exit statuses (see the package comment).
const (
	serviceClosed = 0
	unreachable   = 1
	usage         = 2
	broken        = 3
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tcpbridge HOST:PORT")
		os.Exit(usage)
	}
	nc, err := net.DialTimeout("tcp", os.Args[1], dialTimeout)
	if err != nil {
		fail(unreachable, err)
	}
	tc := nc.(*net.TCPConn)
	go func() {
		// Client to service: an end of stdin (the client left) becomes an
		// end of what the service reads.
		if _, err := io.Copy(tc, os.Stdin); err != nil {
			fail(broken, err)
		}
		if err := tc.CloseWrite(); err != nil {
			fail(broken, err)
		}
	}()
	// Service to client, until the service closes: everything it sent is
	// on stdout before the exit, so wsexec delivers it before the close.
	if _, err := io.Copy(os.Stdout, tc); err != nil {
		fail(broken, err)
	}
	os.Exit(serviceClosed)
}

// fail says what went wrong on stderr (wsexec logs it) and exits with
// status.
func fail(status int, err error) {
	fmt.Fprintf(os.Stderr, "tcpbridge: %v\n", err)
	os.Exit(status)
}

package e2e

// The TCP bridge of examples/bridge, websockify's job: wsexec in binary
// mode runs examples/bridge/tcpbridge, which joins each client to a TCP
// service. The services are the tests' own loopback listeners.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// bridgeSizes are the sizes of the messages a bridge round trip carries,
// in order (node_client.js and browser_client.js hold the same literal):
// empty messages, which write nothing and must leave the stream as it
// was; the lengths around RFC 6455 §5.2's 7-bit and 16-bit encodings; the
// pipe's 64 KiB; 1 MiB.
var bridgeSizes = []int{0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 0, 7}

// bridgeOffer is the subprotocol websockify's clients (noVNC) offer.
var bridgeOffer = http.Header{"Sec-Websocket-Protocol": {"binary"}}

// tcpService serves every connection to a new loopback listener with
// handle, in a goroutine of its own, and closes the connection when handle
// returns. A cleanup closes the listener and the connections still open,
// and waits for the goroutines. Each connection has a deadline, so that a
// handler cannot outlive the test.
func tcpService(t *testing.T, handle func(*net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		open   = map[net.Conn]bool{}
		closed bool
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return // the listener is closed
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				nc.Close()
				return
			}
			open[nc] = true
			mu.Unlock()
			nc.SetDeadline(time.Now().Add(60 * time.Second))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(open, nc)
					mu.Unlock()
					nc.Close()
				}()
				handle(nc.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for nc := range open {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echoService sends back everything it reads, until the end of it.
func echoService(c *net.TCPConn) { io.Copy(c, c) }

// hangupService says "bye\n" and closes: the service ends the connection.
func hangupService(c *net.TCPConn) { c.Write([]byte("bye\n")) }

// resetService reads a byte, then drops the connection with a reset
// (RST): the connection to the service breaks. Reading first makes sure
// the bridge's connect has completed; a reset before it would be a
// failed connect.
func resetService(c *net.TCPConn) {
	c.Read(make([]byte, 1))
	c.SetLinger(0)
}

// readBytes reads binary messages until n bytes have come and returns
// them; the messages must add up to n exactly, none of them empty.
func readBytes(t *testing.T, c *wsproto.Conn, n int) []byte {
	t.Helper()
	got := make([]byte, 0, n)
	c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
	for len(got) < n {
		op, p, err := c.ReadMessage(nil)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(got), n, err)
		}
		if op != wsproto.OpBinary || len(p) == 0 || len(got)+len(p) > n {
			t.Fatalf("after %d of %d bytes: %v message of %d bytes", len(got), n, op, len(p))
		}
		got = append(got, p...)
	}
	return got
}

// readStream reads binary messages until the server's close frame and
// returns their bytes and the close.
func readStream(t *testing.T, c *wsproto.Conn) ([]byte, *wsproto.CloseError) {
	t.Helper()
	var got []byte
	c.NetConn().SetReadDeadline(time.Now().Add(15 * time.Second))
	for range 10_000 {
		op, p, err := c.ReadMessage(nil)
		var ce *wsproto.CloseError
		switch {
		case errors.As(err, &ce) && ce.Remote:
			return got, ce
		case err != nil:
			t.Fatalf("want the server's close frame, got %v", err)
		case op != wsproto.OpBinary:
			t.Fatalf("%v message %q, want binary", op, truncate(p))
		}
		got = append(got, p...)
	}
	t.Fatal("no close frame after 10000 messages")
	return nil, nil
}

// noChildren waits until server s has no program left.
func noChildren(t *testing.T, s *instance) {
	t.Helper()
	waitFor(t, 10*time.Second, "the bridge to exit", func() bool { return len(children(t, s.pid())) == 0 })
}

// TestTCPBridge drives examples/bridge/tcpbridge with wsexec's own client:
// random bytes of every size through a TCP echo service come back exactly,
// the subprotocol websockify's clients offer is answered, and each way the
// service side ends gives the close code README's table promises.
func TestTCPBridge(t *testing.T) {
	t.Parallel()
	bridge := goBuild(t, "./examples/bridge/tcpbridge")
	echoAddr := tcpService(t, echoService)
	serve := func(t *testing.T, service string, flags ...string) *instance {
		return startServer(t, slices.Concat(flags, []string{"--binary", "--subprotocol=binary", bridge, service})...)
	}

	t.Run("random bytes of every size", func(t *testing.T) {
		t.Parallel()
		s := serve(t, echoAddr)
		c, resp, err := dialWS(s.addr, "/", http.Header{"Sec-Websocket-Protocol": {"binary, base64"}})
		if err != nil || c == nil {
			t.Fatalf("dial: %v %v", err, resp)
		}
		defer c.Close()
		if p := resp.Header.Get("Sec-Websocket-Protocol"); p != "binary" {
			t.Fatalf("subprotocol %q answered, want binary", p)
		}
		for _, frag := range []int{0, 1000} { // one frame; fragments
			for _, n := range bridgeSizes {
				p := make([]byte, n)
				rand.Read(p)
				sent := sendMsg(c, wsproto.OpBinary, p, frag)
				if got := readBytes(t, c, n); !bytes.Equal(got, p) {
					t.Fatalf("%d bytes in frames of %d: a different %d came back", n, frag, len(got))
				}
				if err := <-sent; err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := c.WriteClose(wsproto.CloseNormal, ""); err != nil {
			t.Fatal(err)
		}
		if rest, ce := readStream(t, c); len(rest) != 0 || ce.Code != wsproto.CloseNormal {
			t.Fatalf("%d bytes more than sent, then close %d", len(rest), ce.Code)
		}
		noChildren(t, s)
	})

	t.Run("a client offering only base64 is refused", func(t *testing.T) {
		// websockify's old base64 encoding is not spoken here: such a
		// client learns it at the handshake.
		t.Parallel()
		s := serve(t, echoAddr)
		refusal(t, s.addr, http.Header{"Sec-Websocket-Protocol": {"base64"}}, http.StatusBadRequest, "supported: binary")
	})

	t.Run("the client leaves first", func(t *testing.T) {
		// The service reads an end after the client's last bytes, and the
		// bridge exits 0 once it has closed too.
		t.Parallel()
		ended := make(chan error, 1)
		s := serve(t, tcpService(t, func(c *net.TCPConn) {
			_, err := io.Copy(c, c)
			ended <- err
		}), "--closems=10000") // time enough for both ends to close, on a busy machine
		c := dial(t, s.addr, "/", bridgeOffer)
		write(t, c, wsproto.OpBinary, []byte("last words"))
		if got := readBytes(t, c, 10); string(got) != "last words" {
			t.Fatalf("echo %q", got)
		}
		if err := c.WriteClose(4000, "leaving"); err != nil {
			t.Fatal(err)
		}
		if _, ce := readStream(t, c); ce.Code != 4000 {
			t.Fatalf("close %d echoed, want 4000", ce.Code)
		}
		select {
		case err := <-ended:
			if err != nil {
				t.Fatalf("the service's connection ended with %v, want an end of stream", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the service saw no end of stream within 10 s")
		}
		noChildren(t, s)
		waitFor(t, 5*time.Second, "the disconnect line", func() bool {
			return strings.Contains(s.logText(), `code=4000 reason=leaving exit="exit status 0"`)
		})
	})

	ends := []struct {
		name    string
		service string
		send    string // what the client sends first, if anything
		said    string // what the client gets before the close
		code    uint16
		reason  string
	}{
		{"the service closes", tcpService(t, hangupService), "", "bye\n", wsproto.CloseNormal, ""},
		{"the service resets", tcpService(t, resetService), "x", "", wsproto.CloseInternalError, "exit status 3"},
		{"no service listens", "127.0.0.1:" + strconv.Itoa(freePort(t)), "", "", wsproto.CloseInternalError, "exit status 1"},
	}
	for _, tc := range ends {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := serve(t, tc.service)
			c := dial(t, s.addr, "/", bridgeOffer)
			if tc.send != "" {
				write(t, c, wsproto.OpBinary, []byte(tc.send))
			}
			got, ce := readStream(t, c)
			if string(got) != tc.said || ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("got %q, close %d %q; want %q, close %d %q", got, ce.Code, ce.Reason, tc.said, tc.code, tc.reason)
			}
			noChildren(t, s)
		})
	}
}

// TestTCPBridgeClients runs the bridge scenarios of Node's ws and of
// Chromium's WebSocket (testdata/clients) through tcpbridge: the random
// round trip, offering "binary" as websockify's clients do, and a service
// that hangs up.
func TestTCPBridgeClients(t *testing.T) {
	t.Parallel()
	bridge := goBuild(t, "./examples/bridge/tcpbridge")
	command := func(service string) []string { return []string{"--binary", "--subprotocol=binary", bridge, service} }
	total := 0
	for _, n := range bridgeSizes {
		total += n
	}
	cases := []clientCase{
		{"binary round trip", "bridge", command(tcpService(t, echoService)), func(t *testing.T, s *instance, r clientResult) {
			if r.Error != "" || !r.Same || r.Len != total || r.Code != 1000 {
				t.Fatalf("error %q, identical %v, %d bytes back, close %d; want none, true, %d, 1000", r.Error, r.Same, r.Len, r.Code, total)
			}
			if r.ProtocolHeader == nil || *r.ProtocolHeader != "binary" || r.Protocol != "binary" {
				t.Fatalf("Sec-WebSocket-Protocol %v, protocol %q; want binary", r.ProtocolHeader, r.Protocol)
			}
			noChildren(t, s)
		}},
		{"the service closes", "hangup", command(tcpService(t, hangupService)), func(t *testing.T, s *instance, r clientResult) {
			if r.Echo != "bye\n" || r.Code != 1000 || r.Reason != "" {
				t.Fatalf("got %q, close %d %q; want bye, 1000 and no reason", r.Echo, r.Code, r.Reason)
			}
			if r.WasClean != nil && !*r.WasClean {
				t.Fatal("the browser saw an unclean close")
			}
			noChildren(t, s)
		}},
	}
	clients := []struct {
		name   string
		runner func(t *testing.T) func(t *testing.T, url, scenario string) clientResult
	}{{"node", nodeRunner}, {"chromium", chromiumRunner}}
	for _, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			t.Parallel()
			runClientCases(t, cl.name, cases, cl.runner(t))
		})
	}
}

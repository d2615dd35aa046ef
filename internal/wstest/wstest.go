// Package wstest is a small WebSocket client for wsexec's own tests and
// benchmarks: an RFC 6455 §4.1 client handshake over TCP or a Unix socket,
// then a wsproto.Conn in the client role, compressed (RFC 7692) when the
// request offers permessage-deflate (DeflateHeader) and the server accepts.
package wstest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/wsproto"
)

// Dial opens a WebSocket to addr (host:port) for target (path and query),
// adding hdr to the request. When the server answers with anything but
// 101, Dial returns a nil Conn and the response, its body already read and
// kept. The handshake has a 10 s deadline; the returned Conn has none.
func Dial(addr, target string, hdr http.Header) (*wsproto.Conn, *http.Response, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	c, resp, err := Handshake(nc, addr, target, hdr)
	if c == nil {
		nc.Close()
	}
	return c, resp, err
}

// Handshake performs the client handshake on an open connection.
func Handshake(nc net.Conn, host, target string, hdr http.Header) (*wsproto.Conn, *http.Response, error) {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer nc.SetDeadline(time.Time{})
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req, err := http.NewRequest(http.MethodGet, "http://"+host+target, nil)
	if err != nil {
		return nil, nil, err
	}
	for name, vs := range hdr {
		req.Header[name] = vs
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	if req.Header.Get("Sec-WebSocket-Version") == "" {
		req.Header.Set("Sec-WebSocket-Version", "13")
	}
	if err := req.Write(nc); err != nil {
		return nil, nil, fmt.Errorf("write request: %w", err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, nil
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), handshake.AcceptKey(key); got != want {
		return nil, resp, fmt.Errorf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	deflate, err := negotiated(req, resp)
	if err != nil {
		return nil, resp, fmt.Errorf("Sec-WebSocket-Extensions: %w", err)
	}
	c := wsproto.NewConn(nc, br, wsproto.Config{
		Role:           wsproto.Client,
		MaxMessageSize: 64 << 20,
		CloseTimeout:   5 * time.Second,
		Deflate:        deflate,
		// A masked message goes out 64 KiB a write, not 4 KiB: the small
		// writes made this client, not the server, the bottleneck of a 1 MiB
		// round trip (docs/benchmarks.md).
		WriteBufferSize: 64 << 10,
	})
	return c, resp, nil
}

package server

import (
	"bufio"
	"net"

	"github.com/wsexec/wsexec/handshake"
)

// endpointHint is the answer (426) to a plain request for an endpoint's
// path: it tells a person who opened the URL in a browser, or curl, what
// the URL is for.
const endpointHint = "this is a WebSocket endpoint: connect with a WebSocket client"

// A responder answers one request: through net/http (httpResponder, in
// web.go) or on the connection wsexec read the request from itself
// (rawResponder, the tiny build's).
type responder interface {
	// refuse writes the refusal e as the response.
	refuse(e *handshake.Error)
	// accept writes the 101 for the handshake res and hands the
	// connection over, with the reader that holds what the client sent
	// after its request (see handshake.Accept). On an error it has
	// answered what it could, and the connection is not the caller's.
	accept(res *handshake.Result, cfg *handshake.Config) (net.Conn, *bufio.Reader, error)
	// abort ends the request after a panic in its handler has been
	// logged.
	abort()
}

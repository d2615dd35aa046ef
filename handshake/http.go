//go:build !tiny

package handshake

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"time"
)

// This file joins the handshake to net/http, for a server that reads its
// requests with net/http's server. The tiny build (tag tiny) has no
// net/http: its server reads requests with ReadRequest and writes with
// Respond and Error.AppendResponse.

// FromHTTP returns the head of net/http's request r as the handshake reads
// it. The header map is r's own, not a copy; Secure is r.TLS != nil.
func FromHTTP(r *http.Request) *Request {
	return &Request{
		Method:     r.Method,
		Target:     r.RequestURI,
		Proto:      r.Proto,
		ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor,
		Host:       r.Host,
		Header:     textproto.MIMEHeader(r.Header),
		Body:       r.ContentLength != 0 || len(r.TransferEncoding) > 0,
		Secure:     r.TLS != nil,
	}
}

// Accept completes the handshake Check accepted. It hijacks w
// (http.NewResponseController(w).Hijack), clears any deadline net/http left
// on the connection, writes the 101 response built from res and
// cfg.Header in one write, and returns the connection and the reader that
// holds any bytes the client sent after its request: the WebSocket stream
// must be read from br, not nc, or those bytes are lost. The caller owns
// nc from here on and must close it.
//
// If the response cannot be built (an invalid subprotocol, extension
// answer or header in res or cfg) or w cannot be hijacked, Accept answers
// 500 itself and returns the error; nothing is left for the caller to
// write. If the write of the 101 fails, Accept closes nc.
func Accept(w http.ResponseWriter, res *Result, cfg *Config) (nc net.Conn, br *bufio.Reader, err error) {
	var extra textproto.MIMEHeader
	if cfg != nil {
		extra = cfg.Header
	}
	b, err := appendResponse(nil, res, extra)
	if err != nil {
		(&Error{Status: 500, Reason: "cannot build the handshake response"}).WriteTo(w)
		return nil, nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		(&Error{Status: 500, Reason: "cannot take over the connection"}).WriteTo(w)
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	// The Hijacker contract allows net/http's read and write deadlines to
	// survive the hijack; the WebSocket's own timeouts replace them.
	if err := nc.SetDeadline(time.Time{}); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("clear deadline: %w", err)
	}
	// brw.Writer is new and empty after a hijack: writing to nc directly
	// keeps the response to one write whatever its size.
	if _, err := nc.Write(b); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("write 101: %w", err)
	}
	return nc, brw.Reader, nil
}

// WriteTo writes the refusal to w: e.Header added to whatever w already
// holds, the status, and the reason followed by a newline as a text/plain
// body. It also asks net/http to close the connection afterwards, so that
// bytes the client sent after its upgrade request (frames it hoped to send
// on the WebSocket) are never read as a second HTTP request.
//
// A status outside 400-599 is written as 500. WriteTo writes nothing
// else, so the client sees exactly one status line: the same response as
// AppendResponse, but for the headers net/http adds.
//
// Despite its name it is not an io.WriterTo: it writes an HTTP response.
func (e *Error) WriteTo(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range e.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Connection", "close")
	h.Del("Content-Length")
	w.WriteHeader(e.status())
	w.Write([]byte(e.body())) // The client may be gone; nothing to do about it here.
}

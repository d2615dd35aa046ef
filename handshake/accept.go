package handshake

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"
)

// keyGUID is the GUID of RFC 6455 §1.3, appended to the client's key.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key (RFC 6455 §1.3, §4.2.2 item 5.4): the base64 encoding
// of the SHA-1 of key followed by the protocol's GUID.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
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
	var extra http.Header
	if cfg != nil {
		extra = cfg.Header
	}
	b, err := appendResponse(nil, res, extra)
	if err != nil {
		(&Error{Status: http.StatusInternalServerError, Reason: "cannot build the handshake response"}).WriteTo(w)
		return nil, nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		(&Error{Status: http.StatusInternalServerError, Reason: "cannot take over the connection"}).WriteTo(w)
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

// WriteResponse writes the 101 response for res, with the extra headers,
// to bw and flushes it. It checks everything it writes first and writes
// nothing if any of it is invalid: a subprotocol or extension answer that
// is not well formed, or an extra header Config.Header documents as
// refused. Accept builds the same bytes.
func WriteResponse(bw *bufio.Writer, res *Result, extra http.Header) error {
	b, err := appendResponse(bw.AvailableBuffer(), res, extra)
	if err != nil {
		return err
	}
	if _, err := bw.Write(b); err != nil {
		return fmt.Errorf("write 101: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write 101: %w", err)
	}
	return nil
}

// appendResponse appends the 101 response for res to b (RFC 6455 §4.2.2
// item 5). Extra headers come after the handshake's own, sorted by name so
// the bytes do not depend on map order.
func appendResponse(b []byte, res *Result, extra http.Header) ([]byte, error) {
	if res == nil {
		return nil, errors.New("nil handshake result")
	}
	if res.Subprotocol != "" && !IsToken(res.Subprotocol) {
		return nil, errors.New("subprotocol " + quote(res.Subprotocol) + " is not a token")
	}
	for _, e := range res.Extensions {
		if err := checkExtension(e); err != nil {
			return nil, err
		}
	}
	if err := checkHeader(extra); err != nil {
		return nil, err
	}
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	b = append(b, AcceptKey(res.Key)...)
	b = append(b, "\r\n"...)
	if res.Subprotocol != "" {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, res.Subprotocol...)
		b = append(b, "\r\n"...)
	}
	if len(res.Extensions) > 0 {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(b, FormatExtensions(res.Extensions)...)
		b = append(b, "\r\n"...)
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range extra[name] {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...), nil
}

package handshake

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
)

// keyGUID is the GUID of RFC 6455 §1.3, appended to the client's key.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key (RFC 6455 §1.3, §4.2.2 item 5.4): the base64 encoding
// of the SHA-1 of key followed by the protocol's GUID.
func AcceptKey(key string) string {
	sum := sha1Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Respond writes the 101 response for the handshake Check accepted, built
// from res and cfg.Header, on nc in one write: for a server that read the
// request itself (ReadRequest). If the response cannot be built (an
// invalid subprotocol, extension answer or header in res or cfg) Respond
// writes nothing and returns the error; the caller then answers 500.
func Respond(nc net.Conn, res *Result, cfg *Config) error {
	var extra textproto.MIMEHeader
	if cfg != nil {
		extra = cfg.Header
	}
	b, err := appendResponse(nil, res, extra)
	if err != nil {
		return err
	}
	if _, err := nc.Write(b); err != nil {
		return fmt.Errorf("write 101: %w", err)
	}
	return nil
}

// WriteResponse writes the 101 response for res, with the extra headers,
// to bw and flushes it. It checks everything it writes first and writes
// nothing if any of it is invalid: a subprotocol or extension answer that
// is not well formed, or an extra header Config.Header documents as
// refused. Accept builds the same bytes.
func WriteResponse(bw *bufio.Writer, res *Result, extra textproto.MIMEHeader) error {
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
func appendResponse(b []byte, res *Result, extra textproto.MIMEHeader) ([]byte, error) {
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

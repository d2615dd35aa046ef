package handshake

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strconv"
	"strings"
)

// Request is the head of an HTTP request as the handshake reads it, and
// as a server that routes it needs it: read by [ReadRequest], or taken
// from net/http's request by [FromHTTP].
type Request struct {
	Method string
	Target string // the request-target as sent, such as "/chat?room=1"
	Proto  string // "HTTP/1.1"

	ProtoMajor, ProtoMinor int

	Host string // the Host header; "" when there is none
	// Header holds every header but Host, its names in canonical form
	// (textproto.CanonicalMIMEHeaderKey), repeated ones in order.
	Header textproto.MIMEHeader
	// Body reports that the request announces a body: a Content-Length
	// other than 0, or a Transfer-Encoding.
	Body bool
	// Secure reports that the client reached the server over TLS
	// (directly, or as a proxy the server trusts says): its page's origin
	// is then https, which Config.Origin may compare.
	Secure bool
}

// ProtoAtLeast reports whether r's HTTP version is at least major.minor.
func (r *Request) ProtoAtLeast(major, minor int) bool {
	return r.ProtoMajor > major || r.ProtoMajor == major && r.ProtoMinor >= minor
}

// ReadRequest reads a request head, the request line and the header
// block, from br: no more than max bytes of it, and nothing after it, so
// that what the client sent next (a WebSocket's first frames) stays in br.
// It is stricter than net/http, as a server that only upgrades can be:
// HTTP/1.x only, header names that are tokens, no control
// character in a value, no obsolete line folding, one Host, and a
// Content-Length that is a number. A head it refuses is an *Error, 400
// (431 past max, 505 for another version), to be answered before the
// connection is closed; any other error is the connection's (EOF, a
// timeout), with nothing to answer.
func ReadRequest(br *bufio.Reader, max int) (*Request, error) {
	budget := max
	line, err := readLine(br, &budget)
	if err != nil {
		return nil, err
	}
	r := &Request{Header: make(textproto.MIMEHeader, 8)}
	var ok bool
	if r.Method, r.Target, r.Proto, ok = splitRequestLine(string(line)); !ok {
		return nil, refuse("malformed request line " + quote(string(line)))
	}
	// HTTP-version is "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); a later
	// HTTP/1 minor version is answered as 1.1 (RFC 9110 §6.2).
	minor, ok := strings.CutPrefix(r.Proto, "HTTP/1.")
	if !ok || len(minor) != 1 || minor[0] < '0' || minor[0] > '9' {
		return nil, &Error{Status: 505, Reason: "unsupported protocol " + quote(r.Proto) + ": this server speaks HTTP/1.1"}
	}
	r.ProtoMajor, r.ProtoMinor = 1, int(minor[0]-'0')
	hosts := 0
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, refuse("obsolete line folding in the headers")
		}
		name, value, found := bytes.Cut(line, []byte{':'})
		if !found || !IsToken(string(name)) {
			return nil, refuse("malformed header line " + quote(string(line)))
		}
		v := strings.Trim(string(value), " \t")
		if !quotable(v) {
			return nil, refuse("a control character in header " + quote(string(name)))
		}
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		switch key {
		case "Host":
			if hosts++; hosts > 1 {
				return nil, refuse("more than one Host header")
			}
			r.Host = v
			continue
		case "Content-Length":
			n, err := strconv.ParseUint(v, 10, 63)
			if err != nil {
				return nil, refuse("malformed Content-Length " + quote(v))
			}
			r.Body = r.Body || n > 0
		case "Transfer-Encoding":
			r.Body = true
		}
		r.Header[key] = append(r.Header[key], v)
	}
	return r, nil
}

// splitRequestLine splits "METHOD TARGET HTTP/x.y" (RFC 9112 §3), each
// part non-empty, the method a token and the target free of control
// characters and spaces.
func splitRequestLine(line string) (method, target, proto string, ok bool) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !IsToken(method) || target == "" || proto == "" || strings.Contains(proto, " ") {
		return "", "", "", false
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f {
			return "", "", "", false
		}
	}
	return method, target, proto, true
}

// readLine reads one line of the head, without its CRLF (or lone LF, as
// RFC 9112 §2.2 lets a server accept), taking its length from *budget: a
// head longer than the budget is a 431.
func readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	var long []byte // a line longer than br's buffer, in pieces
	for {
		chunk, err := br.ReadSlice('\n')
		if *budget -= len(chunk); *budget < 0 {
			return nil, &Error{Status: 431, Reason: "the request's headers are too large"}
		}
		switch {
		case err == bufio.ErrBufferFull:
			long = append(long, chunk...)
			continue
		case err != nil:
			return nil, err
		case long != nil:
			chunk = append(long, chunk...)
		}
		chunk = chunk[:len(chunk)-1]
		if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
			chunk = chunk[:n-1]
		}
		return chunk, nil
	}
}

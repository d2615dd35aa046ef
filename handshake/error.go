package handshake

import (
	"maps"
	"net/textproto"
	"slices"
	"strconv"
)

// Error is a refused handshake: the HTTP status, a human reason written as
// the body, and extra response headers (426 carries Sec-WebSocket-Version:
// 13; 405 carries Allow: GET).
type Error struct {
	Status int
	Reason string
	Header textproto.MIMEHeader
}

// Error returns "handshake: 400 Bad Request: reason".
func (e *Error) Error() string {
	s := "handshake: " + strconv.Itoa(e.Status)
	if t := statusText(e.Status); t != "" {
		s += " " + t
	}
	return s + ": " + e.Reason
}

// status is the status a refusal is written with: a status outside
// 400-599 is written as 500, since a refusal that said 1xx or 2xx would
// tell the client something untrue.
func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return 500
	}
	return e.Status
}

// body is what a refusal's response carries: the reason and a newline.
func (e *Error) body() string { return e.Reason + "\n" }

// AppendResponse appends the whole HTTP/1.1 response of the refusal to b,
// for a server that writes on the connection itself: the status line,
// e.Header and extra (extra's names first), a text/plain body of the
// reason and "Connection: close", so that bytes the client sent after its
// request (frames it hoped to send on the WebSocket) are never read as a
// second request. A header whose name is not a token or whose value holds
// a control character is left out, so nothing the refusal carries can
// inject a header. Headers are sorted by name, the bytes the same whatever
// the maps' order.
func (e *Error) AppendResponse(b []byte, extra textproto.MIMEHeader) []byte {
	status := e.status()
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, statusText(status)...)
	b = append(b, "\r\n"...)
	for _, h := range []textproto.MIMEHeader{extra, e.Header} {
		for _, name := range slices.Sorted(maps.Keys(h)) {
			switch name {
			case "Content-Type", "Content-Length", "Connection", "X-Content-Type-Options", "Transfer-Encoding":
				continue // written below
			}
			for _, v := range h[name] {
				if IsToken(name) && quotable(v) {
					b = append(b, name...)
					b = append(b, ": "...)
					b = append(b, v...)
					b = append(b, "\r\n"...)
				}
			}
		}
	}
	body := e.body()
	b = append(b, "Content-Type: text/plain; charset=utf-8\r\n"+
		"X-Content-Type-Options: nosniff\r\n"+
		"Connection: close\r\n"+
		"Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// statusText returns the reason phrase of the statuses a WebSocket server
// answers with (RFC 9110 §15, RFC 6585), or "" for another.
func statusText(code int) string {
	switch code {
	case 101:
		return "Switching Protocols"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 426:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}

// refuse returns a 400 Bad Request refusal with reason.
func refuse(reason string) *Error {
	return &Error{Status: 400, Reason: reason}
}

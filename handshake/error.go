package handshake

import (
	"net/http"
	"strconv"
)

// Error is a refused handshake: the HTTP status, a human reason written as
// the body, and extra response headers (426 carries Sec-WebSocket-Version:
// 13; 405 carries Allow: GET).
type Error struct {
	Status int
	Reason string
	Header http.Header
}

// Error returns "handshake: 400 Bad Request: reason".
func (e *Error) Error() string {
	s := "handshake: " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	return s + ": " + e.Reason
}

// WriteTo writes the refusal to w: e.Header added to whatever w already
// holds, the status, and the reason followed by a newline as a text/plain
// body. It also asks net/http to close the connection afterwards, so that
// bytes the client sent after its upgrade request (frames it hoped to send
// on the WebSocket) are never read as a second HTTP request.
//
// A status outside 400-599 is written as 500: a refusal that said 1xx or
// 2xx would tell the client something untrue. WriteTo writes nothing else,
// so the client sees exactly one status line.
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
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	w.Write([]byte(e.Reason + "\n")) // The client may be gone; nothing to do about it here.
}

// refuse returns a 400 Bad Request refusal with reason.
func refuse(reason string) *Error {
	return &Error{Status: http.StatusBadRequest, Reason: reason}
}

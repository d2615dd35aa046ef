package handshake

import (
	"bufio"
	"errors"
	"io"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// TestReadRequest: what ReadRequest reads of a head, and that the bytes
// after it stay in the reader.
func TestReadRequest(t *testing.T) {
	t.Parallel()
	raw := "GET /chat?room=1%202 HTTP/1.1\r\n" +
		"Host: example.com:8080\r\n" +
		"Upgrade: websocket\r\n" +
		"connection:Upgrade\r\n" + // no space, any case
		"X-Twice: a\r\n" +
		"x-twice:  b \t\r\n" +
		"Content-Length: 0\r\n" +
		"X-Empty:\n" + // a lone LF ends a line too
		"\r\n" +
		"\x81\x85after"
	br := bufio.NewReader(strings.NewReader(raw))
	r, err := ReadRequest(br, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{
		Method: "GET", Target: "/chat?room=1%202", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "example.com:8080",
		Header: textproto.MIMEHeader{
			"Upgrade":        {"websocket"},
			"Connection":     {"Upgrade"},
			"X-Twice":        {"a", "b"},
			"Content-Length": {"0"},
			"X-Empty":        {""},
		},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("read\n%+v\nwant\n%+v", r, want)
	}
	if rest, _ := io.ReadAll(br); string(rest) != "\x81\x85after" {
		t.Fatalf("after the head: %q", rest)
	}
}

// TestReadRequestRefuses: each head ReadRequest refuses, with its status.
func TestReadRequestRefuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 5000) // longer than bufio's default buffer
	tests := []struct {
		name, raw string
		status    int
	}{
		{"no target", "GET HTTP/1.1\r\n\r\n", 400},
		{"two spaces", "GET  / HTTP/1.1\r\n\r\n", 400},
		{"space in target", "GET /a b HTTP/1.1\r\n\r\n", 400},
		{"control character in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400},
		{"method not a token", "G(T / HTTP/1.1\r\n\r\n", 400},
		{"HTTP/2", "GET / HTTP/2.0\r\n\r\n", 505},
		{"HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", 505},
		{"not HTTP", "GET / FTP/1.1\r\n\r\n", 505},
		{"folded header", "GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n", 400},
		{"no colon", "GET / HTTP/1.1\r\nX-A 1\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nX-A : 1\r\n\r\n", 400},
		{"empty name", "GET / HTTP/1.1\r\n: 1\r\n\r\n", 400},
		{"NUL in value", "GET / HTTP/1.1\r\nX-A: 1\x002\r\n\r\n", 400},
		{"CR in value", "GET / HTTP/1.1\r\nX-A: 1\r2\r\n\r\n", 400},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"bad Content-Length", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
		{"too large", "GET / HTTP/1.1\r\nX-A: " + long + "\r\n\r\n", 431},
		{"too large request line", "GET /" + long + " HTTP/1.1\r\n\r\n", 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadRequest(bufio.NewReader(strings.NewReader(tc.raw)), 4<<10)
			var herr *Error
			if !errors.As(err, &herr) || herr.Status != tc.status || herr.Reason == "" {
				t.Fatalf("error %v, want a %d refusal", err, tc.status)
			}
		})
	}
}

// TestReadRequestLimits: a head exactly at the limit is read, one byte
// more is a 431; a line longer than the reader's buffer but within the
// limit is read whole; a head cut short is the connection's error, with
// nothing to answer.
func TestReadRequestLimits(t *testing.T) {
	t.Parallel()
	value := strings.Repeat("v", 6000)
	raw := "GET / HTTP/1.1\r\nX-Long: " + value + "\r\n\r\n"
	r, err := ReadRequest(bufio.NewReaderSize(strings.NewReader(raw), 16), len(raw))
	if err != nil || r.Header.Get("X-Long") != value {
		t.Fatalf("at the limit: %v", err)
	}
	_, err = ReadRequest(bufio.NewReader(strings.NewReader(raw)), len(raw)-1)
	if herr := (*Error)(nil); !errors.As(err, &herr) || herr.Status != 431 {
		t.Fatalf("one byte over: %v, want 431", err)
	}
	_, err = ReadRequest(bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\nHost: a\r\n")), 1<<10)
	if herr := (*Error)(nil); err == nil || errors.As(err, &herr) {
		t.Fatalf("a head cut short: %v, want the reader's error", err)
	}
}

// TestBody: a request announces a body by a non-zero Content-Length or
// any Transfer-Encoding.
func TestBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		body   bool
	}{{"", false}, {"Content-Length: 0\r\n", false}, {"Content-Length: 5\r\n", true}, {"Transfer-Encoding: chunked\r\n", true}} {
		r, err := ReadRequest(bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\n"+tc.header+"\r\n")), 1<<10)
		if err != nil || r.Body != tc.body {
			t.Errorf("%q: Body %v, %v; want %v", tc.header, r != nil && r.Body, err, tc.body)
		}
	}
}

// TestAppendResponse: a refusal on a raw connection is one whole HTTP/1.1
// response that closes the connection; headers that could inject one are
// left out, and a status outside 400-599 is written as 500.
func TestAppendResponse(t *testing.T) {
	t.Parallel()
	e := &Error{Status: 426, Reason: "speak WebSocket", Header: textproto.MIMEHeader{
		"Sec-Websocket-Version": {"13"},
		"X-Bad":                 {"a\r\nSet-Cookie: x=1"},
		"Content-Length":        {"999"},
	}}
	got := string(e.AppendResponse(nil, textproto.MIMEHeader{"X-Served-By": {"test"}, "Bad Name": {"x"}}))
	want := "HTTP/1.1 426 Upgrade Required\r\n" +
		"X-Served-By: test\r\n" +
		"Sec-Websocket-Version: 13\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Connection: close\r\n" +
		"Content-Length: 16\r\n" +
		"\r\n" +
		"speak WebSocket\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if got := string((&Error{Status: 200, Reason: "x"}).AppendResponse(nil, nil)); !strings.HasPrefix(got, "HTTP/1.1 500 Internal Server Error\r\n") {
		t.Fatalf("status 200 written as %q", got)
	}
}

package handshake

import (
	"errors"
	"net/textproto"
	"strings"
)

// isTokenChar reports whether c may appear in an RFC 7230 §3.2.6 token:
// any visible ASCII character except the delimiters "(),/:;<=>?@[\]{}
// and the double quote.
func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
}

// IsToken reports whether s is a non-empty RFC 7230 §3.2.6 token, as
// header names, subprotocols (RFC 6455 §4.1) and extension names are.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isQuotable reports whether c may appear in a quoted-string, escaped or
// not: HTAB, SP, visible ASCII and obs-text, never another control
// character.
func isQuotable(c byte) bool {
	return c == '\t' || (c >= ' ' && c != 0x7f)
}

// quotable reports whether every byte of s is quotable: s holds no control
// character but HTAB, so it cannot end a header line early.
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isQuotable(s[i]) {
			return false
		}
	}
	return true
}

// reserved are the response headers the handshake writes itself, or that a
// 101 response must not carry (RFC 9110 §8.6: no Content-Length in 1xx).
var reserved = []string{
	"Upgrade", "Connection", "Content-Length", "Transfer-Encoding",
	"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions", "Sec-Websocket-Version",
}

// CheckHeader reports why the header name: value cannot be written raw
// into a response, or nil if it can: a name that is not a token, a name
// the server writes itself (the handshake's headers, Content-Length,
// Transfer-Encoding; compared in any case), or a value holding a control
// character other than HTAB (CR and LF would let the value end the header
// line and inject others). It is the rule [Config.Header] must follow, for
// a server to check its configuration once, ahead of any request.
func CheckHeader(name, value string) error {
	if !IsToken(name) {
		return errors.New("header name " + quote(name) + " is not a token")
	}
	for _, r := range reserved {
		if strings.EqualFold(name, r) {
			return errors.New("header " + name + " is written by the server itself")
		}
	}
	if !quotable(value) {
		return errors.New("value of header " + name + " holds a control character")
	}
	return nil
}

// checkHeader checks every header of h with CheckHeader, a name without
// values too.
func checkHeader(h textproto.MIMEHeader) error {
	for name, values := range h {
		if len(values) == 0 {
			values = []string{""}
		}
		for _, v := range values {
			if err := CheckHeader(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

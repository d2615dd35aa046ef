package handshake

import (
	"errors"
	"net/http"
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

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
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

// reserved are the response headers the handshake writes itself, or that a
// 101 response must not carry (RFC 9110 §8.6: no Content-Length in 1xx).
var reserved = []string{
	"Upgrade", "Connection", "Content-Length", "Transfer-Encoding",
	"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions", "Sec-Websocket-Version",
}

// checkHeader reports why extra headers cannot be written raw into a 101
// response: a name that is not a token or is reserved, or a value holding a
// control character other than HTAB (CR and LF would let the value end the
// header line and inject others).
func checkHeader(h http.Header) error {
	for name, values := range h {
		if !isToken(name) {
			return errors.New("header name " + quote(name) + " is not a token")
		}
		for _, r := range reserved {
			if strings.EqualFold(name, r) {
				return errors.New("header " + name + " is written by the handshake itself")
			}
		}
		for _, v := range values {
			for i := 0; i < len(v); i++ {
				if !isQuotable(v[i]) {
					return errors.New("value of header " + name + " holds a control character")
				}
			}
		}
	}
	return nil
}

package server

import "strings"

// Join and leave events (--broadcast-events): lines on the shared
// program's stdin, among the clients' messages (which, with ids, start
// with a digit):
//
//	+ID NAME=VALUE NAME=VALUE ...
//	-ID
//
// A join event names the client's CGI variables: those a program of its
// own would have in its environment, less the ones that are the same for
// every client (notInEvent) and the --passenv ones. In a VALUE, every
// byte that is a space, '%', a control character or DEL is written %XX
// (upper-case hex), so that a VALUE holds no space and the line no break;
// names are letters, digits and '_'.

// notInEvent are the variables a join event leaves out: the same for every
// client, or always empty.
var notInEvent = map[string]bool{
	"SERVER_SOFTWARE": true, "GATEWAY_INTERFACE": true, "SERVER_PROTOCOL": true,
	"REQUEST_METHOD": true, "PATH_TRANSLATED": true, "UNIQUE_ID": true,
	"AUTH_TYPE": true, "CONTENT_LENGTH": true, "CONTENT_TYPE": true,
	"REMOTE_IDENT": true, "REMOTE_USER": true,
}

// appendJoin appends the join event of client id, whose environment would
// be env, leaving out the --passenv variables (passed).
func appendJoin(b []byte, id string, env []string, passed map[string]bool) []byte {
	b = append(b, '+')
	b = append(b, id...)
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if notInEvent[name] || passed[name] {
			continue
		}
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, '=')
		b = appendEscaped(b, value)
	}
	return append(b, '\n')
}

// appendLeave appends the leave event of client id.
func appendLeave(b []byte, id string) []byte {
	b = append(b, '-')
	b = append(b, id...)
	return append(b, '\n')
}

// appendEscaped appends v with spaces, '%', control characters and DEL
// written as %XX.
func appendEscaped(b []byte, v string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c <= ' ', c == '%', c == 0x7f:
			b = append(b, '%', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

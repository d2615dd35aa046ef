package server

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/wsexec/wsexec/handshake"
)

// request is a request as the gates, the routes and the program's
// environment read it: its head, as package handshake reads it, and what
// the connection and the gates add. It comes from net/http's request
// (fromHTTP) or from wsexec's own reader (serveRaw).
type request struct {
	handshake.Request
	path  string // the target's path, percent-decoded
	query string // the target's query, as sent
	// remoteAddr is the client's address, ip:port (or a Unix socket
	// peer's name): the peer's, or the one a trusted proxy names.
	remoteAddr string
	// ctx ends when the client is gone (as net/http sees it) or the
	// server stops.
	ctx context.Context
	tls bool // the request came over TLS
	// clientCert is the subject of the client certificate TLS verified
	// (--sslca), "" without one.
	clientCert string
	// forwarded reports that a trusted proxy described the request
	// (proxy.go); scheme is the scheme it named, or "".
	forwarded bool
	scheme    string
	who       identity // who the gates say the client is (auth.go)
}

// Every request is checked here before it is routed: its target, its Host
// and its path must each have one reading, so that the program, the origin
// policy, the logs and a proxy in front all see the same request. Each
// refusal is a 400 with its reason.
//
//   - The target is a path (origin-form, RFC 9112 §3.2.1). An absolute-form
//     target ("GET http://host/x", what clients send to a proxy) would make
//     net/http take the host from the request line and drop Host: a proxy
//     that checked Host would pass a request whose program, SERVER_NAME and
//     --sameorigin then see another host. RFC 9112 §3.2.2 asks servers to
//     accept that form, and RFC 6455 §4.2.1 allows it for an upgrade, but
//     no browser sends it to a server, so wsexec refuses it on every route
//     rather than let two hosts be read from one request. CONNECT's
//     authority-form is refused the same way. ("OPTIONS *" is answered by
//     net/http itself and never reaches wsexec.)
//   - Host is valid as splitHost says.
//   - The path holds no "." or ".." segment, in any spelling that decodes
//     to one (%2e%2e, .%2E...), whether it falls in a script's path, in
//     PATH_INFO or on a route that names no file: such a path reads two ways
//     (as sent, and as cleaned), and nothing legitimate sends one (browsers
//     and curl remove dot segments before they send). A percent-encoded
//     slash (%2F) is refused too: once decoded it is a slash, so "/a%2Fb"
//     would reach /a/b while a proxy that filters paths saw one segment.
//
// The redirect listeners check the target and Host (the redirect is built
// from Host) and leave the path to the listener they redirect to.

// checkRequest refuses a request that any of the rules above refuses.
func checkRequest(r *request) error {
	if err := checkTarget(r.Target, r.Host); err != nil {
		return err
	}
	rawPath, _, _ := strings.Cut(r.Target, "?")
	if strings.Contains(rawPath, "%2f") || strings.Contains(rawPath, "%2F") {
		return badRequest("an encoded slash (%2F) in the path")
	}
	if hasDotSegment(r.path) {
		return badRequest(dotSegmentReason)
	}
	return nil
}

// checkTarget refuses a target that is not a path and a malformed Host.
func checkTarget(target, host string) error {
	if !strings.HasPrefix(target, "/") {
		return badRequest("the request target " + quote(target) +
			" is not a path: send the path alone, with the host in the Host header")
	}
	if _, _, err := splitHost(host); err != nil {
		return badRequest("malformed Host header " + quote(host) + ": " + err.Error())
	}
	return nil
}

func badRequest(reason string) error {
	return &handshake.Error{Status: 400, Reason: reason}
}

// dotSegmentReason is the reason for refusing a path with a "." or ".."
// segment, wherever it is found.
const dotSegmentReason = "a . or .. segment in the path"

// hasDotSegment reports whether the slash-separated path p has a segment
// that is "." or "..".
func hasDotSegment(p string) bool {
	for rest, more := p, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// splitHost splits a Host header value (RFC 9110 §7.2: host [":" port])
// into its name, an IPv6 address without its brackets, and its port, ""
// when there is none. It is stricter than RFC 3986 and net/http, which
// let a port be empty or any digits, and a name hold "!$&'()*+,;=": every
// value it accepts is a plain name a program can put in a command line or
// a URL as it is. A name is a DNS name or IPv4 address (letters, digits,
// '-', '.' and '_'), or an IPv6 address in brackets (no zone); a port,
// when its ':' is there, is a number from 1 to 65535 written plainly (no
// sign, no leading zero). An empty Host is valid (HTTP/1.0 may send none;
// the handshake refuses it for an upgrade), an empty name with a port is
// not.
func splitHost(h string) (name, port string, err error) {
	if h == "" {
		return "", "", nil
	}
	var rest string
	if v6, ok := strings.CutPrefix(h, "["); ok {
		var closed bool
		name, rest, closed = strings.Cut(v6, "]")
		if !closed || !strings.Contains(name, ":") || net.ParseIP(name) == nil {
			return "", "", errors.New("not an IPv6 address in brackets")
		}
	} else {
		name = h
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			name, rest = h[:i], h[i:]
		}
		if name == "" {
			return "", "", errors.New("no host name")
		}
		for i := 0; i < len(name); i++ {
			switch c := name[i]; {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
			default:
				return "", "", errors.New("a host name holds only letters, digits, '-', '.' and '_' (an IPv6 address goes in brackets)")
			}
		}
	}
	if rest == "" {
		return name, "", nil
	}
	port, ok := strings.CutPrefix(rest, ":")
	if !ok {
		return "", "", errors.New("text after the IPv6 address")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", "", errors.New("the port is not a number from 1 to 65535")
	}
	return name, port, nil
}

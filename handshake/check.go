package handshake

import (
	"encoding/base64"
	"errors"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/wsexec/wsexec/wsproto"
)

// Config holds the server's handshake choices. Its zero value (or a nil
// *Config) accepts any valid request, answering no subprotocol and no
// extension.
type Config struct {
	// Subprotocols is the server's choice list, in preference order. The
	// first name the client also offered is chosen: the server's order
	// wins, not the client's. Empty: no subprotocol is ever answered.
	Subprotocols []string

	// RequireSubprotocol refuses (400, the reason lists what is supported)
	// a client whose offer matches none of Subprotocols. A client that
	// offers nothing is always accepted.
	RequireSubprotocol bool

	// Origin, if set, judges the request's origin (RFC 6455 §4.2.2 item 1,
	// §10.2) once the request is a valid upgrade; Origin(r) is given the
	// whole request, as a same-origin policy compares Origin with Host
	// and the scheme (Request.Secure). An error refuses the handshake: an
	// *Error keeps its status, any other error is a 403 with the error's
	// text as the reason.
	Origin func(r *Request) error

	// Extensions, if set, is given the client's parsed offers and returns
	// the answers to send (nil: none). An error from it refuses the
	// handshake: an *Error keeps its status, any other error is a 400 with
	// the error's text as the reason. Each answer must name an extension
	// the client offered (RFC 6455 §9.1) and be well formed, or Check
	// refuses with 500: the fault is the server's.
	Extensions func(offers []wsproto.Extension) ([]wsproto.Extension, error)

	// Header holds extra headers for the 101 response. Names must be
	// tokens, values must not hold control characters (CR, LF, NUL...), and
	// the headers the handshake itself writes (Upgrade, Connection,
	// Sec-WebSocket-*, Content-Length, Transfer-Encoding) cannot be set
	// here: Accept answers 500 rather than write them. Check does not
	// look at Header on every request; a server checks it once with
	// CheckHeader when it is configured.
	Header textproto.MIMEHeader
}

// Result is an accepted request, ready for Accept.
type Result struct {
	Key         string              // Sec-WebSocket-Key as sent
	Subprotocol string              // chosen, or ""
	Offered     []string            // the client's subprotocol offer, in order
	Extensions  []wsproto.Extension // accepted (answered) extensions, in the order answered
	Offers      []wsproto.Extension // every extension the client offered, parsed
}

// IsUpgrade reports whether r asks for a WebSocket upgrade at all: its
// Upgrade header holds the token websocket. A server uses it to tell
// WebSocket requests from plain HTTP ones before calling Check, which says
// what, if anything, is wrong with the upgrade.
func IsUpgrade(r *Request) bool {
	return hasToken(r.Header.Values("Upgrade"), "websocket")
}

// Check checks the upgrade request r against RFC 6455 §4.2.1 and chooses a
// subprotocol and extensions as cfg says. It only reads r. A refusal is
// always an *Error: 405 for a method other than GET, 426 for a missing or
// unsupported Sec-WebSocket-Version, 403 for an origin cfg.Origin refuses,
// 500 for extension answers from cfg.Extensions that cannot be sent, 400
// for anything else. cfg may be nil.
func Check(r *Request, cfg *Config) (*Result, error) {
	res, herr := check(r, cfg)
	if herr != nil {
		return nil, herr
	}
	return res, nil
}

// check is Check with a concrete error type, so that a nil *Error never
// becomes a non-nil error.
func check(r *Request, cfg *Config) (*Result, *Error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if r.Method != "GET" {
		return nil, &Error{
			Status: 405,
			Reason: "a WebSocket upgrade must use GET, not " + r.Method,
			Header: textproto.MIMEHeader{"Allow": {"GET"}},
		}
	}
	if !r.ProtoAtLeast(1, 1) {
		return nil, refuse("a WebSocket upgrade needs HTTP/1.1 or later, not " + r.Proto)
	}
	if r.Host == "" {
		return nil, refuse("missing Host header")
	}
	if !IsUpgrade(r) {
		return nil, refuse("the Upgrade header must contain websocket")
	}
	if !hasToken(r.Header.Values("Connection"), "upgrade") {
		return nil, refuse("the Connection header must contain upgrade")
	}
	if herr := checkVersion(r.Header.Values("Sec-WebSocket-Version")); herr != nil {
		return nil, herr
	}
	key, herr := checkKey(r.Header.Values("Sec-WebSocket-Key"))
	if herr != nil {
		return nil, herr
	}
	if r.Body {
		return nil, refuse("a WebSocket upgrade request must not have a body")
	}
	if cfg.Origin != nil {
		if err := cfg.Origin(r); err != nil {
			var herr *Error
			if errors.As(err, &herr) {
				return nil, herr
			}
			return nil, &Error{Status: 403, Reason: err.Error()}
		}
	}
	res := &Result{Key: key}
	offered, err := parseTokenList(r.Header.Values("Sec-WebSocket-Protocol"))
	if err != nil {
		return nil, refuse("Sec-WebSocket-Protocol: " + err.Error())
	}
	res.Offered = offered
	res.Subprotocol = chooseSubprotocol(cfg.Subprotocols, offered)
	if res.Subprotocol == "" && len(offered) > 0 && cfg.RequireSubprotocol {
		supported := "none"
		if len(cfg.Subprotocols) > 0 {
			supported = strings.Join(cfg.Subprotocols, ", ")
		}
		return nil, refuse("no supported subprotocol offered (supported: " + supported + ")")
	}

	res.Offers, err = ParseExtensions(r.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		return nil, refuse(err.Error())
	}
	if cfg.Extensions != nil && len(res.Offers) > 0 {
		answers, err := cfg.Extensions(res.Offers)
		if err != nil {
			var herr *Error
			if errors.As(err, &herr) {
				return nil, herr
			}
			return nil, refuse("Sec-WebSocket-Extensions: " + err.Error())
		}
		if err := checkAnswers(answers, res.Offers); err != nil {
			return nil, &Error{Status: 500, Reason: "extension negotiation: " + err.Error()}
		}
		res.Extensions = answers
	}
	return res, nil
}

// checkVersion checks Sec-WebSocket-Version (RFC 6455 §4.2.1 item 6): only
// 13 is spoken, and §4.4 asks for 426 naming it otherwise. A repeated
// header is malformed (§11.3.5 allows it once in a request).
func checkVersion(values []string) *Error {
	if len(values) > 1 {
		return refuse("more than one Sec-WebSocket-Version header")
	}
	reason := "missing Sec-WebSocket-Version header, this server speaks version 13"
	if len(values) == 1 {
		if strings.TrimSpace(values[0]) == "13" {
			return nil
		}
		reason = "unsupported Sec-WebSocket-Version " + quote(values[0]) + ", this server speaks version 13"
	}
	return &Error{
		Status: 426,
		Reason: reason,
		Header: textproto.MIMEHeader{
			"Sec-Websocket-Version": {"13"},
			// RFC 9110 §15.5.22: a 426 response must send Upgrade.
			"Upgrade": {"websocket"},
		},
	}
}

// checkKey checks Sec-WebSocket-Key (RFC 6455 §4.2.1 item 5): exactly one
// header whose value is the canonical base64 encoding of 16 bytes.
func checkKey(values []string) (string, *Error) {
	switch len(values) {
	case 0:
		return "", refuse("missing Sec-WebSocket-Key header")
	case 1:
	default:
		return "", refuse("more than one Sec-WebSocket-Key header")
	}
	key := values[0]
	// Strict rejects non-zero padding bits; the decoder would skip CR and
	// LF, which a header parsed by net/http cannot hold but a request built
	// by hand can. So a key that passes is exactly 24 characters.
	b, err := base64.StdEncoding.Strict().DecodeString(key)
	if err != nil || strings.ContainsAny(key, "\r\n") {
		return "", refuse("Sec-WebSocket-Key " + quote(key) + " is not valid base64")
	}
	if len(b) != 16 {
		return "", refuse("Sec-WebSocket-Key must encode 16 bytes, not " + strconv.Itoa(len(b)))
	}
	return key, nil
}

// chooseSubprotocol returns the first name of supported that the client
// offered, or "". Names compare exactly, so the answer is always one of
// the client's own strings.
func chooseSubprotocol(supported, offered []string) string {
	for _, s := range supported {
		for _, o := range offered {
			if s == o {
				return o
			}
		}
	}
	return ""
}

// checkAnswers checks the extension hook's answers: each is well formed
// and names an extension the client offered (RFC 6455 §9.1).
func checkAnswers(answers, offers []wsproto.Extension) error {
	for _, a := range answers {
		if err := checkExtension(a); err != nil {
			return err
		}
		offered := false
		for _, o := range offers {
			if o.Name == a.Name {
				offered = true
				break
			}
		}
		if !offered {
			return errors.New("answer " + quote(a.Name) + " was not offered by the client")
		}
	}
	return nil
}

// hasToken reports whether the comma-separated lists in values hold token,
// compared case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(elem, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// parseTokenList parses the comma-separated token lists in values (RFC
// 7230 §7 #token), ignoring empty elements.
func parseTokenList(values []string) ([]string, error) {
	var list []string
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			elem = strings.Trim(elem, " \t")
			if elem == "" {
				continue
			}
			if !IsToken(elem) {
				return nil, errors.New(quote(elem) + " is not a token")
			}
			list = append(list, elem)
		}
	}
	return list, nil
}

// quote quotes s for a reason, keeping reasons readable and on one line
// whatever the client sent. Long values are cut.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

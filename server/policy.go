package server

import (
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/wsproto"
)

// This file holds the connection policy: which origins may connect
// (--origin, --sameorigin), which subprotocol is answered (--subprotocol),
// and what a client gets when --maxforks programs are already running.

// OriginRule is one entry of --origin: a host, with an optional scheme and
// port. An empty Scheme or Port matches any; a Host starting with "*."
// matches every subdomain of the rest (not the rest itself); Null matches
// the opaque origin "null" (file:// pages, sandboxed frames) and nothing
// else.
type OriginRule struct {
	Scheme string // lower case
	Host   string // lower case, IPv6 without brackets
	Port   string
	Null   bool
}

// String returns the rule as it would be written on the command line.
func (o OriginRule) String() string {
	if o.Null {
		return "null"
	}
	s := o.Host
	if strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	if o.Port != "" {
		s += ":" + o.Port
	}
	if o.Scheme != "" {
		s = o.Scheme + "://" + s
	}
	return s
}

// ParseOriginRules parses --origin entries, each [scheme://]host[:port] or
// null. Empty entries are skipped. An entry with a path, user information
// or a port outside 1-65535 is an error naming the entry.
func ParseOriginRules(entries []string) ([]OriginRule, error) {
	var rules []OriginRule
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.EqualFold(e, "null") {
			rules = append(rules, OriginRule{Null: true})
			continue
		}
		raw := e
		if !strings.Contains(raw, "://") {
			raw = "any://" + raw
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%q: not [scheme://]host[:port]", e)
		case u.User != nil, u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
			return nil, fmt.Errorf("%q: only [scheme://]host[:port], no user, path or query", e)
		case u.Hostname() == "":
			return nil, fmt.Errorf("%q: no host", e)
		case strings.Contains(strings.TrimPrefix(u.Hostname(), "*."), "*"):
			return nil, fmt.Errorf("%q: a wildcard is only allowed as a first label, as in *.example.com", e)
		}
		r := OriginRule{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname()), Port: u.Port()}
		if r.Scheme == "any" {
			r.Scheme = ""
		}
		if r.Port != "" {
			if n, err := strconv.Atoi(r.Port); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("%q: port %q is not 1 to 65535", e, r.Port)
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// origin is a parsed Origin header (RFC 6454 §7). port is always set:
// the scheme's default when the header names none.
type origin struct {
	scheme, host, port string
	null               bool
}

func parseOrigin(v string) (origin, error) {
	v = strings.TrimSpace(v)
	if v == "null" {
		return origin{null: true}, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return origin{}, errors.New("malformed")
	}
	o := origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	if o.port == "" {
		o.port = defaultPort(o.scheme == "https" || o.scheme == "wss")
	}
	return o, nil
}

func defaultPort(secure bool) string {
	if secure {
		return "443"
	}
	return "80"
}

func (r OriginRule) matches(o origin) bool {
	if r.Null || o.null {
		return r.Null && o.null
	}
	host := r.Host == o.host
	if sub, ok := strings.CutPrefix(r.Host, "*"); ok { // sub is ".example.com"
		host = len(o.host) > len(sub) && strings.HasSuffix(o.host, sub)
	}
	return (r.Scheme == "" || r.Scheme == o.scheme) && host && (r.Port == "" || r.Port == o.port)
}

// requestScheme is the scheme the client used to reach the server: what
// a trusted proxy said (X-Forwarded-Proto, proxy.go) if it said it, else
// "https" when the request came over TLS, else "http". Every check that
// needs it asks here; the handshake's origin check reads it as
// handshake.Request.Secure, which serveWS sets from it.
func requestScheme(r *request) string {
	switch {
	case r.scheme != "":
		return r.scheme
	case r.tls:
		return "https"
	}
	return "http"
}

// schemeOf is the scheme of a request as the handshake's origin check
// sees it: https when Secure.
func schemeOf(r *handshake.Request) string {
	if r.Secure {
		return "https"
	}
	return "http"
}

// sameOrigin reports whether o names the scheme, host and port the
// request was sent to: requestScheme, and the Host header (the scheme's
// default port when it has none). A page's origin is http or https, never
// ws or wss, so those never match. The Host header is the client's word:
// see docs/policy.md on DNS rebinding.
func sameOrigin(o origin, r *handshake.Request) bool {
	if o.null {
		return false
	}
	scheme := schemeOf(r)
	host, port, _ := splitHost(r.Host) // checked by checkRequest
	if port == "" {
		port = defaultPort(scheme == "https")
	}
	return o.scheme == scheme && strings.EqualFold(host, o.host) && port == o.port
}

// originPolicy returns the handshake's origin check for rules and
// sameorigin, or nil when neither restricts anything. A refusal is a plain
// error, which the handshake turns into 403 with the error as the reason.
//
// A request without an Origin header is let through: browsers send one on
// every WebSocket request (the Fetch standard; RFC 6455 §4.1 item 8), and
// the origin check exists to stop a page on another site from using a
// visitor's browser (RFC 6455 §10.2). A client that sends no Origin is not
// a browser, and a non-browser client can send any Origin it likes, so
// refusing it would protect nothing and break curl, websocat and scripts.
func originPolicy(rules []OriginRule, same bool) func(*handshake.Request) error {
	if len(rules) == 0 && !same {
		return nil
	}
	return func(r *handshake.Request) error {
		values := r.Header.Values("Origin")
		switch len(values) {
		case 0:
			return nil
		case 1:
		default:
			return errors.New("more than one Origin header")
		}
		o, err := parseOrigin(values[0])
		if err != nil {
			return fmt.Errorf("malformed Origin header %s", quote(values[0]))
		}
		if same && !sameOrigin(o, r) {
			return fmt.Errorf("origin %s does not match the request's %s (--sameorigin)", quote(values[0]), quote(schemeOf(r)+"://"+r.Host))
		}
		if len(rules) > 0 {
			for _, rule := range rules {
				if rule.matches(o) {
					return nil
				}
			}
			return fmt.Errorf("origin %s is not allowed (--origin)", quote(values[0]))
		}
		return nil
	}
}

// quote quotes s for a refusal's reason, cut to keep reasons short.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return strconv.Quote(s)
}

// ValidSubprotocol reports whether name can be a subprotocol: an RFC 7230
// token, as RFC 6455 §4.1 requires.
func ValidSubprotocol(name string) bool {
	return handshake.IsToken(name)
}

// policyHandshake fills in the handshake's policy from cfg: the origin
// check, and the subprotocols in the server's order of preference. A
// client that offers subprotocols, none of them listed, is refused (400,
// the reason lists what is supported): a browser would fail the
// connection anyway when the answer names none of its offers, and a 400
// says why where a failed WebSocket says nothing.
func policyHandshake(hs *handshake.Config, cfg *Config) {
	hs.Origin = originPolicy(cfg.Origins, cfg.SameOrigin)
	hs.Subprotocols = cfg.Subprotocols
	hs.RequireSubprotocol = len(cfg.Subprotocols) > 0
}

// answerSubprotocol picks the subprotocol when no --subprotocol is set:
// the client's first offer. Browsers and Node's ws fail a handshake whose
// answer names none of the subprotocols they asked for; websocketd never
// answers one, so they cannot use it. The choice reaches the program as
// WEBSOCKET_PROTOCOL, so a program that cares can still refuse by exiting.
func (s *Server) answerSubprotocol(res *handshake.Result) {
	if len(s.cfg.Subprotocols) == 0 && res.Subprotocol == "" && len(res.Offered) > 0 {
		res.Subprotocol = res.Offered[0]
	}
}

// acquire takes one of the MaxForks slots (a WebSocket program or a CGI
// script) and reports whether there was one; a slot taken is given back
// with s.running.Add(-1).
func (s *Server) acquire() bool {
	if s.running.Add(1) > int64(s.cfg.MaxForks) {
		s.running.Add(-1)
		return false
	}
	return true
}

// refuse429 answers a request that found every MaxForks slot taken.
func (s *Server) refuse429(w responder, log *Logger) {
	s.refuse(w, log, &handshake.Error{Status: 429, Reason: busyReason(s.cfg.MaxForks),
		Header: textproto.MIMEHeader{"Retry-After": {"1"}}})
}

func busyReason(maxForks int) string {
	return fmt.Sprintf("too many connections (--maxforks=%d)", maxForks)
}

// refuseBusy answers a client that arrived while MaxForks programs run.
// By default that is 429 Too Many Requests with Retry-After, before any
// upgrade. With MaxForksClose the handshake completes instead and the
// connection is closed at once with 1013 (try again later), no program
// started: browsers hide a failed handshake's status from scripts (they
// see 1006) but do show a close code.
func (s *Server) refuseBusy(w responder, log *Logger, res *handshake.Result) {
	if !s.cfg.MaxForksClose {
		s.refuse429(w, log)
		return
	}
	s.conns.Add(1)
	defer s.conns.Done()
	s.metrics.refused1013.Add(1)
	res.Extensions = nil // nothing will be sent but a close frame
	nc, br, err := w.accept(res, &s.hs)
	if err != nil {
		log.Warn("refused", "code", wsproto.CloseTryAgainLater, "err", err)
		return
	}
	defer nc.Close()
	ws := wsproto.NewConn(nc, br, wsproto.Config{MaxMessageSize: s.cfg.MaxMessageSize, CloseTimeout: s.cfg.CloseTimeout})
	log.Info("refused", "code", wsproto.CloseTryAgainLater, "reason", busyReason(s.cfg.MaxForks))
	if err := ws.WriteClose(wsproto.CloseTryAgainLater, "try again later"); err != nil {
		return
	}
	// Wait for the client's close, within the read deadline WriteClose set,
	// discarding whatever it sent before it saw ours.
	for range 1 << 16 {
		if _, _, err := ws.NextReader(); err != nil {
			return
		}
	}
}

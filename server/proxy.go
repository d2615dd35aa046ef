package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Trusted proxies (--trustedproxies). A request whose peer is in one of
// the networks came through a proxy the operator runs, and that proxy's
// headers say who the client is:
//
//   - the address: X-Forwarded-For, or when it is absent Forwarded's for=
//     (RFC 7239). Read from the right, each entry was added by the proxy
//     that received the request from it; the first entry that is not a
//     trusted proxy is the client. Entries further left were written by
//     the client, and may say anything. If every entry is trusted, the
//     left-most is the client. An entry that is no address ("unknown", an
//     obfuscated name) refuses the request (400): there is no address to
//     give the program, and the proxy's own would pass for the client's.
//   - the scheme: X-Forwarded-Proto (or Forwarded's proto= of the element
//     chosen above), "http" or "https";
//   - the host: X-Forwarded-Host (or Forwarded's host=), checked as Host
//     is (splitHost), and then used as Host: SERVER_NAME, HTTP_HOST and
//     --sameorigin see it.
//
// A list (a proxy that appends rather than sets) is read from the right.
// From any other peer these headers are only headers (the program sees
// them as HTTP_X_FORWARDED_FOR...), and nothing is taken from them.
//
// X-Forwarded-For wins over Forwarded because it is what proxies set by
// default: a proxy that sets Forwarded must also drop X-Forwarded-For, or
// a client could send its own (docs/security.md).

// trustedProxies is --trustedproxies, parsed.
type trustedProxies []netip.Prefix

// ParseTrustedProxies parses --trustedproxies entries: each a network in
// CIDR notation (10.0.0.0/8, fd00::/8) or one address. Empty entries are
// skipped.
func ParseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	var nets []netip.Prefix
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil || p.Addr().Zone() != "" {
				return nil, fmt.Errorf("%q: not an address or a network such as 10.0.0.0/8", e)
			}
			nets = append(nets, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q: not an address or a network such as 10.0.0.0/8", e)
		}
		nets = append(nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return nets, nil
}

func (t trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forward rewrites r as the trusted proxy that sent it describes it
// (remoteAddr, Host, and the scheme for requestScheme), and leaves it as it
// is when its peer is not trusted or sent none of the headers.
func (t trustedProxies) forward(r *request) error {
	if len(t) == 0 {
		return nil
	}
	peer, err := netip.ParseAddrPort(r.remoteAddr)
	if err != nil || !t.trusts(peer.Addr()) {
		return nil
	}
	var client, scheme, host string
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		_, client, err = t.pick(listEntries(xff))
		if err != nil {
			return forwardError("X-Forwarded-For", err)
		}
		scheme = lastEntry(r.Header.Values("X-Forwarded-Proto"))
		host = lastEntry(r.Header.Values("X-Forwarded-Host"))
	} else if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		elems, err := parseForwarded(fwd)
		if err != nil {
			return forwardError("Forwarded", err)
		}
		fors := make([]string, len(elems))
		for i, e := range elems {
			fors[i] = e["for"]
		}
		var i int
		i, client, err = t.pick(fors)
		if err != nil {
			return forwardError("Forwarded", err)
		}
		// The chosen element's own proto and host: those of the request
		// the client sent.
		scheme, host = elems[i]["proto"], elems[i]["host"]
	} else {
		scheme = lastEntry(r.Header.Values("X-Forwarded-Proto"))
		host = lastEntry(r.Header.Values("X-Forwarded-Host"))
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "", "http", "https":
	default:
		return badRequest("the trusted proxy's scheme " + quote(scheme) + " is not http or https")
	}
	if host != "" {
		if _, _, err := splitHost(host); err != nil {
			return badRequest("malformed forwarded host " + quote(host) + ": " + err.Error())
		}
	}
	if client == "" && scheme == "" && host == "" {
		return nil
	}
	r.forwarded, r.scheme = true, scheme
	if client != "" {
		r.remoteAddr = client
	}
	if host != "" {
		r.Host = host
	}
	return nil
}

func forwardError(header string, err error) error {
	return badRequest("from a trusted proxy, " + header + ": " + err.Error())
}

// pick returns the client among a proxy chain's entries, left to right as
// in the header: the right-most that is not a trusted proxy, or the
// left-most if all are. It returns the entry's index, and its address as
// request.remoteAddr holds one: "ip", or "ip:port" (an IPv6 address in brackets)
// when the entry has a port.
func (t trustedProxies) pick(entries []string) (int, string, error) {
	for i := len(entries) - 1; i >= 0; i-- {
		a, port, err := parseNode(entries[i])
		if err != nil {
			return 0, "", err
		}
		if i > 0 && t.trusts(a) {
			continue
		}
		addr := a.String()
		if port != "" {
			addr = net.JoinHostPort(addr, port)
		}
		return i, addr, nil
	}
	return 0, "", errors.New("empty")
}

// parseNode parses one hop: an IPv4 or IPv6 address, the latter in
// brackets or not, with an optional port ("[2001:db8::1]:4711", RFC 7239
// §6; "192.0.2.1:4711").
func parseNode(s string) (netip.Addr, string, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Port() != 0 {
		return ap.Addr().Unmap(), fmt.Sprint(ap.Port()), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, "", fmt.Errorf("%s is not an address", quote(s))
	}
	return a.Unmap(), "", nil
}

// listEntries splits comma-separated header values into their entries, in
// order.
func listEntries(values []string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			out = append(out, strings.TrimSpace(e))
		}
	}
	return out
}

// lastEntry is the right-most entry of a list header, "" for none.
func lastEntry(values []string) string {
	e := listEntries(values)
	if len(e) == 0 {
		return ""
	}
	return e[len(e)-1]
}

// parseForwarded parses Forwarded header values (RFC 7239 §4): elements
// separated by commas, each pairs name=value separated by semicolons, a
// value a token or a quoted-string. Names are lower-cased. A comma or
// semicolon inside a quoted string does not split.
func parseForwarded(values []string) ([]map[string]string, error) {
	var elems []map[string]string
	for _, v := range values {
		elem := map[string]string{}
		for i := 0; ; {
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			eq := strings.IndexByte(v[i:], '=')
			if eq < 0 {
				return nil, fmt.Errorf("%s: a pair without '='", quote(v))
			}
			name := strings.ToLower(strings.TrimSpace(v[i : i+eq]))
			i += eq + 1
			var val string
			if i < len(v) && v[i] == '"' {
				var b strings.Builder
				i++
				for ; i < len(v) && v[i] != '"'; i++ {
					if v[i] == '\\' && i+1 < len(v) {
						i++
					}
					b.WriteByte(v[i])
				}
				if i >= len(v) {
					return nil, fmt.Errorf("%s: an unterminated quoted string", quote(v))
				}
				i++
				val = b.String()
			} else {
				j := i
				for j < len(v) && v[j] != ';' && v[j] != ',' {
					j++
				}
				val = strings.TrimSpace(v[i:j])
				i = j
			}
			if _, dup := elem[name]; dup || name == "" {
				return nil, fmt.Errorf("%s: parameter %q empty or repeated", quote(v), name)
			}
			elem[name] = val
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			if i >= len(v) {
				elems = append(elems, elem)
				break
			}
			switch v[i] {
			case ';':
				i++
			case ',':
				elems = append(elems, elem)
				elem = map[string]string{}
				i++
			default:
				return nil, fmt.Errorf("%s: text after a quoted string", quote(v))
			}
		}
	}
	for _, e := range elems {
		if e["for"] == "" {
			return nil, errors.New("an element without for=")
		}
	}
	return elems, nil
}

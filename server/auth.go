package server

import "net/textproto"

// The gates, in the order a request meets them; each refusal is one
// status and one reason, logged, and nothing is upgraded or started
// before the last one has passed:
//
//  1. checkRequest (request.go): target, Host, path; 400.
//  2. --trustedproxies (proxy.go): from a trusted proxy, the client's
//     address, scheme and host from its headers; 400 if they are
//     malformed. Every later gate and the logs see the client.
//  3. The client certificate (--sslca) has been checked by TLS already;
//     it names the client unless a later gate does.
//  4. --basicauth (basicauth.go), on every route: WebSocket, dev console,
//     static files, CGI; 401 with a challenge.
//  5. Routing (route.go): the path names an endpoint; 404, 403.
//  6. The handshake (package handshake), with --origin and --sameorigin;
//     4xx, 403.
//  7. --auth-command (authcmd.go), for WebSocket connections: 403, 401,
//     503 (too slow, or too many running), 500.
//  8. --maxforks (policy.go): 429, or 1013 after the upgrade.
//
// Then the program starts, with the identity the gates settled on.

// identity is who the gates say the client is: the program's AUTH_TYPE
// and REMOTE_USER, the AUTH_* variables an auth command added, and
// whether the Authorization header carried a password wsexec checked (the
// program then never sees it). The zero value is nobody in particular.
type identity struct {
	authType, user string
	extra          []string // NAME=value from --auth-command, each name once
	hidePassword   bool     // drop HTTP_AUTHORIZATION
}

// Values of AUTH_TYPE for the gates wsexec runs itself.
const (
	authTypeBasic = "Basic"
	// authTypeCert is the name Java servlets give a client certificate;
	// RFC 3875 leaves AUTH_TYPE open beyond HTTP's own schemes.
	authTypeCert = "CLIENT_CERT"
)

// authError is a gate's refusal: what the client is told (status, reason,
// headers), and what is logged beside it and not told (detail: which user,
// what the auth command said).
type authError struct {
	status int
	reason string
	detail string
	header textproto.MIMEHeader
}

func (e *authError) Error() string { return e.reason + ": " + e.detail }

// admit runs the gates every route shares, after checkRequest: the
// trusted proxy's headers, the client certificate and --basicauth. It
// leaves r as later gates see it (r.remoteAddr, r.Host, r.who), or returns
// a refusal.
func (s *Server) admit(r *request) error {
	if fullBuild {
		if err := s.proxies.forward(r); err != nil {
			return err
		}
	}
	if r.clientCert != "" {
		// Verified by TLS against --sslca: the subject, as in
		// SSL_CLIENT_S_DN (env.go).
		r.who = identity{authType: authTypeCert, user: r.clientCert}
	}
	if s.basic != nil {
		user, err := s.basic.check(r.Header)
		if err != nil {
			return err
		}
		r.who = identity{authType: authTypeBasic, user: user, hidePassword: true}
	}
	return nil
}

// DefaultRealm is the realm of --basicauth's challenge when none is given.
const DefaultRealm = "wsexec"

package server

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/procio"
)

// baseEnv holds the parts of a child's environment that are the same for
// every connection: the --passenv variables, read once at start-up.
type baseEnv struct {
	pass          []string        // KEY=value from the parent, in --passenv order
	passed        map[string]bool // the names in pass
	reverseLookup bool            // REMOTE_HOST from reverse DNS (Config.ReverseLookup)
	term          []string        // with Config.Pty: TERM, COLUMNS, LINES (withPty)
}

func newBaseEnv(names []string) baseEnv {
	var b baseEnv
	for _, name := range inheritable(names) {
		if v, ok := os.LookupEnv(name); ok {
			b.pass = append(b.pass, name+"="+v)
			if b.passed == nil {
				b.passed = make(map[string]bool)
			}
			b.passed[name] = true
		}
	}
	return b
}

// withPty returns b for programs whose stdout is a terminal of the given
// size (Config.Pty). They get COLUMNS and LINES saying that size, which
// programs read before asking the terminal (TIOCGWINSZ), so no --passenv
// variable may set them: both answers must agree. They get TERM=dumb, an
// honest name for a terminal that interprets nothing, unless --passenv
// passes TERM: the operator's choice then stands (a program that colours
// a terminal it knows sends its escape sequences to the client).
func (b baseEnv) withPty(size procio.WindowSize) baseEnv {
	var pass []string
	for _, kv := range b.pass {
		if name, _, _ := strings.Cut(kv, "="); name != "COLUMNS" && name != "LINES" {
			pass = append(pass, kv)
		}
	}
	b.pass = pass
	b.term = nil
	if !b.passed["TERM"] {
		b.term = append(b.term, "TERM=dumb")
	}
	b.term = append(b.term, "COLUMNS="+strconv.Itoa(int(size.Columns)), "LINES="+strconv.Itoa(int(size.Rows)))
	return b
}

// inheritable returns the --passenv names a program may take from the
// parent: valid names that are not among the variables the server sets.
func inheritable(names []string) []string {
	var out []string
	for _, name := range names {
		if validEnvName(name) && !cgiVars[name] {
			out = append(out, name)
		}
	}
	return out
}

// cgiVars are the names the server always sets. A --passenv variable of the
// same name is dropped so that the server's value is the only one.
var cgiVars = map[string]bool{
	"SERVER_SOFTWARE": true, "REMOTE_ADDR": true, "REMOTE_HOST": true,
	"REMOTE_PORT": true, "SERVER_NAME": true, "SERVER_PORT": true,
	"SERVER_PROTOCOL": true, "GATEWAY_INTERFACE": true, "REQUEST_METHOD": true,
	"SCRIPT_NAME": true, "PATH_INFO": true, "PATH_TRANSLATED": true,
	"QUERY_STRING": true, "REQUEST_URI": true, "UNIQUE_ID": true,
	"HTTPS": true, "AUTH_TYPE": true, "CONTENT_LENGTH": true,
	"CONTENT_TYPE": true, "REMOTE_IDENT": true, "REMOTE_USER": true,
	"SSL_CLIENT_S_DN":    true,
	"WEBSOCKET_PROTOCOL": true, // set in conn.serve when a subprotocol is answered
}

// envRequest is what the environment is built from for one connection.
type envRequest struct {
	r          *request
	id         string // UNIQUE_ID
	software   string // SERVER_SOFTWARE
	scriptName string
	pathInfo   string
	who        identity
}

// programEnv is the environment of the program a WebSocket connection
// runs, and of the auth command that decides whether it runs.
func (s *Server) programEnv(r *request, id string, ep *endpoint, res *handshake.Result, who identity) []string {
	env := s.env.build(envRequest{
		r:          r,
		id:         id,
		software:   s.software,
		scriptName: ep.scriptName,
		pathInfo:   ep.pathInfo,
		who:        who,
	})
	if res.Subprotocol != "" {
		env = append(env, "WEBSOCKET_PROTOCOL="+res.Subprotocol) // the answered subprotocol
	}
	return env
}

// build returns the child's environment in the manner of RFC 3875 and
// websocketd: the --passenv variables (and the terminal's, with a pty),
// then the CGI variables, then one HTTP_* variable per request header.
// Server-set names always win: a header becomes HTTP_<NAME> and so can
// never overwrite a CGI variable, a header whose variable a --passenv name
// already set is dropped (the operator's value stands), and a --passenv
// name that collides with a CGI variable is dropped. Every name appears
// once.
func (b baseEnv) build(q envRequest) []string {
	r := q.r
	who := q.who
	env := make([]string, 0, len(b.pass)+len(b.term)+24+len(who.extra)+len(r.Header))
	for _, kv := range b.pass {
		if name, _, _ := strings.Cut(kv, "="); !setBy(who.extra, name) {
			env = append(env, kv)
		}
	}
	env = append(env, b.term...)

	remoteAddr, remotePort, err := net.SplitHostPort(r.remoteAddr)
	if err != nil { // a Unix socket peer has no port
		remoteAddr, remotePort = r.remoteAddr, ""
	}
	// checkRequest has refused a malformed Host (request.go), so splitHost
	// cannot fail here; an IPv6 name comes without its brackets, with a
	// port or without.
	serverName, serverPort, _ := splitHost(r.Host)
	if serverPort == "" {
		// As websocketd: the port the client connected to, which a Host
		// without one means is the scheme's default, also behind a proxy
		// that listens there and forwards to another port.
		serverPort = defaultPort(requestScheme(r) == "https")
	}
	remoteHost := remoteAddr
	if fullBuild && b.reverseLookup { // the tiny build links no DNS resolver
		remoteHost = lookupHost(r, remoteAddr)
	}
	var e envBuf
	e.Grow(envBufSize)
	env = e.add(env, "SERVER_SOFTWARE", q.software)
	env = e.add(env, "REMOTE_ADDR", remoteAddr)
	env = e.add(env, "REMOTE_HOST", sanitizeValue(remoteHost))
	env = e.add(env, "REMOTE_PORT", remotePort)
	env = e.add(env, "SERVER_NAME", serverName)
	env = e.add(env, "SERVER_PORT", serverPort)
	env = e.add(env, "SERVER_PROTOCOL", r.Proto)
	env = append(env, "GATEWAY_INTERFACE=CGI/1.1")
	env = e.add(env, "REQUEST_METHOD", r.Method)
	env = e.add(env, "SCRIPT_NAME", sanitizeValue(q.scriptName))
	env = e.add(env, "PATH_INFO", sanitizeValue(q.pathInfo))
	env = e.add(env, "PATH_TRANSLATED", sanitizeValue(r.path)) // websocketd's value: the request's path
	env = e.add(env, "QUERY_STRING", sanitizeValue(r.query))
	env = e.add(env, "REQUEST_URI", sanitizeValue(r.Target))
	env = e.add(env, "UNIQUE_ID", q.id)
	env = e.add(env, "AUTH_TYPE", sanitizeValue(who.authType))
	env = append(env, "CONTENT_LENGTH=", "CONTENT_TYPE=", "REMOTE_IDENT=")
	env = e.add(env, "REMOTE_USER", sanitizeValue(who.user))
	env = append(env, who.extra...) // AUTH_* names: no CGI variable or header has one
	if requestScheme(r) == "https" {
		env = append(env, "HTTPS=on")
	}
	if r.clientCert != "" {
		// Mutual TLS: the verified client certificate's subject, in
		// Apache mod_ssl's name and RFC 2253 form.
		env = e.add(env, "SSL_CLIENT_S_DN", sanitizeValue(r.clientCert))
	}

	if r.Host != "" {
		env = e.add(env, "HTTP_HOST", sanitizeValue(r.Host))
	}
	for name, values := range r.Header {
		if !validHeaderEnvName(name) || who.hidePassword && strings.EqualFold(name, "Authorization") {
			continue
		}
		if len(b.passed) > 0 {
			if key, _ := headerEnvName(name); b.passed[key] {
				continue
			}
		}
		env = e.addHeader(env, name, values)
	}
	return env
}

// envBufSize is what envBuf starts with: the CGI variables of a request
// with a few headers fit, and a larger one grows it.
const envBufSize = 1 << 10

// envBuf makes the KEY=value strings of one environment as substrings of
// one buffer, so that building it costs an allocation or a few rather
// than one per variable, on the path of every connection
// (docs/benchmarks.md, "Where a connection's microseconds go"). A
// strings.Builder only appends, so a string taken from it stays valid as
// it grows.
type envBuf struct{ strings.Builder }

// add appends key=value to env.
func (e *envBuf) add(env []string, key, value string) []string {
	start := e.Len()
	e.WriteString(key)
	e.WriteByte('=')
	e.WriteString(value)
	return append(env, e.String()[start:])
}

// addHeader appends the variable of a request header to env: its name as
// headerEnvName makes it, its values joined as one header's (RFC 9110
// §5.3; RFC 6265 §5.4 for cookies, joined by "; "), as sanitizeValue
// cleans them. validHeaderEnvName has accepted name.
func (e *envBuf) addHeader(env []string, name string, values []string) []string {
	start := e.Len()
	e.WriteString("HTTP_")
	for i := 0; i < len(name); i++ {
		e.WriteByte(envNameByte(name[i]))
	}
	sep := ", "
	if e.String()[start:] == "HTTP_COOKIE" {
		sep = "; "
	}
	e.WriteByte('=')
	for i, v := range values {
		if i > 0 {
			e.WriteString(sep)
		}
		for j := 0; j < len(v); j++ {
			e.WriteByte(cleanByte(v[j]))
		}
	}
	return append(env, e.String()[start:])
}

// shared returns the environment of a program shared by every client of
// an endpoint (--broadcast): the --passenv variables and the CGI
// variables that are the same for every client. The others are per
// client, in its join event (events.go).
func (b baseEnv) shared(software, scriptName string) []string {
	env := make([]string, 0, len(b.pass)+3)
	env = append(env, b.pass...)
	return append(env,
		"SERVER_SOFTWARE="+software,
		"GATEWAY_INTERFACE=CGI/1.1",
		"SCRIPT_NAME="+sanitizeValue(scriptName),
	)
}

// setBy reports whether env, NAME=value pairs, sets name.
func setBy(env []string, name string) bool {
	for _, kv := range env {
		if n, _, _ := strings.Cut(kv, "="); n == name {
			return true
		}
	}
	return false
}

// lookupHost returns the first name a reverse DNS lookup of ip gives,
// with its final dot (as websocketd), or ip itself when there is none or the lookup
// takes longer than ReverseLookupTimeout.
func lookupHost(r *request, ip string) string {
	if net.ParseIP(ip) == nil {
		return ip
	}
	ctx, cancel := context.WithTimeout(r.ctx, ReverseLookupTimeout)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, ip)
	if err != nil || len(names) == 0 || names[0] == "" {
		return ip
	}
	return names[0] // with its final dot, as websocketd gives it
}

// headerEnvName maps a request header name to its CGI variable name
// (RFC 3875 §4.1.18), or reports false for a name validHeaderEnvName
// refuses.
func headerEnvName(name string) (string, bool) {
	if !validHeaderEnvName(name) {
		return "", false
	}
	b := make([]byte, 0, len("HTTP_")+len(name))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		b = append(b, envNameByte(name[i]))
	}
	return string(b), true
}

// envNameByte maps a byte of a header name that validHeaderEnvName accepts
// to its byte in the variable's name: upper case, '_' for '-'.
func envNameByte(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 'A'
	case c == '-':
		return '_'
	}
	return c // 'A'-'Z', '0'-'9'
}

// validHeaderEnvName reports whether a request header reaches a program's
// environment, without making its name (cgiRequest only asks). It refuses
// names that could be confused with another header or variable: anything
// but letters, digits and '-' (an '_' would let "X_Forwarded_For" pose as
// "X-Forwarded-For", which is why nginx drops such headers too), Host
// (HTTP_HOST comes from the request line) and Proxy (httpoxy: HTTP_PROXY
// would be read as a proxy setting by many programs).
func validHeaderEnvName(name string) bool {
	if name == "" || strings.EqualFold(name, "Proxy") || strings.EqualFold(name, "Host") {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}

// sanitizeValue replaces control characters (NUL, CR, LF and the rest of
// C0, and DEL) with spaces so that no value can end early or smuggle a line
// into programs that parse the environment as text. net/http already
// refuses most of these in headers; this covers the paths and query too.
func sanitizeValue(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if cleanByte(s[i]) != s[i] {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		b[i] = cleanByte(c)
	}
	return string(b)
}

// cleanByte is sanitizeValue's for one byte: a space for a control
// character other than tab.
func cleanByte(c byte) byte {
	if c < 0x20 && c != '\t' || c == 0x7f {
		return ' '
	}
	return c
}

// validEnvName reports whether name can be used as an environment variable
// name: a letter or '_' followed by letters, digits and '_'.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

package main

import (
	"time"

	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/server"
	"github.com/wsexec/wsexec/wsproto"
)

// The command line is described once, here, for both builds: the default
// build makes a urfave/cli flag of each spec (cli.go), with its help, man
// page and config file; the tiny build (-tags tiny, main_tiny.go) a
// flag.FlagSet entry of each spec it has. Both then read the values
// through flagValues, so the same code (main.go, listen_flags.go) turns
// them into a server.Config.

// What the program is, as --help and the man page say.
const (
	appName        = "wsexec"
	appUsage       = "serve a program as a WebSocket endpoint, one process per connection"
	appUsageText   = "wsexec [flags] COMMAND [ARGS...]\nwsexec [flags] --dir=DIR"
	appDescription = "Every client that connects gets its own COMMAND: each message it sends is a line " +
		"on the program's stdin, each line the program prints is a message back, and the " +
		"request's headers are in the program's environment (CGI/1.1 names, as websocketd).\n" +
		"A COMMAND given as one argument with spaces, such as \"python3 -u app.py\", is " +
		"split like a shell would (no expansion) unless a file of that exact name exists."
)

// flagKind is the type of a flag's value.
type flagKind int

const (
	boolFlag flagKind = iota
	intFlag
	int64Flag
	stringFlag
	stringsFlag // repeatable: each use adds one value (never split at commas: a header value may hold one)
)

// flagSpec is one flag.
type flagSpec struct {
	name    string
	aliases []string
	kind    flagKind
	cat     string // one of flagGroups
	value   any    // the default, of the kind's Go type (int, int64, string); nil: the zero value
	usage   string // the word in backquotes names the value (urfave/cli's convention)
	notTiny string // what the tiny build leaves out that the flag belongs to ("": the tiny build has it)
}

// The flag groups, by purpose. A flag's cat is one of these.
const (
	catListening = "Listening"
	catTLS       = "TLS"
	catRouting   = "What is served (routing)"
	catProgram   = "The program"
	catPolicy    = "Who may connect, and how"
	catLimits    = "Limits"
	catLogging   = "Logging"
	catOther     = "Other"
)

// flagGroups is the order --help and the man page show the groups in.
var flagGroups = []string{catListening, catTLS, catRouting, catProgram, catPolicy, catLimits, catLogging, catOther}

func knownGroup(cat string) bool {
	for _, g := range flagGroups {
		if g == cat {
			return true
		}
	}
	return false
}

// What the tiny build leaves out, one reason per group of flags: the
// tiny build's error for such a flag says "wsexec tiny leaves out" this,
// and its --help lists them.
const (
	tinyNoTLS       = "TLS"
	tinyNoFiles     = "static files and CGI"
	tinyNoConsole   = "the dev console"
	tinyNoConfig    = "the config file"
	tinyNoMetrics   = "metrics"
	tinyNoBroadcast = "broadcast"
	tinyNoAuth      = "basic auth and the auth command"
	tinyNoPty       = "the program's terminal"
	tinyNoProxies   = "trusted proxies"
	tinyNoPlainHTTP = "redirects and plain-HTTP headers"
	tinyNoDNS       = "the DNS resolver"
)

// flagSpecs are wsexec's flags, in the order --help lists them within a
// group. --help and --version are urfave/cli's own in the default build
// and the tiny build's own in that one, so they are not here.
var flagSpecs = []flagSpec{
	{name: "port", kind: intFlag, cat: catListening, value: 80, usage: "TCP `PORT` to listen on (0 picks a free one; the log says which)"},
	{name: "address", kind: stringsFlag, cat: catListening, usage: "interface `ADDRESS` to listen on, repeatable; IPv6 in brackets, e.g. [::1] (default: every interface)"},
	{name: "binary", kind: boolFlag, cat: catProgram, usage: "binary mode: the same as --framing=binary (websocketd's flag)"},
	{name: "framing", kind: stringFlag, cat: catProgram, value: "lines", usage: "how messages cross the program's pipes, `MODE`: lines (each message a line), binary (raw bytes, each stdout read a message), json (each message a JSON line {\"type\":\"text\"|\"binary\",\"data\":...} both ways) or length (each message a 9-byte header, type and length, then its bytes, both ways); json and length keep messages exact"},
	{name: "pty", kind: boolFlag, cat: catProgram, usage: "give the program a terminal for stdout (stdin and stderr stay pipes), so that it line-buffers: python3, awk, grep and C programs send each line as they print it. Raw (no \\r added, no echo), 80x24, TERM=dumb. Linux only", notTiny: tinyNoPty},
	{name: "closems", kind: intFlag, cat: catProgram, value: int(procio.DefaultCloseGrace / time.Millisecond), usage: "`MS` a program gets to exit by itself after its stdin closes, before SIGINT, SIGTERM, SIGKILL (0: signal at once)"},
	{name: "passenv", kind: stringFlag, cat: catProgram, value: "PATH,LD_LIBRARY_PATH", usage: "comma-separated `NAMES` of the parent's environment variables passed to the program"},
	{name: "maxforks", kind: intFlag, cat: catLimits, value: server.DefaultMaxForks, usage: "most programs running at once (`N`; 0: no limit); over it a new connection is refused, see --maxforks-mode"},
	{name: "maxframesize", kind: int64Flag, cat: catLimits, value: int64(wsproto.DefaultMaxMessageSize), usage: "largest incoming message in `BYTES` (0: no limit); a larger one closes the connection with 1009"},
	{name: "loglevel", kind: stringFlag, cat: catLogging, value: "access", usage: "log `LEVEL`: debug, trace, access, info, error, fatal or none"},
	{name: "logto", kind: stringFlag, cat: catLogging, value: "stdout", usage: "where the log goes: `WHERE` is stdout (as websocketd), stderr, or a file to append to (created if need be; ./stdout for a file of that name)"},
	{name: "devconsole", kind: boolFlag, cat: catRouting, usage: "serve a page at the endpoint's http:// URL to try it from a browser; with --dir, / and each directory list their scripts (not with --staticdir or --cgidir)", notTiny: tinyNoConsole},
	{name: "dir", kind: stringFlag, cat: catRouting, usage: "serve every executable under `DIR` as an endpoint at its path (/a/b.sh/x: script a/b.sh, PATH_INFO /x), instead of a COMMAND"},
	{name: "staticdir", kind: stringFlag, cat: catRouting, usage: "serve the files under `DIR` to plain HTTP requests, following symlinks that stay inside it (never dot-files, nor a program's files: the COMMAND, files its arguments name, scripts of --dir and --cgidir, their links and backups)", notTiny: tinyNoFiles},
	{name: "cgidir", kind: stringFlag, cat: catRouting, usage: "run the CGI/1.1 scripts under `DIR` for plain HTTP requests, at their paths", notTiny: tinyNoFiles},
	{name: "logformat", kind: stringFlag, cat: catLogging, value: "text", usage: "log `FORMAT`: text (logfmt, key=value) or json (one JSON object a line)"},
	{name: "metrics", kind: stringFlag, cat: catLogging, usage: "serve Prometheus metrics at http://`ADDR`/metrics, ADDR a host:port such as 127.0.0.1:9100 (plain HTTP: keep it on loopback or a private network)", notTiny: tinyNoMetrics},
	// Limits wsexec adds (websocketd has no flag for them).
	{name: "maxheadersize", kind: intFlag, cat: catLimits, value: server.DefaultMaxHeaderBytes, usage: "largest request header block in `BYTES`; a larger one gets 431"},
	{name: "headertimeoutms", kind: intFlag, cat: catLimits, value: int(server.DefaultReadHeaderTimeout / time.Millisecond), usage: "`MS` a client gets to send its request headers before the connection is dropped"},
	{name: "closetimeoutms", kind: intFlag, cat: catLimits, value: int(wsproto.DefaultCloseTimeout / time.Millisecond), usage: "`MS` to wait for a client's close frame (and for any control frame write) before dropping the connection"},
	// Listening, TLS, response headers and the config file (see listen_flags.go).
	{name: "unixsocket", kind: stringFlag, cat: catListening, aliases: []string{"uds"}, usage: "also listen on a Unix socket at `PATH`; without --port or --address it is the only listener. A stale socket file there is replaced, a live one is an error"},
	{name: "socketmode", kind: stringFlag, cat: catListening, usage: "permissions of the --unixsocket file, in octal `MODE` such as 0660 (default: as the umask leaves them)"},
	{name: "ssl", kind: boolFlag, cat: catTLS, usage: "serve TLS 1.2+ (wss://) with --sslcert and --sslkey; the default port becomes 443", notTiny: tinyNoTLS},
	{name: "sslcert", kind: stringFlag, cat: catTLS, usage: "certificate chain `FILE` (PEM) for --ssl", notTiny: tinyNoTLS},
	{name: "sslkey", kind: stringFlag, cat: catTLS, usage: "private key `FILE` (PEM) for --ssl", notTiny: tinyNoTLS},
	{name: "sslca", kind: stringFlag, cat: catTLS, usage: "CA certificates `FILE` (PEM): with --ssl every client must present a certificate one of them signed (mutual TLS)", notTiny: tinyNoTLS},
	{name: "redirport", kind: intFlag, cat: catListening, usage: "also listen on `PORT` with plain HTTP, redirecting every request to the endpoint's scheme and port, path and query kept", notTiny: tinyNoPlainHTTP},
	{name: "header", kind: stringsFlag, cat: catRouting, usage: "add the header `LINE` (\"Name: value\", a comma is part of the value) to every response, repeatable"},
	{name: "header-ws", kind: stringsFlag, cat: catRouting, usage: "add the header `LINE` to WebSocket upgrade (101) responses only, repeatable"},
	{name: "header-http", kind: stringsFlag, cat: catRouting, usage: "add the header `LINE` to plain HTTP responses only, repeatable", notTiny: tinyNoPlainHTTP},
	{name: "reverselookup", kind: boolFlag, cat: catProgram, usage: "REMOTE_HOST is the client's reverse DNS name (a lookup of at most 2 s per connection) instead of its address", notTiny: tinyNoDNS},
	{name: "license", kind: boolFlag, cat: catOther, usage: "print the license and exit"},
	{name: "config", kind: stringFlag, cat: catOther, usage: "read settings from `FILE` (.yaml, .yml or .toml; keys are flag names, another key is an error); the command line wins", notTiny: tinyNoConfig},
	// Policy: who may connect, and how connections are kept.
	{name: "origin", kind: stringsFlag, cat: catPolicy, usage: "allow only the origins in `LIST`, each [scheme://]host[:port] (no port: any port; *.host: its subdomains; null: file:// pages), comma-separated or repeated; others get 403. A request with no Origin (not a browser) is allowed"},
	{name: "anyorigin", kind: boolFlag, cat: catPolicy, usage: "allow every origin: the default, stated (websocketd's flag; not with --origin or --sameorigin)"},
	{name: "sameorigin", kind: boolFlag, cat: catPolicy, usage: "allow only an Origin naming the request's scheme (http, or https with --ssl) and Host (host and port); others get 403. Host is the client's word: this does not stop DNS rebinding, --origin does"},
	{name: "maxforks-mode", kind: stringFlag, cat: catLimits, value: "429", usage: "what a connection over --maxforks gets: `MODE` 429 (HTTP 429 before the upgrade) or 1013 (the upgrade, then close code 1013 try again later, which browser scripts can see)"},
	{name: "pingms", kind: intFlag, cat: catPolicy, usage: "ping each client every `MS` milliseconds and drop one that answers no ping for twice as long, stopping its program (0: no pings)"},
	{name: "passstderr", kind: boolFlag, cat: catProgram, usage: "send stdout and stderr lines to the client as JSON, {\"stream\":\"stdout\",\"data\":\"...\"} and {\"stream\":\"stderr\",...}; with --framing=json or length each message also has \"type\", binary data in base64 (not with --binary)"},
	{name: "subprotocol", kind: stringsFlag, cat: catPolicy, usage: "subprotocol `NAMES` the program speaks, in order of preference, comma-separated or repeated: the first the client offers is answered, a client offering only others gets 400 (default: answer the client's first offer); the program sees it in WEBSOCKET_PROTOCOL"},
	{name: "compression", kind: stringFlag, cat: catPolicy, value: "on", usage: "permessage-deflate `MODE`: on (context takeover, best ratio; an idle connection keeps about 41 KB), nocontext (each message compressed on its own; nothing kept when idle) or off"},
	// One program for every client (server/broadcast.go).
	{name: "broadcast", kind: boolFlag, cat: catProgram, usage: "run one COMMAND (with --dir: one per script) for every client instead of one each: every line it prints goes to every client, every client message is a line on its stdin; it starts with the first client and stops when the last leaves", notTiny: tinyNoBroadcast},
	{name: "broadcastqueue", kind: intFlag, cat: catProgram, value: server.DefaultBroadcastQueue, usage: "with --broadcast: most `BYTES` waiting to be sent to one client (one further behind is dropped with close code 1008) and waiting for the program's stdin (senders then wait); also the largest client message (1009)", notTiny: tinyNoBroadcast},
	{name: "broadcast-ids", kind: boolFlag, cat: catProgram, usage: "with --broadcast: each line a client sends reaches the program as \"ID message\"; a line the program prints as \"@ID text\" goes to that client alone (\"@* text\": to all)", notTiny: tinyNoBroadcast},
	{name: "broadcast-events", kind: boolFlag, cat: catProgram, usage: "with --broadcast: the program reads \"+ID NAME=VALUE ...\" when a client joins (its CGI variables, values %-escaped) and \"-ID\" when it leaves; implies --broadcast-ids", notTiny: tinyNoBroadcast},
	// Gates: who may connect (docs/security.md, "Authentication").
	{name: "basicauth", kind: stringFlag, cat: catPolicy, usage: "require HTTP Basic authentication on every request (WebSocket, dev console, static files, CGI) against the htpasswd `FILE` of bcrypt entries (htpasswd -B); others get 401. Read again on SIGHUP", notTiny: tinyNoAuth},
	{name: "basicauth-realm", kind: stringFlag, cat: catPolicy, usage: "the `REALM` --basicauth's 401 names, which browsers show when they ask for a password (default: " + server.DefaultRealm + ")", notTiny: tinyNoAuth},
	{name: "auth-command", kind: stringFlag, cat: catPolicy, usage: "run `CMD` before each WebSocket upgrade with the environment the program would get: exit 0 admits (stdout lines REMOTE_USER=..., AUTH_TYPE=..., AUTH_*=... reach the program), another exit refuses with 403, or 401 with each stdout line WWW-Authenticate: ... as a challenge", notTiny: tinyNoAuth},
	{name: "auth-timeoutms", kind: intFlag, cat: catPolicy, value: int(server.DefaultAuthTimeout / time.Millisecond), usage: "`MS` an --auth-command gets before it is killed and the client refused with 503", notTiny: tinyNoAuth},
	{name: "auth-maxforks", kind: intFlag, cat: catPolicy, value: server.DefaultAuthMaxForks, usage: "most --auth-command processes running at once (`N`; 0: no limit); over it a client gets 503 with Retry-After", notTiny: tinyNoAuth},
	{name: "trustedproxies", kind: stringsFlag, cat: catPolicy, usage: "take the client's address, scheme and host from X-Forwarded-For (or Forwarded), X-Forwarded-Proto and X-Forwarded-Host, only on connections from the proxies in `CIDRS` (10.0.0.0/8, 127.0.0.1, ...; comma-separated or repeated)", notTiny: tinyNoProxies},
}

// Package server serves a program as a WebSocket endpoint: it listens,
// checks each upgrade request (package handshake), starts one program per
// connection (package procio) with a CGI/1.1 environment, and relays between
// the socket (package wsproto) and the program's pipes.
//
// Requests come through net/http's server (web.go), which serves the
// plain-HTTP routes too; the tiny build (tag tiny, tiny.go) has no
// net/http and reads each request itself with handshake.ReadRequest. Both
// hand the request, as one type (request.go), to the same checks, gates
// and WebSocket path, and answer through a responder (respond.go).
//
// Every request is checked first (request.go): a target that is not a
// path, a malformed Host, a "." or ".." segment or an encoded slash in the
// path is refused with 400. Routing (route.go) then picks the program: one
// command for every path, or with Config.Dir the executable a path names
// under a directory, resolved at each request and confined to it. Plain
// HTTP requests can get the dev console, CGI/1.1 scripts (Config.CGIDir,
// net/http/cgi) or static files (Config.StaticDir, confined with os.Root);
// dot-files and a program's files (static.go) are never served as files.
//
// Each connection has two pumps. The read pump is the only reader of the
// socket and the only writer of the program's stdin; the write pump is the
// only reader of the program's stdout and the only writer of data frames
// (with PassStderr, stderr lines too, serialised with it by the tagger).
// Control frames (pong, close replies) go out through wsproto's write lock.
// Whichever pump ends first decides how the connection ends:
//
//   - the program's stdout ends (it exited): its last output is flushed,
//     then a close frame says how it ended (see closeFor), the client gets
//     the close timeout to answer, and anything left of the program's
//     process group is killed;
//   - the client closes, vanishes or breaks the protocol: nothing more is
//     written to it, and the program is stopped: stdin closed, CloseGrace to
//     exit by itself, then SIGINT, SIGTERM and SIGKILL to its process group;
//   - the server shuts down: close 1001 ("going away"), the close timeout
//     for the client's answer, then the program is stopped as above.
//
// Messages ready together leave together: the read pump gathers incoming
// messages in a batch written to stdin just before it next reads the
// socket, and the write pump flushes the socket only when stdout has
// nothing more ready. Once the handshake is done the relay runs in a
// goroutine of its own and the request's handler returns, so net/http keeps
// nothing for the connection; buffers are pooled and held only while data
// moves (docs/benchmarks.md).
//
// Back-pressure is end to end and memory is bounded: a client that does not
// read stalls the write pump, which stops reading stdout, which blocks the
// program; a program that does not read stdin stalls the read pump, which
// stops reading the socket. While that write is blocked, the read pump
// checks every second whether the client is still connected (peerGone), so
// a client that leaves never keeps a stalled program alive.
//
// Policy (policy.go) refuses origins outside Config.Origins or, with
// SameOrigin, foreign to the request's Host (403), answers the
// subprotocol, and refuses a client over MaxForks with 429 or close 1013.
// With PingInterval a keepalive (keepalive.go) pings each client and drops
// one that answers no ping for twice as long. PassStderr sends stdout and
// stderr lines as tagged JSON (passstderr.go).
//
// Run listens on TCP addresses, a Unix socket or both (listen.go): a stale
// socket file is replaced, a live one refused, and the file removed when
// the server stops. Or it serves listening sockets opened by someone else
// (Config.Sockets), such as those systemd hands over (Activated,
// activation.go). With Config.TLS every listener speaks TLS 1.2 or
// later, HTTP/1.1 only, optionally requiring client certificates
// (TLSConfig); with Config.CertFile and KeyFile the certificate is read
// from files, and read again by Reload (main calls it on SIGHUP), for new
// connections to get a renewed one. Run warns when the file descriptor
// limit cannot hold MaxForks connections (fdlimit.go). Config.RedirPort
// adds plain-HTTP listeners that only redirect to the endpoint. Extra
// response headers (Config.Header, HeaderWS, HeaderHTTP) are checked by
// ParseHeader's rules in New.
// Compression (permessage-deflate, RFC 7692) is negotiated in the handshake
// as Config.Compression says (compress.go) and done by wsproto; the pumps
// see plain messages either way.
//
// Only this package logs (log/slog). Each connection has an id from a
// counter, also given to the program as UNIQUE_ID. It also counts
// (metrics.go): connections, refusals by status, programs, messages and
// bytes, durations, served for Prometheus at Config.MetricsAddr; message
// counts are added once per batch, so that the relay takes no lock, atomic
// or allocation per message for them.
package server

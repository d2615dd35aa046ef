// Package handshake implements the server side of the WebSocket opening
// handshake of RFC 6455 §4: it checks an upgrade request, chooses a
// subprotocol and extensions, and either writes the 101 response on a
// connection taken over from net/http or describes a clear 4xx refusal.
//
// Sections implemented:
//
//   - §4.1 and §4.2.1: the client's request is checked by [Check]: GET,
//     HTTP/1.1 or later, Host, Upgrade containing the token websocket,
//     Connection containing the token upgrade (comma-separated lists in any
//     case, over repeated headers), Sec-WebSocket-Version 13 and exactly one
//     Sec-WebSocket-Key that is the base64 encoding of 16 bytes. A request
//     with a body is refused too: its bytes would be mistaken for frames.
//   - §4.2.2: the 101 response, with Sec-WebSocket-Accept computed as in
//     §1.3 ([AcceptKey]), is written by [Accept] and [WriteResponse]. A
//     refusal is an [*Error] carrying its status, reason and headers; its
//     WriteTo method writes it. A version other than 13 gets 426 with
//     Sec-WebSocket-Version: 13 (§4.4).
//   - §4.3 and §9.1: Sec-WebSocket-Protocol and Sec-WebSocket-Extensions
//     are parsed as RFC 7230 lists (empty elements ignored, quoted-string
//     parameter values unescaped); see [ParseExtensions] and
//     [FormatExtensions].
//
// Subprotocol choice: the server's preference wins. The first name of
// [Config.Subprotocols] that the client offered is chosen; with no
// configured list no subprotocol is ever answered, and a name the client
// did not offer is never answered.
//
// Extensions: the package parses the offers and leaves negotiation to the
// [Config.Extensions] hook; without a hook every extension is declined
// (simply not answered), which §9.1 allows.
//
// Left out: the client side of the handshake (§4.1 from the client's
// point of view, except [WriteResponse] and [AcceptKey], which tests and
// clients may use); versions other than 13 (§4.4 multi-version servers);
// the origin policy itself (§10.2), which the caller states through
// [Config.Origin] (a refusal is a 403), and limits and authentication,
// which belong to the caller. The handshake over HTTP/2
// (RFC 8441) is not supported: [Accept] needs a connection it can hijack.
package handshake

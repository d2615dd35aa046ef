// Package wsproto implements the WebSocket protocol after the opening
// handshake, RFC 6455 §5-8: frames, masking, messages, control frames and
// the closing handshake, for the server side of a connection (a client
// role exists for tests and benchmarks).
//
// The header codec (ReadHeader, AppendHeader) only encodes and decodes
// (§5.2); judging what is legal is the Conn's job, so the codec can be
// tested and fuzzed on its own. Mask applies the masking of §5.3 eight
// bytes at a time.
//
// A Conn reads messages whole (ReadMessage) or as a stream (NextReader),
// reassembling fragments (§5.4) and handling control frames between them
// (§5.5): pings are answered with pongs carrying the same payload, pongs
// go to Config.OnPong, a close frame is answered once and reported as a *CloseError. A text message's
// UTF-8 is checked as its bytes arrive, across fragments, so an invalid
// message fails at its first bad byte (§8.1); close reasons are checked
// too. Each violation sends a close frame and ends reading with a
// *CloseError whose code says why (§7.4.1):
//
//   - 1002: reserved bits not owned by an extension (RSV1 belongs to
//     permessage-deflate when negotiated, and only on a message's first
//     frame), DEFLATE data that does not inflate, reserved opcodes,
//     fragmented control frames or ones over 125 bytes, continuation
//     frames without a message or a new message inside one, a 64-bit
//     length with its top bit set, an unmasked frame in the server role or
//     a masked one in the client role (§5.1), a close body of 1 byte, a
//     close code not valid on the wire (§7.4).
//   - 1007: invalid UTF-8 in a text message or a close reason.
//   - 1009: a message over Config.MaxMessageSize, found from the frame
//     headers before its payload is read (a compressed one also as it
//     inflates). math.MaxInt64 is no limit: sizes counted against a limit
//     saturate there rather than wrap.
//
// Writes are buffered: WriteMessage, WriteFragment and NextWriter queue
// frames and Flush sends them, so many small messages ready together leave
// in one system call. Control frames (WritePing, WriteClose, and the
// reader's replies) flush at once, may fall between the fragments of a
// data message, and are bounded by Config.CloseTimeout. WriteClose also
// bounds the wait for the peer's close (§7.1.2-§7.1.4) with a read
// deadline; the owner closes the TCP connection afterwards (§7.1.1).
//
// Reading and writing allocate nothing per message in steady state.
//
// permessage-deflate (RFC 7692): NegotiateDeflate is the server's side of
// the negotiation (DeflateOffer and DeflateAnswer the client's; a server
// reads its own answer back with DeflateAnswer too), and a Conn given the
// agreed DeflateParams in Config.Deflate owns RSV1: it
// inflates messages whose first frame has it, streaming (the inflated size
// counts against MaxMessageSize as it grows, so a small message that
// inflates past it fails with 1009 without the rest being produced; data
// that does not inflate fails with 1002; inflated text that is not UTF-8
// with 1007), and compresses what it sends, with context takeover where
// agreed. RSV1 on a continuation or control frame is a 1002. Small
// messages go out uncompressed (DeflateConfig.Threshold). Compressors and
// decompressors are pooled; with context takeover the Conn keeps the
// peer's last 32 KiB between messages and its compressor, or with
// DeflateParams.History only while messages flow (then the last History
// bytes it sent); without context takeover it keeps nothing. It inflates
// any window. compress/flate always compresses with a 32 KiB window, so a
// window of its own agreed under 15 bits is honoured by compressing with
// Huffman codes alone, which refer back to nothing. docs/compression.md
// has the measurements.
//
// Left out: the opening handshake (§4, package handshake), dialing,
// subprotocols, sending keep-alive pings (the caller does, and sees pongs
// through Config.OnPong), and extensions other than
// permessage-deflate (§9). The Extension type holds negotiated parameters.
package wsproto

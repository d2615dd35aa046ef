package server

import (
	"fmt"
	"strings"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/wsproto"
)

// Compression is the server's permessage-deflate policy (RFC 7692). The zero
// value is CompressionOn. See docs/compression.md for the measurements
// behind the modes.
type Compression uint8

const (
	// CompressionOn accepts the first offer it can honour, with context
	// takeover both ways unless the client asks otherwise: the best ratio
	// on streams of similar lines. The server's compressor (about 0.85 MB
	// in compress/flate) is held only while messages flow; after a second
	// without one it goes back to a pool and the connection keeps the last
	// DeflateHistory bytes it sent, to prime the next compressor with.
	CompressionOn Compression = iota
	// CompressionOff declines every offer: no extension is answered.
	CompressionOff
	// CompressionNoContext answers server_no_context_takeover and
	// client_no_context_takeover, so an idle connection holds no
	// compression state at all: compressors and decompressors are pooled
	// and held only while a message passes; each message is compressed on
	// its own.
	CompressionNoContext
)

// DeflateHistory is how much of the text it sent an idle CompressionOn
// connection keeps in place of its compressor.
const DeflateHistory = 8 << 10

var compressionNames = []string{"on", "off", "nocontext"}

func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return fmt.Sprintf("Compression(%d)", c)
}

// ParseCompression reads a --compression value: on, off or nocontext.
func ParseCompression(s string) (Compression, error) {
	for i, name := range compressionNames {
		if strings.EqualFold(s, name) {
			return Compression(i), nil
		}
	}
	return 0, fmt.Errorf("want %s", strings.Join(compressionNames, ", "))
}

// deflateConfig is the wsproto policy for c.
func (c Compression) deflateConfig() wsproto.DeflateConfig {
	return wsproto.DeflateConfig{NoContextTakeover: c == CompressionNoContext, History: DeflateHistory}
}

// extensionsHook is the handshake's extension negotiation for c: at most
// one permessage-deflate answer, nothing else.
func extensionsHook(c Compression) func([]wsproto.Extension) ([]wsproto.Extension, error) {
	return func(offers []wsproto.Extension) ([]wsproto.Extension, error) {
		if c == CompressionOff {
			return nil, nil
		}
		if answer, ok := wsproto.NegotiateDeflate(offers, c.deflateConfig()); ok {
			return []wsproto.Extension{*answer}, nil
		}
		return nil, nil
	}
}

// deflateParams reads back the permessage-deflate answer the handshake
// sent, if any, for the connection's wsproto.Config.
func (c Compression) deflateParams(res *handshake.Result) *wsproto.DeflateParams {
	p, err := wsproto.DeflateAnswer(res.Extensions, c.deflateConfig())
	if err != nil {
		// The answer is extensionsHook's, from NegotiateDeflate, whose
		// every answer reads back (wsproto's TestNegotiateDeflate): an
		// error is a bug, and the connection must not go on with the
		// peer compressing and this side refusing RSV1.
		panic("server: own permessage-deflate answer unreadable: " + err.Error())
	}
	return p
}

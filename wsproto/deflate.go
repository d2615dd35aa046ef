package wsproto

import (
	"compress/flate"
	"fmt"
	"strconv"
)

// DeflateName is the extension token of permessage-deflate (RFC 7692 §7).
const DeflateName = "permessage-deflate"

// The parameters of permessage-deflate (RFC 7692 §7.1).
const (
	paramServerNoContext = "server_no_context_takeover"
	paramClientNoContext = "client_no_context_takeover"
	paramServerMaxWindow = "server_max_window_bits"
	paramClientMaxWindow = "client_max_window_bits"
)

// Defaults for a zero DeflateConfig.
const (
	// DefaultDeflateLevel is the compress/flate level used when
	// DeflateConfig.Level is 0 and this side keeps its context: level 6
	// halves the bytes on the wire of small JSON lines against level 1,
	// and its compressor is the smaller of the two (docs/compression.md).
	DefaultDeflateLevel = 6
	// DefaultDeflateLevelNoContext is the level used when Level is 0 and
	// this side resets its compressor after each message: then every level
	// compresses a small message about alike, and level 1 resets cheaply
	// where level 6 clears 640 KB of hash tables each time.
	DefaultDeflateLevelNoContext = flate.BestSpeed
	// DefaultDeflateThreshold: messages shorter than this many bytes are
	// sent uncompressed (RFC 7692 §6: compressing is per message and
	// optional), since the DEFLATE block overhead outweighs what a few
	// bytes can save.
	DefaultDeflateThreshold = 32
)

// DeflateConfig is this side's policy for permessage-deflate. Its zero value
// accepts any offer it can honour, with context takeover both ways where
// the client allows it.
type DeflateConfig struct {
	// NoContextTakeover answers every accepted offer with
	// server_no_context_takeover and client_no_context_takeover, so that
	// neither side keeps an LZ77 window between messages: the connection
	// then holds no compression state while idle (compressors and
	// decompressors come from a pool for the length of one message), at the
	// cost of a worse ratio on small, similar messages.
	NoContextTakeover bool
	// Level is the compress/flate level (1 to 9, or flate.HuffmanOnly); 0
	// means DefaultDeflateLevel, or DefaultDeflateLevelNoContext when this
	// side does not keep its context.
	Level int
	// Threshold: messages shorter than this are sent uncompressed; 0 means
	// DefaultDeflateThreshold, negative compresses every message.
	Threshold int
	// History, when this side keeps its context (no
	// server_no_context_takeover), lets its compressor go back to a pool
	// once no message has been sent for a second, keeping only the last
	// History bytes (at most 32 KiB) of the text it sent compressed; the
	// next message is compressed by a pooled compressor primed with them.
	// The peer's window holds those bytes, so the stream stays one context
	// takeover allows: an idle connection holds History bytes instead of
	// about 0.85 MB, and the first message after a pause costs the CPU of
	// compressing History bytes more. 0 keeps the compressor for the
	// Conn's life.
	History int
}

// DeflateParams are the agreed parameters of a permessage-deflate
// connection (RFC 7692 §7.1) plus this side's local choices. A Conn given
// them in Config.Deflate compresses and decompresses messages.
type DeflateParams struct {
	// ServerNoContextTakeover: the server resets its compressor after
	// every message (§7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor after
	// every message (§7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits and ClientMaxWindowBits are the LZ77 window
	// sizes agreed for each sender (§7.1.2), 8 to 15; 0 means none was
	// given, that is 15. A Conn decompresses its peer's with any window up
	// to 15 bits. Its own, below 15, it honours by compressing without
	// back-references at all (compress/flate's HuffmanOnly, whatever
	// Level says), since compress/flate cannot make its 32 KiB window
	// smaller: a worse ratio (docs/compression.md), never a reference
	// past the window.
	ServerMaxWindowBits int
	ClientMaxWindowBits int

	// Level, Threshold and History are local: see DeflateConfig.
	Level     int
	Threshold int
	History   int
}

// NegotiateDeflate is the server side of the negotiation (RFC 7692 §5, §7.1):
// it looks at the client's offers in order and accepts the first
// permessage-deflate offer it can honour exactly. It returns the answer to
// send and true; or false when no offer can be honoured (the handshake
// then goes on without the extension). The Conn's parameters are read back
// from the answer sent, with DeflateAnswer(answers, Server, cfg).
//
// An offer is declined if it has an unknown or repeated parameter, a value
// where none belongs, or a window size that is not 8 to 15 written plainly
// (§7.1). The answer holds only parameters this side will keep:
// server_no_context_takeover when the client asked for it or cfg wants it,
// client_no_context_takeover when the client offered it (then no window of
// the client's is kept) or cfg wants it (§7.1.1.2 lets a server ask it of
// any client), server_max_window_bits with the client's value when the
// client gave one (accepting it means echoing it or less, §7.1.2.1; a
// value below 15 makes this side compress without back-references, see
// DeflateParams). client_max_window_bits is never answered: leaving it
// out lets the client use the window it announced, and any window
// decompresses here.
func NegotiateDeflate(offers []Extension, cfg DeflateConfig) (*Extension, bool) {
	for _, offer := range offers {
		if offer.Name != DeflateName {
			continue
		}
		p, err := parseDeflateParams(offer.Params, false)
		if err != nil {
			continue
		}
		answer := &Extension{Name: DeflateName}
		if p.ServerNoContextTakeover || cfg.NoContextTakeover {
			answer.Params = append(answer.Params, ExtensionParam{Name: paramServerNoContext})
		}
		// The client's own client_no_context_takeover is a hint
		// (§7.1.1.2); answering it makes it binding, so that this side
		// need not keep the client's window, which it would not use.
		if p.ClientNoContextTakeover || cfg.NoContextTakeover {
			answer.Params = append(answer.Params, ExtensionParam{Name: paramClientNoContext})
		}
		if p.ServerMaxWindowBits != 0 {
			answer.Params = append(answer.Params, ExtensionParam{Name: paramServerMaxWindow, Value: strconv.Itoa(p.ServerMaxWindowBits)})
		}
		return answer, true
	}
	return nil, false
}

// DeflateOffer is the client's offer: permessage-deflate with
// client_max_window_bits (any window is fine for the server) and, with
// cfg.NoContextTakeover, both no_context_takeover parameters.
func DeflateOffer(cfg DeflateConfig) Extension {
	e := Extension{Name: DeflateName}
	if cfg.NoContextTakeover {
		e.Params = append(e.Params, ExtensionParam{Name: paramServerNoContext}, ExtensionParam{Name: paramClientNoContext})
	}
	e.Params = append(e.Params, ExtensionParam{Name: paramClientMaxWindow})
	return e
}

// DeflateAnswer finds permessage-deflate among the extensions a server
// answered and returns its parameters with cfg's local choices, or nil if
// it was not answered. It is the client side of the negotiation (RFC 7692
// §5, §7.1): an answer this side cannot honour is an error, and the client
// must then fail the connection. A server uses it too, on its own answer,
// to configure its Conn. Every window size is one this side can honour
// (DeflateParams), whichever role it has.
func DeflateAnswer(exts []Extension, cfg DeflateConfig) (*DeflateParams, error) {
	for _, e := range exts {
		if e.Name != DeflateName {
			continue
		}
		p, err := parseDeflateParams(e.Params, true)
		if err != nil {
			return nil, fmt.Errorf("%s answer: %w", DeflateName, err)
		}
		p.Level, p.Threshold, p.History = cfg.Level, cfg.Threshold, cfg.History
		return &p, nil
	}
	return nil, nil
}

// parseDeflateParams checks an offer's or an answer's parameters (RFC 7692
// §7.1): each known, given once, with a value only where one belongs.
// client_max_window_bits may come without a value in an offer only.
func parseDeflateParams(params []ExtensionParam, answer bool) (DeflateParams, error) {
	var p DeflateParams
	var seen [4]bool
	for _, ep := range params {
		var i int
		switch ep.Name {
		case paramServerNoContext:
			i = 0
			p.ServerNoContextTakeover = true
		case paramClientNoContext:
			i = 1
			p.ClientNoContextTakeover = true
		case paramServerMaxWindow:
			i = 2
			bits, ok := windowBits(ep.Value)
			if !ok {
				return p, fmt.Errorf("%s=%q: want 8 to 15", ep.Name, ep.Value)
			}
			p.ServerMaxWindowBits = bits
		case paramClientMaxWindow:
			i = 3
			if ep.Value == "" && !answer {
				p.ClientMaxWindowBits = 15 // §7.1.2.2: no value, the client supports the parameter
				break
			}
			bits, ok := windowBits(ep.Value)
			if !ok {
				return p, fmt.Errorf("%s=%q: want 8 to 15", ep.Name, ep.Value)
			}
			p.ClientMaxWindowBits = bits
		default:
			return p, fmt.Errorf("unknown parameter %s", ep.Name)
		}
		if seen[i] {
			return p, fmt.Errorf("%s given twice", ep.Name)
		}
		seen[i] = true
		if i < 2 && ep.Value != "" {
			return p, fmt.Errorf("%s takes no value", ep.Name)
		}
	}
	return p, nil
}

// windowBits parses a window size: a decimal 8 to 15 with no sign and no
// leading zero (RFC 7692 §7.1.2.1, §7.1.2.2).
func windowBits(s string) (int, bool) {
	if s == "" || s[0] == '0' || s[0] == '+' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 8 || n > 15 {
		return 0, false
	}
	return n, true
}

package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// Framing is how messages cross the program's pipes: each is one procio
// codec, and the relay does not know which. The zero value is
// FramingLines.
type Framing uint8

const (
	// FramingLines is websocketd's line mode: each message a line on
	// stdin, each stdout line a text message (procio.NewLineCodec).
	FramingLines Framing = iota
	// FramingBinary is websocketd's --binary: payloads raw on stdin, each
	// stdout read a binary message (procio.NewBinaryCodec).
	FramingBinary
	// FramingJSON carries exact messages as JSON objects,
	// {"type":"text"|"binary","data":...}, both ways (procio.NewJSONCodec).
	FramingJSON
	// FramingLength carries exact messages behind a 9-byte header, type
	// and length, both ways (procio.NewLengthCodec).
	FramingLength
)

var framingNames = [...]string{"lines", "binary", "json", "length"}

func (f Framing) String() string {
	if int(f) < len(framingNames) {
		return framingNames[f]
	}
	return fmt.Sprintf("Framing(%d)", uint8(f))
}

// ParseFraming reads a framing's name: lines, binary, json or length.
func ParseFraming(s string) (Framing, error) {
	for i, name := range framingNames {
		if strings.EqualFold(s, name) {
			return Framing(i), nil
		}
	}
	return 0, errors.New("want lines, binary, json or length")
}

// exact reports whether the framing carries messages exactly (types,
// boundaries, empty ones): such a framing can tell the program's output
// is broken, and --passstderr then tags each message with its type.
func (f Framing) exact() bool { return f == FramingJSON || f == FramingLength }

// codec returns the function making each connection's codec; max is the
// largest message the program may send.
func (f Framing) codec(max int64) func() procio.Codec {
	switch f {
	case FramingBinary:
		return func() procio.Codec { return procio.NewBinaryCodec(0) }
	case FramingJSON:
		return func() procio.Codec { return procio.NewJSONCodec(0, max) }
	case FramingLength:
		return func() procio.Codec { return procio.NewLengthCodec(0, max) }
	}
	return func() procio.Codec { return procio.NewLineCodec(0) }
}

// badOutput is the close frame for a program whose output broke its
// framing: 1011, with a reason that says what was wrong (wsproto cuts it
// to what a close frame holds).
func badOutput(fe *procio.FramingError) closeFrame {
	return closeFrame{code: wsproto.CloseInternalError, reason: "bad output: " + fe.Reason}
}

package wsproto

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Opcode is the 4-bit frame type of RFC 6455 §5.2 and §11.8.
type Opcode byte

// Opcodes defined by RFC 6455 §5.2. The others are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (RFC 6455 §5.5: the most
// significant bit of the opcode is set), reserved ones included.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// reserved reports whether op is one of the opcodes RFC 6455 §5.2 keeps for
// future use (0x3-0x7 and 0xB-0xF).
func (op Opcode) reserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the RFC name of op, or its value for a reserved opcode.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode(%#x)", byte(op))
}

// Header is a decoded frame header, RFC 6455 §5.2. Decoding does not judge
// legality: a reserved opcode, a reserved bit or an unmasked client frame
// decode fine, and the Conn decides what is allowed (see check in reader.go).
type Header struct {
	Fin    bool
	Rsv    byte // RSV1<<2 | RSV2<<1 | RSV3, so RSV1 == 4
	Op     Opcode
	Masked bool
	Mask   [4]byte
	// Length is the payload length. A 64-bit length with its most
	// significant bit set (forbidden by §5.2) decodes as a negative value.
	Length int64
}

// MaxHeaderSize is the largest encoded header: 2 bytes, an 8-byte extended
// length and a 4-byte masking key.
const MaxHeaderSize = 14

// Flag bits of the first two header bytes.
const (
	bitFin    = 0x80
	bitMasked = 0x80
	rsvShift  = 4
	rsvBits   = 0x70
	opBits    = 0x0f
	lenBits   = 0x7f
	len16     = 126 // 7-bit length value announcing a 16-bit length
	len64     = 127 // 7-bit length value announcing a 64-bit length
)

// headerSize reports the encoded header size announced by its second byte.
func headerSize(b1 byte) int {
	n := 2
	switch b1 & lenBits {
	case len16:
		n += 2
	case len64:
		n += 8
	}
	if b1&bitMasked != 0 {
		n += 4
	}
	return n
}

// ReadHeader reads one frame header from br. It returns io.EOF if br ended
// before the first byte, and io.ErrUnexpectedEOF if it ended inside the
// header. It does not allocate: the header is peeked in br's buffer (at
// least 16 bytes, more than MaxHeaderSize) and then discarded.
func ReadHeader(br *bufio.Reader) (Header, error) {
	b, err := br.Peek(2)
	if err != nil {
		if len(b) == 0 && err == io.EOF {
			return Header{}, io.EOF
		}
		return Header{}, noEOF(err)
	}
	n := headerSize(b[1])
	if b, err = br.Peek(n); err != nil {
		return Header{}, noEOF(err)
	}
	h := Header{
		Fin:    b[0]&bitFin != 0,
		Rsv:    (b[0] & rsvBits) >> rsvShift,
		Op:     Opcode(b[0] & opBits),
		Masked: b[1]&bitMasked != 0,
		Length: int64(b[1] & lenBits),
	}
	rest := b[2:]
	switch h.Length {
	case len16:
		h.Length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case len64:
		h.Length = int64(binary.BigEndian.Uint64(rest))
		rest = rest[8:]
	}
	if h.Masked {
		copy(h.Mask[:], rest)
	}
	_, err = br.Discard(n) // cannot fail: the n bytes are buffered
	return h, err
}

// noEOF turns an end of input inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendHeader appends the encoding of h to b, using the shortest length
// form as RFC 6455 §5.2 requires of senders, and returns the extended slice.
// The masking key is written only if h.Masked is set.
func AppendHeader(b []byte, h Header) []byte {
	b0 := byte(h.Op)&opBits | (h.Rsv<<rsvShift)&rsvBits
	if h.Fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.Masked {
		b1 = bitMasked
	}
	switch n := uint64(h.Length); {
	case n < len16:
		b = append(b, b0, b1|byte(n))
	case n <= 0xffff:
		b = append(b, b0, b1|len16)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, b1|len64)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	if h.Masked {
		b = append(b, h.Mask[:]...)
	}
	return b
}

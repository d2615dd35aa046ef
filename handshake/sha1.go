package handshake

import (
	"encoding/binary"
	"math/bits"
)

// The accept key is the one SHA-1 (FIPS 180-4 §6.1) a WebSocket server
// computes: of 60 bytes, once per connection, as a checksum of the
// protocol rather than for security (RFC 6455 §10.7 says it is not one).
// The package computes it itself because crypto/sha1 links Go's FIPS 140
// module (its DRBG, AES and SHA-3 self-tests), about 200 KB of the tiny
// build's binary for this one hash (docs/benchmarks.md, "The tiny build").
// TestSHA1 holds it to crypto/sha1.

// sha1Sum returns the SHA-1 digest of msg. Whole blocks are read from msg
// in place; the last one or two, with the padding, are built on the stack.
func sha1Sum(msg []byte) [20]byte {
	h := [5]uint32{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}
	n := len(msg)
	full := n / 64 * 64
	sha1Blocks(&h, msg[:full])
	// Padding (§5.1.1): a 1 bit, zeros, and the length in bits, to a
	// multiple of 64 bytes: one block, or two when fewer than 9 bytes of
	// the last one are free.
	var tail [128]byte
	rest := copy(tail[:], msg[full:])
	tail[rest] = 0x80
	end := 64
	if rest >= 56 {
		end = 128
	}
	binary.BigEndian.PutUint64(tail[end-8:end], uint64(n)*8)
	sha1Blocks(&h, tail[:end])
	var sum [20]byte
	for i, v := range h {
		binary.BigEndian.PutUint32(sum[4*i:], v)
	}
	return sum
}

// sha1Blocks runs SHA-1's compression over the 64-byte blocks of p.
func sha1Blocks(h *[5]uint32, p []byte) {
	var w [80]uint32
	for block := p; len(block) > 0; block = block[64:] {
		for i := range 16 {
			w[i] = binary.BigEndian.Uint32(block[4*i:])
		}
		for i := 16; i < 80; i++ {
			w[i] = bits.RotateLeft32(w[i-3]^w[i-8]^w[i-14]^w[i-16], 1)
		}
		a, b, c, d, e := h[0], h[1], h[2], h[3], h[4]
		for i := range 80 {
			var f, k uint32
			switch {
			case i < 20:
				f, k = b&c|^b&d, 0x5A827999
			case i < 40:
				f, k = b^c^d, 0x6ED9EBA1
			case i < 60:
				f, k = b&c|b&d|c&d, 0x8F1BBCDC
			default:
				f, k = b^c^d, 0xCA62C1D6
			}
			a, b, c, d, e = bits.RotateLeft32(a, 5)+f+e+k+w[i], a, bits.RotateLeft32(b, 30), c, d
		}
		h[0], h[1], h[2], h[3], h[4] = h[0]+a, h[1]+b, h[2]+c, h[3]+d, h[4]+e
	}
}

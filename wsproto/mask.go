package wsproto

import "encoding/binary"

// Mask XORs p in place with the masking key of RFC 6455 §5.3, starting at
// byte pos of the key (pos is taken modulo 4), and returns the key position
// of the byte after p. Masking a payload in pieces gives the same result as
// masking it whole when each call gets the position the previous returned.
// Masking twice with the same key and position restores p.
//
// It works eight bytes at a time: the key, rotated to pos, is repeated
// into a 64-bit word and XORed with 64-bit loads and stores.
func Mask(p []byte, key [4]byte, pos int) int {
	pos &= 3
	next := (pos + len(p)) & 3
	if pos != 0 {
		key = [4]byte{key[pos], key[(pos+1)&3], key[(pos+2)&3], key[(pos+3)&3]}
	}
	if len(p) >= 8 {
		k := uint64(binary.LittleEndian.Uint32(key[:]))
		k |= k << 32
		for len(p) >= 32 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
			binary.LittleEndian.PutUint64(p[8:], binary.LittleEndian.Uint64(p[8:])^k)
			binary.LittleEndian.PutUint64(p[16:], binary.LittleEndian.Uint64(p[16:])^k)
			binary.LittleEndian.PutUint64(p[24:], binary.LittleEndian.Uint64(p[24:])^k)
			p = p[32:]
		}
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
			p = p[8:]
		}
	}
	// Whole words kept the key aligned, so the tail starts at key[0].
	for i := range p {
		p[i] ^= key[i&3]
	}
	return next
}

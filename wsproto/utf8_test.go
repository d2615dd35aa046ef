package wsproto

import (
	"testing"
	"unicode/utf8"
)

// interesting are bytes at the edges of the UTF-8 ranges (RFC 3629 §4).
var interesting = []byte{
	0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
	0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
}

// extendable reports whether some bytes could follow p to make valid UTF-8.
func extendable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	cont := []byte{0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf}
	for _, a := range cont {
		if utf8.Valid(append(p[:len(p):len(p)], a)) {
			return true
		}
		for _, b := range cont {
			if utf8.Valid(append(p[:len(p):len(p)], a, b)) {
				return true
			}
			for _, c := range cont {
				if utf8.Valid(append(p[:len(p):len(p)], a, b, c)) {
					return true
				}
			}
		}
	}
	return false
}

// TestUTF8Validator feeds every string of up to three interesting bytes,
// and of four starting with a four-byte lead, in every split into two
// pieces: write must fail exactly when no continuation
// could make the bytes valid, and complete must agree with utf8.Valid.
func TestUTF8Validator(t *testing.T) {
	t.Parallel()
	var inputs [][]byte
	var grow func(p []byte)
	grow = func(p []byte) {
		inputs = append(inputs, p)
		if len(p) == 4 || len(p) == 3 && p[0] < 0xf0 {
			return
		}
		for _, b := range interesting {
			grow(append(p[:len(p):len(p)], b))
		}
	}
	grow(nil)
	memo := make(map[string]bool)
	extendable := func(p []byte) bool {
		ok, seen := memo[string(p)]
		if !seen {
			ok = extendable(p)
			memo[string(p)] = ok
		}
		return ok
	}
	for _, p := range inputs {
		for cut := 0; cut <= len(p); cut++ {
			var v utf8Validator
			ok := v.write(p[:cut])
			if want := extendable(p[:cut]); ok != want {
				t.Fatalf("%x: write of the first %d bytes = %v, want %v", p, cut, ok, want)
			}
			if !ok {
				continue
			}
			ok = v.write(p[cut:])
			if want := extendable(p); ok != want {
				t.Fatalf("%x cut at %d: write = %v, want %v", p, cut, ok, want)
			}
			if ok && v.complete() != utf8.Valid(p) {
				t.Fatalf("%x cut at %d: complete = %v, want %v", p, cut, v.complete(), utf8.Valid(p))
			}
		}
	}
}

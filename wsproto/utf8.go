package wsproto

import "unicode/utf8"

// utf8Validator checks a text message for valid UTF-8 (RFC 6455 §8.1) as its
// bytes arrive, in pieces that may split a character anywhere. It rejects a
// piece as soon as the bytes seen so far cannot start valid UTF-8, so a
// message is failed on its first bad byte rather than at its end.
//
// Between pieces it keeps only the first bytes of a character not yet
// complete: utf8.FullRune reports false exactly for a prefix that some
// continuation could still make valid.
type utf8Validator struct {
	pend [utf8.UTFMax]byte
	n    int // bytes in pend
}

// write validates p as the continuation of the bytes before it and reports
// whether they are still valid UTF-8 or a prefix of it.
func (v *utf8Validator) write(p []byte) bool {
	for v.n > 0 && len(p) > 0 {
		v.pend[v.n] = p[0]
		v.n++
		p = p[1:]
		if utf8.FullRune(v.pend[:v.n]) {
			// Complete or invalid; a valid rune of n > 1 bytes never
			// decodes with size 1.
			if _, size := utf8.DecodeRune(v.pend[:v.n]); size != v.n {
				return false
			}
			v.n = 0
		}
	}
	if len(p) == 0 {
		return true
	}
	// Keep back a trailing incomplete character: it starts at the last
	// rune-start byte among the final three.
	end := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				end = i
			}
			break
		}
	}
	if !utf8.Valid(p[:end]) {
		return false
	}
	v.n = copy(v.pend[:], p[end:])
	return true
}

// complete reports whether the bytes so far end on a character boundary.
func (v *utf8Validator) complete() bool { return v.n == 0 }

// reset forgets the bytes seen, for the next message.
func (v *utf8Validator) reset() { v.n = 0 }

package procio

import (
	"github.com/wsexec/wsexec/internal/bufpool"

	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// The json framing: each message, both ways, is one JSON object (RFC 8259)
// with two members, "type" ("text" or "binary") and "data" (the text, or
// the bytes in base64 with padding, RFC 4648 §4). To stdin each is one
// line, exactly
//
//	{"type":"text","data":"..."}
//	{"type":"binary","data":"..."}
//
// From stdout, objects may be spread over lines or share one, with any JSON
// whitespace around their tokens; "type" must come before "data", and no
// other member is allowed. The README has the full rules.
const (
	jsonTextPrefix   = `{"type":"text","data":"`
	jsonBinaryPrefix = `{"type":"binary","data":"`
	jsonSuffix       = "\"}\n"
)

// jsonSlack is how much longer than a read the payload decoded from it can
// be: a rune held back from the last read (3 bytes), and the bytes an
// escape or a base64 quad begun in the last read yields (at most 4, from
// at least 1 byte of this read).
const jsonSlack = 8

// jsonCodec is the json framing; see NewJSONCodec.
type jsonCodec struct {
	max int64
	in  *bufpool.Pool // WriteMessage's buffers, held for one message
	out idleBuf       // ReadMessages's read buffer, held while output is flowing
	dec idleBuf       // ReadMessages's decoded payload, size+jsonSlack bytes, released with out
	r   jsonReader
}

// NewJSONCodec returns the json framing: exact messages of any type and
// size, both ways, as JSON objects.
//
// To stdin, each message is streamed into its line as it is read (text
// escaped, binary base64-encoded), in one write when the line fits the
// buffer.
//
// From stdout, each message is streamed as it is parsed: "type" comes
// first, so the payload decoded from each read goes out as a fragment (a
// text one checked to be UTF-8, a rune cut by a read waiting for the
// next), and the last fragment goes when the object's '}' arrives. Output
// that is not such an object, a text payload that is not UTF-8 (a lone
// surrogate escape included), invalid base64, a payload over max bytes (0
// or less: no limit) and stdout ending inside an object are each a
// *FramingError; the message it is found in never gets its last fragment.
//
// bufSize 0 means DefaultBufferSize; it is kept within MinBufferSize and
// MaxBufferSize. Like the other codecs it takes pooled buffers and holds
// none while stdout is quiet between messages.
func NewJSONCodec(bufSize int, max int64) Codec {
	size := bufferSize(bufSize)
	c := &jsonCodec{
		max: noLimit(max),
		// Room for the prefix and some escapes however small the size.
		in:  bufpool.For(size + 64),
		out: idleBuf{pool: bufpool.For(size)},
		dec: idleBuf{pool: bufpool.For(size + jsonSlack)},
	}
	c.out.with = &c.dec // it holds nothing between reads
	return c
}

func (c *jsonCodec) WriteMessage(stdin io.Writer, msg Message) error {
	bp := c.in.Get()
	defer c.in.Put(bp)
	// The line is built in b[:split]; the payload is read into the rest.
	// Escaping makes at most 6 bytes of one, base64 4 of 3.
	b := *bp
	split := len(b) - len(b)/8
	line, src := b[:split], b[split:]
	w := 0
	if msg.Binary {
		w = copy(line, jsonBinaryPrefix)
	} else {
		w = copy(line, jsonTextPrefix)
	}
	var e base64Carry
	flush := func() error {
		if _, err := stdin.Write(line[:w]); err != nil {
			return fmt.Errorf("write stdin: %w", err)
		}
		w = 0
		return nil
	}
	for stalls := 0; ; {
		m, err := msg.Read(src)
		for p := src[:m]; len(p) > 0; {
			var used int
			if msg.Binary {
				w, used = e.encode(line, w, p)
			} else {
				w, used = escapeJSON(line, w, p)
			}
			if p = p[used:]; len(p) > 0 { // the line is full
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		if m > 0 {
			stalls = 0
		} else if stalls++; stalls == maxStalls {
			return fmt.Errorf("read message: %w", io.ErrNoProgress)
		}
	}
	if len(line)-w < 4+len(jsonSuffix) {
		if err := flush(); err != nil {
			return err
		}
	}
	w = e.finish(line, w)
	w += copy(line[w:], jsonSuffix)
	return flush()
}

// jsonPlain tells the bytes that stand for themselves in a JSON string:
// not '"', '\\' nor a control character (RFC 8259 §7).
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapeJSON writes into dst[w:] as much of p as fits, as the contents of
// a JSON string: '"', '\\' and control characters escaped, every other
// byte as it is. It returns the new w and how many bytes of p it took.
func escapeJSON(dst []byte, w int, p []byte) (int, int) {
	const hex = "0123456789abcdef"
	i := 0
	for i < len(p) {
		j := i
		for j < len(p) && jsonPlain[p[j]] {
			j++
		}
		k := copy(dst[w:], p[i:j])
		w += k
		i += k
		if i < j || i == len(p) {
			break
		}
		if len(dst)-w < 6 {
			break
		}
		switch c := p[i]; c {
		case '"', '\\':
			w += copy(dst[w:], []byte{'\\', c})
		case '\n':
			w += copy(dst[w:], `\n`)
		case '\r':
			w += copy(dst[w:], `\r`)
		case '\t':
			w += copy(dst[w:], `\t`)
		case '\b':
			w += copy(dst[w:], `\b`)
		case '\f':
			w += copy(dst[w:], `\f`)
		default:
			w += copy(dst[w:], []byte{'\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]})
		}
		i++
	}
	return w, i
}

// base64Carry encodes a payload in base64 as it comes, holding the bytes
// of an incomplete group of 3 between calls.
type base64Carry struct {
	b [3]byte
	n int
}

// encode writes into dst[w:] the base64 of as much of p as fits, in whole
// groups of 4 characters, and holds a final incomplete group of p. It
// returns the new w and how many bytes of p it took.
func (e *base64Carry) encode(dst []byte, w int, p []byte) (int, int) {
	i := 0
	if e.n > 0 {
		i = copy(e.b[e.n:], p)
		e.n += i
		if e.n < len(e.b) {
			return w, i
		}
		if len(dst)-w < 4 {
			e.n -= i // not taken after all
			return w, 0
		}
		base64.StdEncoding.Encode(dst[w:], e.b[:])
		w += 4
		e.n = 0
	}
	groups := min((len(p)-i)/3, (len(dst)-w)/4)
	base64.StdEncoding.Encode(dst[w:], p[i:i+3*groups])
	w += 4 * groups
	i += 3 * groups
	if len(p)-i < 3 {
		e.n = copy(e.b[:], p[i:])
		i = len(p)
	}
	return w, i
}

// finish writes the last, padded group, if any; dst[w:] has room for it.
func (e *base64Carry) finish(dst []byte, w int) int {
	if e.n == 0 {
		return w
	}
	base64.StdEncoding.Encode(dst[w:], e.b[:e.n])
	w += base64.StdEncoding.EncodedLen(e.n)
	e.n = 0
	return w
}

// jsonState is where the parser of stdout stands.
type jsonState uint8

const (
	jsBetween  jsonState = iota // between objects: whitespace or '{'
	jsFirstKey                  // after '{': a member's name
	jsNextKey                   // after ',': a member's name
	jsColon                     // after a name: ':'
	jsValue                     // after ':': a string
	jsAfter                     // after a value: ',' or '}'
	jsString                    // in a string
	jsEscape                    // in a string, after '\\'
	jsHex                       // in a string, in the 4 digits of \u
	jsLowSlash                  // after a high surrogate's \uXXXX: the '\\' of the low one
	jsLowU                      // and its 'u'
)

// What the string being read is, and what a name names.
const (
	strKey  = iota // a member's name
	strType        // the value of "type"
	strData        // the value of "data": the payload
)

// jsonReader is ReadMessages's parser state, kept across reads and calls.
type jsonReader struct {
	state    jsonState
	str      int     // in a string: strKey, strType or strData
	member   int     // after a name: strType or strData
	small    [8]byte // a name or the type, if it is that short
	sn       int     // its length so far, which may be more than fits
	hex      rune    // the digits of a \u escape so far
	hexN     int
	high     rune // a high surrogate waiting for its low half
	haveType bool
	haveData bool
	binary   bool
	quad     [4]byte // the base64 characters of an incomplete quad
	qn       int
	padded   bool    // a quad with '=' was decoded: nothing more may come
	carry    [3]byte // the incomplete rune ending the last text fragment
	cn       int
	size     int64 // payload bytes of the open message sent so far
	offset   int64 // bytes of stdout parsed before the current read
}

// inData reports whether the parser is in a message's "data" or past it.
func (r *jsonReader) inData() bool {
	return r.state >= jsString && r.str == strData || r.state == jsAfter && r.haveData
}

func (c *jsonCodec) ReadMessages(stdout Output, out Sink) error {
	buf := &c.out
	defer buf.release() // and c.dec
	r := &c.r
	pending := false // messages went to out since its last Flush
	ahead := false   // n and err are a read already made by readAhead
	var (
		b   []byte
		n   int
		err error
	)
	for stalls := 0; ; {
		if ahead {
			ahead = false
		} else {
			if b, n, err = buf.read(stdout, 0, r.state == jsBetween); err == ErrQuiet {
				return err
			}
		}
		sent, ferr := c.take(b[:n], out)
		pending = pending || sent
		if ferr == nil && err == io.EOF {
			if r.state == jsBetween {
				if pending {
					return out.Flush()
				}
				return nil
			}
			ferr = &FramingError{Offset: r.offset, Reason: "stdout ended inside a message"}
		}
		if done, err := afterTake(out, pending, n, ferr, err, &stalls); done {
			return err
		}
		if pending {
			// More output already waiting joins this flush.
			var read bool
			if n, read, err = stdout.readAhead(b); read {
				ahead = true
				continue
			}
			if err := out.Flush(); err != nil {
				return err
			}
			pending = false
		}
	}
}

// isSpace tells JSON's insignificant whitespace (RFC 8259 §2).
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// take parses p, one read of stdout, handing the messages it finishes,
// and the payload so far of one it leaves open, to out. It reports
// whether anything went to out. Errors are out's, as they are, or a
// *FramingError.
func (c *jsonCodec) take(p []byte, out Sink) (sent bool, err error) {
	r := &c.r
	var dst []byte // the open message's payload decoded from p, in c.dec
	if r.inData() {
		dst = append(c.dec.get()[:0], r.carry[:r.cn]...)
		r.cn = 0
	}
	bad := func(i int, reason string) error {
		return &FramingError{Offset: r.offset + int64(i), Reason: reason}
	}
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch r.state {
		case jsBetween:
			if ch == '{' {
				r.state = jsFirstKey
			} else if !isSpace(ch) {
				return sent, bad(i, fmt.Sprintf("%q where a message should begin: want '{'", ch))
			}
		case jsFirstKey, jsNextKey:
			switch {
			case ch == '"':
				r.state, r.str, r.sn = jsString, strKey, 0
			case ch == '}' && r.state == jsFirstKey:
				return sent, bad(i, `empty object: want "type" and "data"`)
			case !isSpace(ch):
				return sent, bad(i, fmt.Sprintf("%q where a member's name should begin", ch))
			}
		case jsColon:
			if ch == ':' {
				r.state = jsValue
			} else if !isSpace(ch) {
				return sent, bad(i, fmt.Sprintf("%q after a member's name: want ':'", ch))
			}
		case jsValue:
			switch {
			case ch == '"':
				r.state, r.str, r.sn = jsString, r.member, 0
				if r.member == strData {
					r.size, r.qn, r.padded = 0, 0, false
					dst = c.dec.get()[:0]
				}
			case !isSpace(ch):
				return sent, bad(i, fmt.Sprintf(`%q where a string should begin: "type" and "data" are strings`, ch))
			}
		case jsAfter:
			switch {
			case ch == '}' && !r.haveData:
				return sent, bad(i, `no "data" member`)
			case ch == '}':
				ok, err := c.send(dst, true, out, r.offset+int64(i))
				if err != nil {
					return sent, err
				}
				sent = sent || ok
				dst = nil
				r.state, r.haveType, r.haveData = jsBetween, false, false
			case ch == ',' && r.haveData:
				return sent, bad(i, `a member after "data": it must be the last`)
			case ch == ',':
				r.state = jsNextKey
			case !isSpace(ch):
				return sent, bad(i, fmt.Sprintf("%q after a member: want ',' or '}'", ch))
			}
		case jsString:
			if j := plainRun(p, i); j > i {
				// The bytes that stand for themselves, in one go.
				run := p[i:j]
				switch {
				case r.str != strData:
					r.putSmall(run)
				case r.binary:
					if dst, err = r.base64(dst, run); err != nil {
						return sent, bad(i, err.Error())
					}
				default:
					dst = append(dst, run...)
				}
				i = j - 1
				continue
			}
			switch {
			case ch == '"':
				if reason := r.endString(); reason != "" {
					return sent, bad(i, reason)
				}
			case ch == '\\':
				r.state = jsEscape
			default:
				return sent, bad(i, fmt.Sprintf("control character %q in a string: escape it", ch))
			}
		case jsEscape:
			u := rune(ch)
			switch ch {
			case '"', '\\', '/':
			case 'b':
				u = '\b'
			case 'f':
				u = '\f'
			case 'n':
				u = '\n'
			case 'r':
				u = '\r'
			case 't':
				u = '\t'
			case 'u':
				r.state, r.hex, r.hexN = jsHex, 0, 0
				continue
			default:
				return sent, bad(i, fmt.Sprintf(`invalid escape \%c`, ch))
			}
			r.state = jsString
			if dst, err = r.putRune(dst, u); err != nil {
				return sent, bad(i, err.Error())
			}
		case jsHex:
			d := unhex(ch)
			if d < 0 {
				return sent, bad(i, fmt.Sprintf(`%q in a \u escape: want a hex digit`, ch))
			}
			r.hex = r.hex<<4 | d
			if r.hexN++; r.hexN < 4 {
				continue
			}
			u := r.hex
			switch {
			case r.high != 0:
				if u < 0xDC00 || u > 0xDFFF {
					return sent, bad(i, loneSurrogate(r.high))
				}
				u = utf16.DecodeRune(r.high, u)
				r.high = 0
			case u >= 0xD800 && u < 0xDC00:
				r.high, r.state = u, jsLowSlash
				continue
			case u >= 0xDC00 && u <= 0xDFFF:
				return sent, bad(i, loneSurrogate(u))
			}
			r.state = jsString
			if dst, err = r.putRune(dst, u); err != nil {
				return sent, bad(i, err.Error())
			}
		case jsLowSlash:
			if ch != '\\' {
				return sent, bad(i, loneSurrogate(r.high))
			}
			r.state = jsLowU
		case jsLowU:
			if ch != 'u' {
				return sent, bad(i, loneSurrogate(r.high))
			}
			r.state, r.hex, r.hexN = jsHex, 0, 0
		}
	}
	r.offset += int64(len(p))
	if r.inData() {
		// The message goes on in the next read: send what is decoded.
		ok, err := c.send(dst, false, out, r.offset)
		if err != nil {
			return sent, err
		}
		sent = sent || ok
	}
	return sent, nil
}

// plainRun returns the end of the run of bytes from p[i] on that stand
// for themselves in a JSON string.
func plainRun(p []byte, i int) int {
	for i < len(p) && jsonPlain[p[i]] {
		i++
	}
	return i
}

func loneSurrogate(u rune) string {
	return fmt.Sprintf(`lone surrogate \u%04x: not a character`, u)
}

// unhex returns the value of a hex digit, or -1.
func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// putSmall adds p to a name or a type, keeping its length if it does not
// fit (no name or type that long is valid).
func (r *jsonReader) putSmall(p []byte) {
	if r.sn+len(p) <= len(r.small) {
		copy(r.small[r.sn:], p)
	}
	r.sn += len(p)
}

// smallBytes returns the name or type read, or nil if it was too long.
// (Compared as string(b) == "...", it costs no conversion.)
func (r *jsonReader) smallBytes() []byte {
	if r.sn > len(r.small) {
		return nil
	}
	return r.small[:r.sn]
}

// errBase64 is the fault in a binary message's data.
type errBase64 string

func (e errBase64) Error() string { return string(e) }

// putRune adds the character of an escape to the string being read.
func (r *jsonReader) putRune(dst []byte, u rune) ([]byte, error) {
	switch {
	case r.str != strData:
		var b [utf8.UTFMax]byte
		r.putSmall(b[:utf8.EncodeRune(b[:], u)])
		return dst, nil
	case r.binary:
		if u >= utf8.RuneSelf {
			return dst, errBase64("invalid base64 in data")
		}
		b := [1]byte{byte(u)}
		return r.base64(dst, b[:])
	}
	return utf8.AppendRune(dst, u), nil
}

// base64Char tells the characters of base64 (RFC 4648 §4), padding
// included.
var base64Char = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=" {
		t[c] = true
	}
	return t
}()

// base64 decodes s, base64 characters of a binary message's data, onto
// dst: whole quads at once, the rest one at a time through r.quad.
func (r *jsonReader) base64(dst, s []byte) ([]byte, error) {
	for len(s) > 0 {
		if r.padded {
			return dst, errBase64("data goes on after its base64 padding")
		}
		q := s
		if r.qn > 0 || len(s) < 4 {
			if !base64Char[s[0]] {
				return dst, errBase64("invalid base64 in data")
			}
			r.quad[r.qn] = s[0]
			s = s[1:]
			if r.qn++; r.qn < len(r.quad) {
				continue
			}
			r.qn = 0
			q = r.quad[:]
		} else {
			q, s = s[:len(s)&^3], s[len(s)&^3:]
		}
		// Decode skips '\r' and '\n', which are never here: they are
		// control characters in a JSON string, and not base64Char.
		dst = slices.Grow(dst, len(q)/4*3)
		n, err := base64.StdEncoding.Decode(dst[len(dst):len(dst)+len(q)/4*3], q)
		if err != nil {
			return dst, errBase64("invalid base64 in data")
		}
		dst = dst[:len(dst)+n]
		r.padded = q[len(q)-1] == '='
	}
	return dst, nil
}

// endString ends the string being read at its closing quote, and returns
// what is wrong with it, if anything.
func (r *jsonReader) endString() string {
	r.state = jsAfter
	switch r.str {
	case strKey:
		r.state = jsColon
		name := r.smallBytes()
		switch {
		case string(name) == "type" && r.haveType:
			return `"type" given twice`
		case string(name) == "type":
			r.member = strType
		case string(name) == "data" && !r.haveType:
			return `"data" before "type": the type must come first`
		case string(name) == "data":
			r.member = strData
		case name == nil:
			return `unknown member: want "type" and "data"`
		default:
			return fmt.Sprintf(`unknown member %q: want "type" and "data"`, name)
		}
	case strType:
		switch typ := r.smallBytes(); string(typ) {
		case "text", "binary":
			r.binary, r.haveType = string(typ) == "binary", true
		default:
			return fmt.Sprintf(`unknown type %q: want "text" or "binary"`, typ)
		}
	case strData:
		if r.qn != 0 {
			return "base64 in data not a multiple of 4 characters"
		}
		r.haveData = true
	}
	return ""
}

// send hands the decoded payload dst of the open message to out: all of it
// with fin, else what does not end in an incomplete rune, which it keeps
// for the next read. It checks a text payload's UTF-8 and the message's
// size; at is where in stdout it stands, for the error. It reports whether
// it wrote to out.
func (c *jsonCodec) send(dst []byte, fin bool, out Sink, at int64) (bool, error) {
	r := &c.r
	keep := 0
	if !r.binary {
		if !fin {
			keep = runeTail(dst)
		}
		if invalidAt(dst[:len(dst)-keep]) >= 0 {
			return false, &FramingError{Offset: at, Reason: "invalid UTF-8 in a text message"}
		}
	}
	p := dst[:len(dst)-keep]
	if r.size += int64(len(p)); r.size > c.max {
		return false, &FramingError{Offset: at, Reason: fmt.Sprintf("message over the limit of %d bytes", c.max)}
	}
	r.cn = copy(r.carry[:], dst[len(p):])
	if len(p) == 0 && !fin {
		return false, nil
	}
	return true, out.WriteFragment(r.binary, p, fin)
}

package handshake

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wsexec/wsexec/wsproto"
)

// ParseExtensions parses Sec-WebSocket-Extensions header values (pass
// r.Header.Values("Sec-WebSocket-Extensions")) into the offers they list,
// in order, across repeated headers. The grammar is RFC 6455 §9.1 over
// RFC 7230 lists:
//
//	extension = token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] )
//
// Empty list elements are ignored (RFC 7230 §7), so an empty header means
// no offer. Quoted values are unescaped. §9.1 asks that an unescaped value
// be a token; that is not enforced here, so that an odd parameter of an
// extension the server does not know is declined rather than fatal: the
// negotiation hook validates the values it uses. A parameter without a
// value and one with an empty quoted value both parse to Value "".
func ParseExtensions(values []string) ([]wsproto.Extension, error) {
	var exts []wsproto.Extension
	for _, v := range values {
		p := extParser{s: v}
		var err error
		if exts, err = p.parse(exts); err != nil {
			return nil, fmt.Errorf("Sec-WebSocket-Extensions %s: %w", quote(v), err)
		}
	}
	return exts, nil
}

// extParser reads one header value; i is the offset of the next byte.
type extParser struct {
	s string
	i int
}

// parse appends the extensions of p.s to exts.
func (p *extParser) parse(exts []wsproto.Extension) ([]wsproto.Extension, error) {
	for {
		p.skipSpace()
		if p.i == len(p.s) {
			return exts, nil
		}
		if p.s[p.i] == ',' {
			p.i++ // an empty list element
			continue
		}
		name := p.token()
		if name == "" {
			return nil, p.errorf("expected an extension name")
		}
		ext := wsproto.Extension{Name: name}
		p.skipSpace()
		for p.i < len(p.s) && p.s[p.i] == ';' {
			p.i++
			param, err := p.param()
			if err != nil {
				return nil, err
			}
			ext.Params = append(ext.Params, param)
			p.skipSpace()
		}
		exts = append(exts, ext)
		if p.i == len(p.s) {
			return exts, nil
		}
		if p.s[p.i] != ',' {
			return nil, p.errorf("unexpected %q after extension %s", p.s[p.i], name)
		}
		p.i++
	}
}

// param reads one extension parameter, after its ";".
func (p *extParser) param() (wsproto.ExtensionParam, error) {
	p.skipSpace()
	var param wsproto.ExtensionParam
	if param.Name = p.token(); param.Name == "" {
		return param, p.errorf("expected a parameter name")
	}
	p.skipSpace()
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return param, nil
	}
	p.i++
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var err error
		param.Value, err = p.quoted()
		return param, err
	}
	if param.Value = p.token(); param.Value == "" {
		return param, p.errorf("expected a value for parameter %s", param.Name)
	}
	return param, nil
}

// quoted reads an RFC 7230 §3.2.6 quoted-string, starting at its opening
// quote, and returns it unescaped.
func (p *extParser) quoted() (string, error) {
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 == len(p.s) || !isQuotable(p.s[p.i+1]) {
				return "", p.errorf("bad escape in quoted string")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case isQuotable(c):
			b.WriteByte(c)
			p.i++
		default:
			return "", p.errorf("control character in quoted string")
		}
	}
	p.i = start
	return "", p.errorf("unterminated quoted string")
}

// token reads a token, or returns "" if none starts at p.i.
func (p *extParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// skipSpace skips optional whitespace (RFC 7230 OWS).
func (p *extParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *extParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

// FormatExtensions formats exts as a Sec-WebSocket-Extensions value:
// extensions separated by ", ", parameters by "; ", and a value written as
// a token when it is one and as a quoted string otherwise. A parameter
// with an empty Value is written without one. It does not check its
// input; names that are not tokens or values holding control characters
// give a value ParseExtensions refuses (WriteResponse checks before it
// writes).
func FormatExtensions(exts []wsproto.Extension) string {
	var b strings.Builder
	for i, e := range exts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Name)
		for _, param := range e.Params {
			b.WriteString("; ")
			b.WriteString(param.Name)
			if param.Value == "" {
				continue
			}
			b.WriteByte('=')
			if IsToken(param.Value) {
				b.WriteString(param.Value)
				continue
			}
			b.WriteByte('"')
			for j := 0; j < len(param.Value); j++ {
				if c := param.Value[j]; c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(param.Value[j])
			}
			b.WriteByte('"')
		}
	}
	return b.String()
}

// checkExtension reports whether e can be formatted into a header that
// parses back to e.
func checkExtension(e wsproto.Extension) error {
	if !IsToken(e.Name) {
		return errors.New("extension name " + quote(e.Name) + " is not a token")
	}
	for _, param := range e.Params {
		if !IsToken(param.Name) {
			return errors.New("parameter name " + quote(param.Name) + " of " + e.Name + " is not a token")
		}
		if !quotable(param.Value) {
			return errors.New("value of parameter " + param.Name + " of " + e.Name + " holds a control character")
		}
	}
	return nil
}

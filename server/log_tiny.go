//go:build tiny

package server

import (
	"encoding"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The tiny build's logger writes the lines log/slog's text and JSON
// handlers write, for the values the server logs, without linking
// log/slog: slog's handlers share one value encoder that reaches
// encoding/json, and the two cost the tiny binary 0.3 MB
// (docs/benchmarks.md, "The tiny build"). TestLoggerMatchesSlog holds
// the two to the same bytes.

// Level is a log line's severity, numbered as slog's levels are.
type Level int

// The levels the server logs at.
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// String names l as slog does: DEBUG, INFO, WARN, ERROR, and a level
// between or beyond them by its distance from the one below, ERROR+4.
func (l Level) String() string {
	name, base := "ERROR", LevelError
	switch {
	case l < LevelInfo:
		name, base = "DEBUG", LevelDebug
	case l < LevelWarn:
		name, base = "INFO", LevelInfo
	case l < LevelError:
		name, base = "WARN", LevelWarn
	}
	if l == base {
		return name
	}
	if l > base {
		name += "+"
	}
	return name + strconv.Itoa(int(l-base))
}

// Logger writes one line per call, with the attributes of every With
// before it; it is safe for concurrent use.
type Logger struct {
	out   *logOut
	attrs []byte // the With attributes, formatted, each with its separator
}

// logOut is where a Logger and the Loggers With makes from it write.
type logOut struct {
	mu    sync.Mutex
	w     io.Writer // nil: discard
	json  bool
	level Level
}

// NewLogger writes the lines at level and above to w, as slog's text
// handler does, or as its JSON handler does when json is set.
func NewLogger(w io.Writer, json bool, level Level) *Logger {
	return &Logger{out: &logOut{w: w, json: json, level: level}}
}

// discardLogger logs nothing.
func discardLogger() *Logger { return &Logger{out: &logOut{}} }

// With returns a Logger that adds args, key-value pairs as the logging
// methods take them, to every line.
func (l *Logger) With(args ...any) *Logger {
	if l.out.w == nil || len(args) == 0 {
		return l
	}
	attrs := make([]byte, len(l.attrs), len(l.attrs)+16*len(args))
	copy(attrs, l.attrs)
	return &Logger{out: l.out, attrs: l.out.appendArgs(attrs, args)}
}

// Debug logs msg and args, key-value pairs, at LevelDebug.
func (l *Logger) Debug(msg string, args ...any) { l.log(LevelDebug, msg, args) }

// Info logs msg and args at LevelInfo.
func (l *Logger) Info(msg string, args ...any) { l.log(LevelInfo, msg, args) }

// Warn logs msg and args at LevelWarn.
func (l *Logger) Warn(msg string, args ...any) { l.log(LevelWarn, msg, args) }

// Error logs msg and args at LevelError.
func (l *Logger) Error(msg string, args ...any) { l.log(LevelError, msg, args) }

func (l *Logger) log(level Level, msg string, args []any) {
	o := l.out
	if o.w == nil || level < o.level {
		return
	}
	now := time.Now()
	b := make([]byte, 0, 128+len(l.attrs))
	if o.json {
		b = append(b, `{"time":"`...)
		b = now.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":"`...)
		b = append(b, level.String()...)
		b = append(b, `","msg":`...)
		b = appendJSONQuote(b, msg)
	} else {
		b = append(b, "time="...)
		b = now.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, " level="...)
		b = append(b, level.String()...)
		b = append(b, " msg="...)
		b = appendTextString(b, msg)
	}
	b = append(b, l.attrs...)
	b = o.appendArgs(b, args)
	if o.json {
		b = append(b, '}')
	}
	b = append(b, '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Write(b)
}

// appendArgs appends args, alternating keys and values, each pair with
// the separator before it. As with slog, a key that is not a string is
// logged under !BADKEY, and so is a last key without a value.
func (o *logOut) appendArgs(b []byte, args []any) []byte {
	for len(args) > 0 {
		key, ok := args[0].(string)
		var v any
		switch {
		case !ok:
			key, v, args = "!BADKEY", args[0], args[1:]
		case len(args) == 1:
			key, v, args = "!BADKEY", key, nil
		default:
			v, args = args[1], args[2:]
		}
		if o.json {
			b = append(b, ',')
			b = appendJSONQuote(b, key)
			b = append(b, ':')
			b = appendJSONValue(b, v)
		} else {
			b = append(b, ' ')
			b = appendTextString(b, key)
			b = append(b, '=')
			b = appendTextValue(b, v)
		}
	}
	return b
}

// appendPlain appends v if it is a bool or an integer of a built-in
// type, which both formats write the same way, and reports whether it
// was. (An integer of a named type is its String in text, a number in
// JSON.)
func appendPlain(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	}
	return b, false
}

// appendTextValue appends v as slog's text handler writes it.
func appendTextValue(b []byte, v any) []byte {
	if b, ok := appendPlain(b, v); ok {
		return b
	}
	switch v := v.(type) {
	case string:
		return appendTextString(b, v)
	case time.Duration:
		return append(b, v.String()...)
	case encoding.TextMarshaler:
		if t, err := v.MarshalText(); err == nil {
			return appendTextString(b, string(t))
		}
	}
	return appendTextString(b, fmt.Sprintf("%+v", v))
}

// appendJSONValue appends v as slog's JSON handler writes it. Of the
// values slog hands to encoding/json, the server logs only string
// slices, integers of named types and text marshalers; any other is
// written as a string of its text.
func appendJSONValue(b []byte, v any) []byte {
	if b, ok := appendPlain(b, v); ok {
		return b
	}
	switch v := v.(type) {
	case string:
		return appendJSONQuote(b, v)
	case time.Duration:
		return strconv.AppendInt(b, int64(v), 10)
	case error:
		return appendJSONQuote(b, v.Error())
	case []string:
		if v == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONQuote(b, s)
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	case encoding.TextMarshaler:
		if t, err := v.MarshalText(); err == nil {
			return appendJSONQuote(b, string(t))
		}
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10)
	}
	return appendJSONQuote(b, fmt.Sprintf("%+v", v))
}

// appendTextString appends s, quoted when it would not read back as one
// value of a key=value line: empty, or with a space, '=', '"', a control
// character or a rune that is not printable or not valid UTF-8.
func appendTextString(b []byte, s string) []byte {
	if textNeedsQuotes(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func textNeedsQuotes(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += n
	}
	return false
}

// appendJSONQuote appends s as a JSON string, escaped as slog escapes
// one (passstderr.go's appendJSONString).
func appendJSONQuote(b []byte, s string) []byte {
	b = appendJSONString(append(b, '"'), []byte(s))
	return append(b, '"')
}

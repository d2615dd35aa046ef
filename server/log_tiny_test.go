//go:build tiny

package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// logCall is one logging call: the With arguments before it, its level,
// message and arguments.
type logCall struct {
	with  [][]any
	level Level
	msg   string
	args  []any
}

type plainCode int // a named integer without a String method

// logCalls are the kinds of values, keys and messages the server logs,
// and the characters that decide quoting and escaping in either format.
var logCalls = []logCall{
	{level: LevelInfo, msg: "listening", args: []any{"addr", "127.0.0.1:8080", "url", "ws://localhost:8080/", "command", []string{"cat"}}},
	{level: LevelInfo, msg: "shutting down", args: []any{"connections", int64(3)}},
	{with: [][]any{{"conn", uint64(7), "remote", "[::1]:5000"}, {"pid", 4242}},
		level: LevelInfo, msg: "disconnect", args: []any{"code", wsproto.CloseNormal, "reason", "", "status", 0, "duration", 1500 * time.Millisecond}},
	{level: LevelWarn, msg: "refused", args: []any{"code", wsproto.CloseTryAgainLater, "err", errors.New("too many: 3 of 3")}},
	{level: LevelError, msg: "panic", args: []any{"in", "request", "stack", "goroutine 1 [running]:\n\tmain.go:1 +0x1d\n"}},
	{level: LevelDebug, msg: "stdout", args: []any{"err", fmt.Errorf("read |0: %w", errors.New("file already closed"))}},
	{level: LevelInfo, msg: "refused", args: []any{"status", 403, "reason", "origin not allowed", "detail", "https://evil.example"}},
	{level: LevelInfo, msg: "stderr", args: []any{"line", `say "hi" a=b back\slash`}},
	{level: LevelInfo, msg: "values", args: []any{"t", true, "f", false, "named", plainCode(-9), "ip", netip.MustParseAddr("::1"), "nilslice", []string(nil), "argv", []string{"sh", "-c", "echo a b"}, "none", nil}},
	{level: LevelInfo, msg: "out of file descriptors", args: []any{"limit", uint64(1024), "open", 1020}},
	{level: LevelInfo, msg: "characters", args: []any{
		"empty", "", "space", "a b", "tab", "a\tb", "nl", "a\nb", "cr", "a\rb", "nul", "a\x00b", "esc", "\x1b[0m", "del", "a\x7fb",
		"html", "<a href=x>&amp;</a>", "latin", "naïve façade", "nbsp", "a\u00a0b", "zwsp", "a\u200bb", "ls", "a\u2028b", "ps", "a\u2029b",
		"bad", "a\xffb", "cut", "\xe2\x82", "emoji", "🙂", "eq=", "=", "quote", `"`, "hash", "#x", "a key", "v", "ключ", "значение",
	}},
	{level: LevelInfo, msg: "a=b \"c\"", args: []any{"", "empty key"}},
	{level: LevelInfo, msg: "bad keys", args: []any{1, "x", "lonely"}},
	{with: [][]any{{"user", "ann"}}, level: LevelWarn + 1, msg: "between levels"},
	{level: LevelError + 4, msg: "fatal"},
	{level: LevelDebug - 2, msg: "below debug"},
}

// stripTime removes the time of a line, checking it reads as the format
// has it, and returns the rest.
func stripTime(t *testing.T, line string, json bool) string {
	t.Helper()
	prefix, end, layout := "time=", " ", "2006-01-02T15:04:05.000Z07:00"
	if json {
		prefix, end, layout = `{"time":"`, `",`, time.RFC3339Nano
	}
	rest, ok := strings.CutPrefix(line, prefix)
	ts, rest, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("no time in %q", line)
	}
	at, err := time.Parse(layout, ts)
	if err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Minute {
		t.Fatalf("time %q of %q: %v", ts, line, err)
	}
	return rest
}

// TestLoggerMatchesSlog holds the tiny build's logger to the lines
// log/slog's text and JSON handlers write for the same calls, byte for
// byte but for the time, which each takes when it logs.
func TestLoggerMatchesSlog(t *testing.T) {
	for _, json := range []bool{false, true} {
		for _, c := range logCalls {
			var got, want bytes.Buffer
			var l *Logger
			var sl *slog.Logger
			if json {
				l, sl = NewLogger(&got, true, LevelDebug), slog.New(slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug}))
			} else {
				l, sl = NewLogger(&got, false, LevelDebug), slog.New(slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			for _, w := range c.with {
				l, sl = l.With(w...), sl.With(w...)
			}
			logAt(l, c.level, c.msg, c.args)
			sl.Log(t.Context(), slog.Level(c.level), c.msg, c.args...)
			if got.Len() == 0 && want.Len() == 0 {
				continue // below LevelDebug: neither logs it
			}
			g, w := stripTime(t, got.String(), json), stripTime(t, want.String(), json)
			if g != w {
				t.Errorf("json=%v %q:\n got %s\nwant %s", json, c.msg, g, w)
			}
		}
	}
}

// logAt calls l's method for level, or its log for a level between them.
func logAt(l *Logger, level Level, msg string, args []any) {
	switch level {
	case LevelDebug:
		l.Debug(msg, args...)
	case LevelInfo:
		l.Info(msg, args...)
	case LevelWarn:
		l.Warn(msg, args...)
	case LevelError:
		l.Error(msg, args...)
	default:
		l.log(level, msg, args)
	}
}

func TestLevelString(t *testing.T) {
	for l := Level(-12); l <= 16; l++ {
		if got, want := l.String(), slog.Level(l).String(); got != want {
			t.Errorf("Level(%d) = %q, slog says %q", int(l), got, want)
		}
	}
}

func TestLoggerLevel(t *testing.T) {
	var b bytes.Buffer
	l := NewLogger(&b, false, LevelWarn).With("conn", 1)
	l.Debug("no")
	l.Info("no")
	l.Warn("yes")
	l.Error("yes")
	if got := strings.Count(b.String(), "msg=yes conn=1\n"); got != 2 || strings.Contains(b.String(), "msg=no") {
		t.Errorf("at LevelWarn:\n%s", b.String())
	}
	d := discardLogger().With("pid", 1)
	d.Error("nothing") // and no panic: discardLogger has no writer
}

// TestLoggerLines has many goroutines log at once through Loggers that
// share one writer: every line must come out whole.
func TestLoggerLines(t *testing.T) {
	var b bytes.Buffer
	root := NewLogger(&b, true, LevelInfo)
	const writers, lines = 8, 200
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := root.With("writer", i)
			for j := range lines {
				l.Info("line", "n", j, "pad", strings.Repeat("x", 100))
			}
		}()
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	for _, line := range got {
		if !strings.HasPrefix(line, `{"time":"`) || !strings.HasSuffix(line, `"}`) || strings.Count(line, `"msg":"line"`) != 1 {
			t.Fatalf("torn line %q", line)
		}
	}
}

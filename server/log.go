//go:build !tiny

package server

import (
	"io"
	"log/slog"
)

// Logger is what the server logs through: log/slog's Logger in the
// default build, so that a program embedding the server can hand it any
// slog handler. The tiny build has a Logger of its own (log_tiny.go) that
// writes the same lines without linking log/slog.
type Logger = slog.Logger

// Level is a log line's severity (slog's levels).
type Level = slog.Level

// The levels the server logs at.
const (
	LevelDebug = slog.LevelDebug
	LevelInfo  = slog.LevelInfo
	LevelWarn  = slog.LevelWarn
	LevelError = slog.LevelError
)

// NewLogger writes the lines at level and above to w, as slog's text
// handler does, or as its JSON handler does when json is set.
func NewLogger(w io.Writer, json bool, level Level) *Logger {
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// discardLogger logs nothing.
func discardLogger() *Logger { return slog.New(slog.DiscardHandler) }

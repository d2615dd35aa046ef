package server

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"testing"
)

func TestFDsNeeded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxForks int
		want     uint64
	}{
		{"none", 0, fdsSpare},
		{"negative", -1, fdsSpare},
		{"default", DefaultMaxForks, DefaultMaxForks*fdsPerConnection + fdsSpare},
		{"no limit from the CLI", math.MaxInt32, math.MaxInt32*fdsPerConnection + fdsSpare},
		{"largest int saturates", math.MaxInt, math.MaxUint64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fdsNeeded(tc.maxForks); got != tc.want {
				t.Fatalf("fdsNeeded(%d) = %d, want %d", tc.maxForks, got, tc.want)
			}
		})
	}
}

// TestCheckFileLimit runs the check against this process's own limit: no
// limit holds math.MaxInt connections, and every one holds a single one.
func TestCheckFileLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxForks int
		warn     bool
	}{
		{"one connection", 1, false},
		{"more than any limit", math.MaxInt, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			s := &Server{cfg: Config{MaxForks: tc.maxForks}, log: slog.New(slog.NewTextHandler(&log, nil))}
			s.checkFileLimit()
			if got := strings.Contains(log.String(), "file descriptor limit too low"); got != tc.warn {
				t.Fatalf("warned %v, want %v; log:\n%s", got, tc.warn, log.String())
			}
		})
	}
}

package server

import (
	"bytes"
	"math"
	"os"
	"runtime"
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
			s := &Server{cfg: Config{MaxForks: tc.maxForks}, log: NewLogger(&log, false, LevelInfo)}
			s.checkFileLimit()
			if got := strings.Contains(log.String(), "file descriptor limit too low"); got != tc.warn {
				t.Fatalf("warned %v, want %v; log:\n%s", got, tc.warn, log.String())
			}
		})
	}
}

// TestOpenFiles: the count of open descriptors agrees with /proc/self/fd
// as os.ReadDir lists it (which holds one more, its own), also past one
// read of the directory. Other tests' goroutines may open or close
// descriptors between the two counts: they need agree only once in a few
// tries.
func TestOpenFiles(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("descriptors are counted on Linux only")
	}
	agreed := func() int {
		t.Helper()
		var got, want int
		for range 10 {
			ents, err := os.ReadDir("/proc/self/fd")
			if err != nil {
				t.Fatal(err)
			}
			got, want = openFiles(), len(ents)-1
			if got == want {
				return got
			}
		}
		t.Fatalf("openFiles() = %d, /proc/self/fd lists %d", got, want)
		return 0
	}
	agreed()
	const extra = 500 // more than one 8 KiB read of the directory (24 bytes an entry)
	for range extra {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	if n := agreed(); n < extra {
		t.Fatalf("openFiles() = %d with %d more open", n, extra)
	}
}

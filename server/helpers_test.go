package server

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination that the test reads while the server
// writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count is how many connections f tracks.
func (f *freshConns) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// running is a Server that Run serves for a test, on 127.0.0.1.
type running struct {
	*Server
	addr string        // where it listens
	log  *lockedBuffer // its log, when the Config had no Logger
	stop func() error  // ends Run and returns its error (once; cleanup calls it too)
}

// startRun serves cfg with Run (on 127.0.0.1:0 unless cfg says where)
// until the test ends or stop is called, once it has logged where it
// listens.
func startRun(tb testing.TB, cfg Config) *running {
	tb.Helper()
	r := &running{log: &lockedBuffer{}}
	if cfg.Logger == nil {
		cfg.Logger = NewLogger(r.log, false, LevelInfo)
	}
	if len(cfg.Addresses) == 0 && cfg.UnixSocket == "" && len(cfg.Sockets) == 0 {
		cfg.Addresses = []string{"127.0.0.1:0"}
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r.Server = s
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() { cancel(); runErr = <-ran })
		return runErr
	}
	tb.Cleanup(func() {
		if err := r.stop(); err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for r.addr == "" && time.Now().Before(deadline) {
		if _, rest, ok := strings.Cut(r.log.String(), "msg=listening addr="); ok {
			r.addr, _, _ = strings.Cut(rest, " ")
		} else {
			runtime.Gosched()
		}
	}
	if r.addr == "" {
		tb.Fatalf("no listening line:\n%s", r.log.String())
	}
	return r
}

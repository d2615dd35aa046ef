package procio

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// procioGoroutines returns the stacks of goroutines in a Process method.
func procioGoroutines() []string {
	var found []string
	for _, g := range goroutineStacks() {
		if strings.Contains(g, "procio.(*Process)") {
			found = append(found, g)
		}
	}
	return found
}

// TestQuietProgramsHoldNoGoroutine: while programs run but are quiet, no
// goroutine waits for their exit or their stderr (the watcher does), no
// stderr buffer is held, and stderr written in bursts still arrives whole
// and in order.
func TestQuietProgramsHoldNoGoroutine(t *testing.T) {
	if sharedWatcher() == nil {
		t.Skip("no epoll watcher on this system")
	}
	const n, rounds = 16, 3
	var mu sync.Mutex
	got := make([][]string, n)
	var ps []*Process
	for i := range n {
		cfg := helper("errecho")
		cfg.Stderr = func(line []byte) {
			mu.Lock()
			got[i] = append(got[i], string(line))
			mu.Unlock()
		}
		ps = append(ps, start(t, cfg))
	}
	received := func(k int) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range got {
			if len(g) < k {
				return false
			}
		}
		return true
	}
	for r := range rounds {
		for i, p := range ps {
			if _, err := fmt.Fprintf(p.Stdin(), "round %d of %d\n", r, i); err != nil {
				t.Fatal(err)
			}
		}
		if !eventually(10*time.Second, func() bool { return received(r + 1) }) {
			t.Fatalf("round %d: stderr lines missing: %q", r, got)
		}
		var busy []string
		if !eventually(5*time.Second, func() bool { busy = procioGoroutines(); return len(busy) == 0 }) {
			t.Fatalf("round %d: %d goroutines wait for %d quiet programs:\n%s", r, len(busy), n, strings.Join(busy, "\n\n"))
		}
		// A reader gives its buffer back before it arms the watch, and the
		// watcher starts the next one after finding its function: both
		// hold the watcher's mu, which orders them with this look.
		w := sharedWatcher()
		w.mu.Lock()
		for i, p := range ps {
			if p.errBuf.bp != nil {
				w.mu.Unlock()
				t.Fatalf("round %d: program %d's quiet stderr holds a buffer", r, i)
			}
		}
		w.mu.Unlock()
	}
	for _, p := range ps {
		p.Stdin().Close() // all at once: a race-enabled helper takes a second to exit
	}
	for i, p := range ps {
		if !p.Wait().Success() {
			t.Fatalf("program %d: %v", i, p.Wait())
		}
		p.Stop()
		want := []string{fmt.Sprintf("round 0 of %d", i), fmt.Sprintf("round 1 of %d", i), fmt.Sprintf("round 2 of %d", i)}
		if !slices.Equal(got[i], want) {
			t.Fatalf("program %d: stderr %q, want %q", i, got[i], want)
		}
	}
}

// TestNotifyStdout: a reader that got ErrQuiet is started again by
// NotifyStdout when output comes, and at EOF (echo exits when Stop closes
// its stdin).
func TestNotifyStdout(t *testing.T) {
	if sharedWatcher() == nil {
		t.Skip("no epoll watcher on this system")
	}
	cfg := helper("echo")
	cfg.Quiet = 20 * time.Millisecond
	p := start(t, cfg)
	codec := NewLineCodec(0)
	sink := &recordSink{}
	if err := codec.ReadMessages(p.Stdout(), sink); err != ErrQuiet {
		t.Fatalf("ReadMessages of a quiet program: %v, want ErrQuiet", err)
	}
	woke := make(chan struct{}, 1)
	notify := func() { woke <- struct{}{} }
	if !p.NotifyStdout(notify) {
		t.Fatal("NotifyStdout refused")
	}
	select {
	case <-woke:
		t.Fatal("notified before any output")
	case <-time.After(50 * time.Millisecond): // a notification now would be wrong
	}
	if _, err := p.Stdin().Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification for output")
	}
	if err := codec.ReadMessages(p.Stdout(), sink); err != ErrQuiet || !slices.Equal(sink.msgs, []string{"hello"}) {
		t.Fatalf("after the notification: %v, messages %q", err, sink.msgs)
	}
	if !p.NotifyStdout(notify) {
		t.Fatal("NotifyStdout refused the second time")
	}
	stopped := make(chan struct{})
	go func() { p.Stop(); close(stopped) }()
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification when the program was stopped")
	}
	if err := codec.ReadMessages(p.Stdout(), sink); err != nil {
		t.Fatalf("after the stop: %v, want EOF (nil)", err)
	}
	<-stopped
	if p.NotifyStdout(notify) {
		t.Fatal("NotifyStdout armed on a closed stdout")
	}
}

// TestNotifyStdoutOnClose: a NotifyStdout armed on a stdout held open by
// something outside the program's group, after the program exited, is
// started when Stop makes procio close stdout, and the reader then reads
// EOF.
func TestNotifyStdoutOnClose(t *testing.T) {
	t.Parallel()
	if sharedWatcher() == nil {
		t.Skip("no epoll watcher on this system")
	}
	cfg := helper("detach")
	cfg.Quiet = 20 * time.Millisecond
	cfg.KillGrace = time.Minute // only Stop closes stdout
	p := start(t, cfg)
	codec := NewLineCodec(0)
	sink := &recordSink{}
	for i := 0; len(sink.msgs) == 0; i++ { // the quiet before the helper is up may come first
		if err := codec.ReadMessages(p.Stdout(), sink); err != ErrQuiet || i == 500 {
			t.Fatalf("ReadMessages %d: %v, messages %q; want ErrQuiet after the pid", i, err, sink.msgs)
		}
	}
	if len(sink.msgs) != 1 {
		t.Fatalf("messages %q, want the pid alone", sink.msgs)
	}
	pid := killDetached(t, sink.msgs[0])
	within(t, 10*time.Second, p.Done(), "Done")
	woke := make(chan struct{}, 1)
	if !p.NotifyStdout(func() { woke <- struct{}{} }) {
		t.Fatal("NotifyStdout refused")
	}
	select {
	case <-woke:
		t.Fatal("notified before Stop")
	case <-time.After(50 * time.Millisecond): // a notification now would be wrong
	}
	stopped := make(chan struct{})
	go func() { p.Stop(); close(stopped) }()
	within(t, 10*time.Second, woke, "notification when Stop closed stdout")
	if err := codec.ReadMessages(p.Stdout(), sink); err != nil {
		t.Fatalf("after the stop: %v, want EOF (nil)", err)
	}
	within(t, 10*time.Second, stopped, "Stop")
	if gone(pid) {
		t.Errorf("detached process %d gone: it, not procio, may have ended stdout", pid)
	}
}

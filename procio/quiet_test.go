package procio

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// deadlineSink records, at each message, the quiet deadline armed on the
// stdout pipe. It runs on the codec's goroutine, the only one that sets it.
type deadlineSink struct {
	recordSink
	pipe      *stdoutPipe
	deadlines []time.Time
	echoed    chan struct{}
}

func (s *deadlineSink) WriteFragment(binary bool, p []byte, fin bool) error {
	s.deadlines = append(s.deadlines, s.pipe.deadline)
	return s.recordSink.WriteFragment(binary, p, fin)
}

func (s *deadlineSink) Flush() error {
	s.echoed <- struct{}{}
	return s.recordSink.Flush()
}

// quietEcho starts the echo helper with the given quiet period and a line
// codec reading its stdout into a deadlineSink; ReadMessages's result comes
// on done.
func quietEcho(t *testing.T, quiet time.Duration) (p *Process, sink *deadlineSink, done <-chan error) {
	cfg := helper("echo")
	cfg.Quiet = quiet
	p = start(t, cfg)
	sink = &deadlineSink{pipe: p.stdout, echoed: make(chan struct{}, 1)}
	result := make(chan error, 1)
	go func() { result <- NewLineCodec(0).ReadMessages(p.Stdout(), sink) }()
	return p, sink, result
}

// TestQuietDeadlineArmedOnce: a conversation within the quiet period arms
// the stdout read deadline once, not for each message.
func TestQuietDeadlineArmedOnce(t *testing.T) {
	t.Parallel()
	p, sink, done := quietEcho(t, time.Minute)
	const n = 20
	for i := range n {
		if _, err := fmt.Fprintf(p.Stdin(), "message %d\n", i); err != nil {
			t.Fatal(err)
		}
		within(t, 10*time.Second, sink.echoed, "an echo")
	}
	p.Stdin().Close()
	if err := within(t, 10*time.Second, done, "ReadMessages"); err != nil {
		t.Fatalf("ReadMessages: %v", err)
	}
	if len(sink.msgs) != n {
		t.Fatalf("%d messages, want %d", len(sink.msgs), n)
	}
	first := sink.deadlines[0]
	if first.IsZero() {
		t.Fatal("no quiet deadline was armed while waiting for output")
	}
	for i, d := range sink.deadlines {
		if !d.Equal(first) {
			t.Fatalf("message %d: deadline %v, want the first one, %v, still armed", i, d, first)
		}
	}
}

// TestQuietCountsFromLastOutput: a deadline armed before output came is
// moved on when it fires, so ErrQuiet comes a whole quiet period after the
// last output, not a quiet period after the wait first began.
func TestQuietCountsFromLastOutput(t *testing.T) {
	t.Parallel()
	const quiet = time.Second
	p, sink, done := quietEcho(t, quiet)
	var last time.Time
	for i := range 2 {
		if i > 0 {
			// Well inside the first message's quiet period, which the
			// armed deadline still ends.
			time.Sleep(quiet * 6 / 10)
		}
		last = time.Now() // the output comes after this
		if _, err := fmt.Fprintf(p.Stdin(), "message %d\n", i); err != nil {
			t.Fatal(err)
		}
		within(t, 10*time.Second, sink.echoed, "an echo")
	}
	err := within(t, 10*time.Second, done, "ReadMessages")
	if since := time.Since(last); err != ErrQuiet || since < quiet {
		t.Fatalf("ReadMessages returned %v %v after the last message; want ErrQuiet after at least %v", err, since, quiet)
	}
	if !slices.Equal(sink.msgs, []string{"message 0", "message 1"}) {
		t.Fatalf("messages %q", sink.msgs)
	}
}

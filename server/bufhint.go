package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsexec/wsexec/procio"
)

// bufferHintAfter is how long a program may go without output after a
// message reached it before bufferHint speaks: long enough for a slow
// answer, short enough that the hint comes while someone is still
// wondering.
const bufferHintAfter = 2 * time.Second

// bufferHint logs, once per connection, that a program which was given a
// message and wrote nothing for bufferHintAfter may be holding its output
// in a block buffer, and names the cures: the C library, Python and most
// tools buffer a pipe by the 4 KiB or more, and their user sees nothing,
// with no hint why. It is not made with --pty, which is the cure.
//
// It costs the pumps an atomic load each: the read pump tells it of each
// message (fed), which starts a wait unless one is under way; the write
// pump of each output flush (wrote), which clears the wait's flag; one
// timer, made at the first wait and reused, looks at the flag at the end
// of the wait. Once it has logged, or the program is stopped, it never
// arms again.
type bufferHint struct {
	log *Logger
	pid int

	armed   atomic.Bool // a wait is under way, or the hint is done: fed does nothing
	waiting atomic.Bool // a message went in since the wait began, and no output came out

	mu    sync.Mutex // orders arming, the check and stop
	timer *time.Timer
	done  bool
}

// fed is the read pump's, after it delivered a message.
func (h *bufferHint) fed() {
	if h.armed.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done || h.armed.Load() {
		return
	}
	h.waiting.Store(true)
	h.armed.Store(true)
	if h.timer == nil {
		h.timer = time.AfterFunc(bufferHintAfter, h.check)
	} else {
		h.timer.Reset(bufferHintAfter)
	}
}

// wrote is the write pump's, at each flush of output.
func (h *bufferHint) wrote() {
	if h.waiting.Load() {
		h.waiting.Store(false)
	}
}

// check ends a wait: the hint if nothing came out, else a new wait may
// start with the next message.
func (h *bufferHint) check() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	if h.waiting.Load() {
		h.done = true // armed stays set: fed never locks again
		h.log.Info("no output since input", "pid", h.pid, "after", bufferHintAfter,
			"hint", "the program's stdout may be block-buffered: try --pty, python3 -u, or stdbuf -oL")
		return
	}
	h.armed.Store(false)
}

// stop ends the hint for good, before the program's end is logged.
func (h *bufferHint) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	h.armed.Store(true)
	if h.timer != nil {
		h.timer.Stop()
	}
}

// hintSink is the program's output with each flush told to a bufferHint.
type hintSink struct {
	procio.Sink
	h *bufferHint
}

func (s hintSink) Flush() error {
	s.h.wrote()
	return s.Sink.Flush()
}

package procio

import (
	"os"
	"sync"
	"sync/atomic"
)

// fdWatch is one pipe's watch in the shared watcher (stdout's for
// NotifyStdout, stderr's for its reader), armed again each time it has
// fired, and the pipe's closing: closing cancels the watch before the
// descriptor goes, and the watch is never armed after that, so the watcher
// never holds a descriptor number that may have been reused. Without a
// watcher it only closes.
type fdWatch struct {
	fd     int         // the pipe's descriptor, set before the first arm
	mu     sync.Mutex  // orders arming with closing
	tok    uint64      // the watch's token, 0 until it is first armed
	closed atomic.Bool // close has begun; read without mu by the pipe's reader
}

// arm arranges for fn to run, in a goroutine of its own, once the pipe is
// readable (or at EOF). The first arm adds the descriptor to the watcher,
// later ones arm it again once it has fired. It reports false when the
// pipe is closed, there is no watcher, or epoll refuses; fn will not run
// then.
func (fw *fdWatch) arm(fn func()) bool {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed.Load() {
		return false
	}
	w := sharedWatcher()
	if w == nil {
		return false
	}
	if fw.tok != 0 {
		return w.rearm(fw.fd, fw.tok, fn) == nil
	}
	fw.tok = w.token() // before the watch: fn may run at once, and ask watched
	if w.watch(fw.fd, fw.tok, fn) != nil {
		fw.tok = 0
		return false
	}
	return true
}

// watched reports whether the watch was ever armed. It is for the function
// the watch runs, and for code that runs only after a first arm that
// failed: the token is only written by that first arm.
func (fw *fdWatch) watched() bool { return fw.tok != 0 }

// close closes f, the pipe, once: it cancels the watch first. It returns
// the function that was armed and now will not run (the caller decides
// whether it must run anyway), or nil when none was: the watch has fired,
// was never armed, or close was called before.
func (fw *fdWatch) close(f *os.File) (armed func()) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed.Swap(true) {
		return nil
	}
	if fw.tok != 0 {
		armed = sharedWatcher().cancel(fw.fd, fw.tok) // not nil: it gave the token
	}
	f.Close()
	return armed
}

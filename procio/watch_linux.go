package procio

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// watcher runs a function once a descriptor becomes readable, with one
// goroutine for all the descriptors it watches: an epoll set of its own,
// which the runtime's poller watches in turn. It is for what rarely happens
// while a program runs: its exit (a pidfd), output on its stderr, and
// output on a stdout whose reader went quiet (NotifyStdout). A quiet
// program then costs no goroutine waiting for any of them, where a
// goroutine each would be three stacks per connection.
//
// Watches are one-shot (EPOLLONESHOT): a watch fires once, its function
// runs in a goroutine of its own, and the descriptor is watched again only
// through rearm. Each watch has a token; the epoll entry carries the token,
// never the descriptor number, so an event for a descriptor closed and
// reused meanwhile finds no function and is dropped.
type watcher struct {
	ep *os.File // the epoll descriptor, non-blocking, in the runtime's poller
	fd int      // ep's, open for as long as the process lives
	rc syscall.RawConn

	mu   sync.Mutex
	last uint64
	fns  map[uint64]func() // armed watches
}

var (
	watcherMu  sync.Mutex              // held while starting the watcher
	theWatcher atomic.Pointer[watcher] // set once, on the first success
)

// sharedWatcher returns the process's watcher, starting it the first time;
// nil if epoll is not available (then callers wait in goroutines). A
// failure is not remembered: it may be passing (EMFILE at a busy moment),
// so the next call tries again.
func sharedWatcher() *watcher {
	if w := theWatcher.Load(); w != nil {
		return w
	}
	watcherMu.Lock()
	defer watcherMu.Unlock()
	if w := theWatcher.Load(); w != nil {
		return w
	}
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil
	}
	ep := os.NewFile(uintptr(fd), "epoll") // non-blocking: the poller watches it
	rc, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil
	}
	w := &watcher{ep: ep, fd: fd, rc: rc, fns: map[uint64]func(){}}
	go w.run()
	theWatcher.Store(w)
	return w
}

// token returns a new watch token.
func (w *watcher) token() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last++
	return w.last
}

// watch arms a watch of fd under tok (from token): fn runs, in a goroutine
// of its own, once fd is readable (or hung up, or in error).
func (w *watcher) watch(fd int, tok uint64, fn func()) error {
	return w.arm(syscall.EPOLL_CTL_ADD, fd, tok, fn)
}

// rearm arms again the watch of fd that fired.
func (w *watcher) rearm(fd int, tok uint64, fn func()) error {
	return w.arm(syscall.EPOLL_CTL_MOD, fd, tok, fn)
}

func (w *watcher) arm(op, fd int, tok uint64, fn func()) error {
	w.mu.Lock()
	w.fns[tok] = fn // before the epoll entry: it may fire at once
	w.mu.Unlock()
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(uint32(tok)), // Fd and Pad are the event's 64-bit data
		Pad:    int32(uint32(tok >> 32)),
	}
	if err := syscall.EpollCtl(w.fd, op, fd, &ev); err != nil {
		w.mu.Lock()
		delete(w.fns, tok)
		w.mu.Unlock()
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// cancel removes the watch of fd; it must come before fd is closed. It
// returns the function the watch had armed, which will not run now, or nil
// when the watch was not armed: it has fired and its function has run or
// will run.
func (w *watcher) cancel(fd int, tok uint64) (armed func()) {
	w.mu.Lock()
	armed = w.fns[tok]
	delete(w.fns, tok)
	w.mu.Unlock()
	_ = syscall.EpollCtl(w.fd, syscall.EPOLL_CTL_DEL, fd, nil) // an error: gone already
	return armed
}

// run waits for watches to fire and starts their functions.
func (w *watcher) run() {
	events := make([]syscall.EpollEvent, 64)
	var n int
	var err error
	collect := func(fd uintptr) bool {
		for {
			n, err = syscall.EpollWait(int(fd), events, 0)
			if err != syscall.EINTR {
				return n > 0 || err != nil
			}
		}
	}
	for {
		if rerr := w.rc.Read(collect); rerr != nil {
			panic("procio: watcher: " + rerr.Error()) // the epoll descriptor is never closed
		}
		if err != nil {
			panic("procio: watcher: epoll_wait: " + err.Error())
		}
		for _, ev := range events[:n] {
			tok := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			w.mu.Lock()
			fn := w.fns[tok]
			delete(w.fns, tok)
			w.mu.Unlock()
			if fn != nil {
				go fn()
			}
		}
	}
}

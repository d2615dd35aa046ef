package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// keepalive pings the client every interval (--pingms) and drops the
// connection when no pong has come for twice the interval: a client that
// vanished without a word (a laptop closed, a network gone) is then found
// within that bound, and its program stopped, instead of when TCP gives up
// minutes or hours later.
//
// Only pongs count, as in websocketd: every conforming client answers a
// ping by itself (RFC 6455 §5.5.2), whatever its application does. A pong
// cannot arrive while the reader is blocked writing to a program that does
// not read its stdin (nor while the reader then catches up with what the
// client sent meanwhile, the pong queued behind it); that is back-pressure,
// not silence, so the deadline counts from the later of the last pong and
// the reader's last write to stdin. A client that stops reading for twice
// the interval is dropped too: the ping cannot reach it.
//
// It is owned by its conn: start after the wsproto.Conn exists, then stop,
// which may be called more than once (the relay calls it to learn whether
// the watchdog fired, the connection's goroutine to end it); each call
// waits for the ping goroutine. A nil *keepalive (pings off) does nothing.
type keepalive struct {
	interval time.Duration
	nc       net.Conn
	watchdog *time.Timer
	busy     atomic.Bool  // the reader is writing to stdin
	wrote    atomic.Int64 // when its last write to stdin ended, in Unix ns

	// mu makes the watchdog's check and its drop one step against stop:
	// once stop has set stopped, no expire drops the connection, and one
	// that already had is seen in expired.
	mu      sync.Mutex
	stopped bool // stop has been called
	expired bool // the watchdog dropped the connection

	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// newKeepalive returns a keepalive pinging every interval, or nil when
// interval is 0.
func newKeepalive(interval time.Duration) *keepalive {
	if interval <= 0 {
		return nil
	}
	return &keepalive{interval: interval, quit: make(chan struct{}), done: make(chan struct{})}
}

// onPong returns the wsproto.Config.OnPong hook, nil when k is nil.
func (k *keepalive) onPong() func() {
	if k == nil {
		return nil
	}
	return func() { k.watchdog.Reset(2 * k.interval) }
}

// start arms the watchdog and starts pinging over ws. It must run before
// the first read of ws. A panic in the ping goroutine goes to crashed.
func (k *keepalive) start(ws *wsproto.Conn, crashed func(where string, v any)) {
	if k == nil {
		return
	}
	k.nc = ws.NetConn()
	k.watchdog = time.AfterFunc(2*k.interval, k.expire)
	go k.ping(ws, crashed)
}

func (k *keepalive) ping(ws *wsproto.Conn, crashed func(where string, v any)) {
	defer close(k.done)
	defer func() {
		if v := recover(); v != nil {
			crashed("keepalive", v)
		}
	}()
	t := time.NewTicker(k.interval)
	defer t.Stop()
	for {
		select {
		case <-k.quit:
			return
		case <-t.C:
		}
		if err := ws.WritePing(nil); err != nil {
			return // the connection is closing or gone
		}
	}
}

// expire drops the connection: every read and write on it fails at once,
// so both pumps end and the relay stops the program.
func (k *keepalive) expire() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	if k.busy.Load() {
		k.watchdog.Reset(2 * k.interval)
		return
	}
	if d := time.Since(time.Unix(0, k.wrote.Load())); d < 2*k.interval {
		k.watchdog.Reset(2*k.interval - d)
		return
	}
	k.expired = true
	k.nc.SetDeadline(time.Now())
}

// stop stops pinging and waits for the ping goroutine, and for a watchdog
// run already under way; it reports whether the watchdog had dropped the
// connection, which after stop it no longer can. The caller must first
// have made a blocked write return (wsproto's AbortWrites, or Close), or
// the ping may wait behind it.
func (k *keepalive) stop() (expired bool) {
	if k == nil {
		return false
	}
	k.mu.Lock()
	k.stopped = true
	expired = k.expired
	k.mu.Unlock()
	k.stopOnce.Do(func() {
		close(k.quit)
		k.watchdog.Stop()
		<-k.done
	})
	return expired
}

// writing tells the watchdog that the read pump is blocked writing to the
// program's stdin (on) or has just finished (off): a client is not dropped
// for pongs it could not get read while the program was not reading.
func (k *keepalive) writing(on bool) {
	if k == nil {
		return
	}
	if !on {
		k.wrote.Store(time.Now().UnixNano())
	}
	k.busy.Store(on)
}

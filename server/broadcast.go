package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// Broadcast (--broadcast): one program per endpoint (the command, or each
// script of --dir), shared by every client of it. A hub runs the program;
// each client is a member of the hub, the program the relay sees for it.
//
//   - Output: the hub's fan-out is the only reader of stdout (through the
//     codec, as for a program of one's own). It frames each message once,
//     and compresses it once for the clients that compress, and puts it in
//     the queue of every member (or, with ids, of the one it is addressed
//     to). Each member's writer goroutine writes what its queue holds in
//     one write. A queue is bounded in bytes (BroadcastQueue): a client
//     that falls that far behind is dropped (1008 "too slow"), and the
//     program and the others never wait for it.
//   - Input: each client message is read whole into a staging buffer, then
//     queued whole on the program's stdin (stdinQueue), so that messages
//     from different clients never interleave. The queue is bounded too:
//     when it is full the sending client's read pump waits, which stops
//     reading its socket (TCP back-pressure on that client alone); nothing
//     is dropped.
//   - Lifecycle: the program starts with the endpoint's first client and
//     is stopped when its last client leaves (what was queued for its
//     stdin is written first). If it exits while clients are connected,
//     each gets what it printed, then the close frame that says how it
//     ended; the next client starts a new one.
//
// Lock order: Server.hubsMu, then hub.mu; member.mu and stdinQueue.mu are
// taken alone.

// Defaults for Config.BroadcastQueue.
const (
	DefaultBroadcastQueue = 1 << 20
	// MinBroadcastQueue leaves room for the largest frame the codecs make
	// (a 64 KiB read or piece of a line) and a message being written.
	MinBroadcastQueue = 128 << 10
)

// wakeBytes is how much output the fan-out queues before it wakes the
// writers even though the codec has more at hand: a program that never
// pauses would otherwise never be flushed.
const wakeBytes = 32 << 10

// errProgramGone is what a member's input gets once the shared program
// takes no more: it ended, or is being stopped.
var errProgramGone = errors.New("the shared program takes no more input")

// errLeft ends a wait of a member that left or was dropped.
var errLeft = errors.New("client left")

// errStalled ends a wait for room on a stdin that took nothing for
// maxStallChecks checks.
var errStalled = errors.New("the shared program took no input for a day")

// tooSlow is the close frame of a client dropped for falling behind.
var tooSlow = closeFrame{code: wsproto.ClosePolicyViolation, reason: "too slow"}

// hub is one shared program and its clients.
type hub struct {
	s      *Server
	key    string // SCRIPT_NAME with --dir, "" for the command: the hubs' key
	log    *Logger
	ids    bool // Config.BroadcastIDs
	events bool // Config.BroadcastEvents

	ready chan struct{} // closed once start has run; then err, or proc and pid
	err   error
	proc  *process
	pid   int

	in  stdinQueue
	out fanout // the program's output goroutine's (processOut.dst)

	mu        sync.Mutex
	members   map[string]*member // by connection id
	deflaters int                // members that compress
	closed    bool               // no member joins any more: the hub is out of Server.hubs
	changed   atomic.Bool        // members changed since the fan-out looked
}

// join makes c a member of its endpoint's shared program, starting the
// program for the endpoint's first client. With BroadcastEvents it queues
// the client's join event, waiting while the program's stdin is full
// (for at most as long as the client stays and the server runs: then
// 503). The error is the program's start error, or a *handshake.Error.
func (s *Server) join(c *conn, r *request, res *handshake.Result, ep *endpoint, env []string) (*member, error) {
	key := ""
	if s.rt.dir != nil {
		key = ep.scriptName
	}
	s.hubsMu.Lock()
	h := s.hubs[key]
	first := h == nil
	if first {
		h = newHub(s, key)
		s.hubs[key] = h
	}
	m := newMember(h, c, s.cfg.Compression.deflateParams(res) != nil)
	h.mu.Lock()
	h.members[m.id] = m
	if m.deflate {
		h.deflaters++
	}
	h.changed.Store(true)
	h.mu.Unlock()
	s.hubsMu.Unlock()

	if first {
		h.start(ep)
	} else {
		<-h.ready
	}
	if h.err != nil {
		return nil, h.err
	}
	if !h.events {
		return m, nil
	}
	ev := appendJoin(nil, c.id, env, s.env.passed)
	err := h.in.put(ev, nil, func(room <-chan struct{}) error {
		select {
		case <-room:
			return nil
		case <-r.ctx.Done():
		case <-s.quit.Done():
		}
		return &handshake.Error{Status: 503, Reason: "the program is not reading its input"}
	})
	switch {
	case err == nil:
		m.joined = true
	case err == errProgramGone:
		// The program has ended: the member has its close frame.
	default:
		m.stop()
		return nil, err
	}
	return m, nil
}

func newHub(s *Server, key string) *hub {
	h := &hub{
		s:       s,
		key:     key,
		log:     s.log.With("broadcast", key),
		ids:     s.cfg.BroadcastIDs,
		events:  s.cfg.BroadcastEvents,
		ready:   make(chan struct{}),
		members: make(map[string]*member),
	}
	h.in.init(s.cfg.BroadcastQueue)
	h.out.h = h
	var z *wsproto.DeflateConfig
	if s.cfg.Compression != CompressionOff {
		z = &wsproto.DeflateConfig{}
	}
	h.out.prep = wsproto.NewPreparer(z)
	return h
}

// start starts the shared program and the goroutines that feed its stdin
// and read its stdout. A program that cannot start closes the hub: its
// members get h.err. The hub then counts as a connection of the server's
// until the program is reaped (programEnded), so that shutdown waits for
// it.
func (h *hub) start(ep *endpoint) {
	defer close(h.ready)
	s := h.s
	scriptName := h.key // the script's URL path with --dir
	if scriptName == "" {
		scriptName = "/" // one COMMAND, as its clients see it (websocketd's value)
	}
	proc, err := s.startProcess(procio.Config{
		Path:       ep.path,
		Args:       ep.args,
		Env:        s.env.shared(s.software, scriptName),
		Stderr:     h.stderr,
		Quiet:      quietAfter,
		CloseGrace: s.cfg.CloseGrace,
		KillGrace:  s.cfg.KillGrace,
	}, s.codec(), nil, h.log, h.crashed)
	if err != nil {
		h.err = err
		h.close()
		return
	}
	s.conns.Add(1) // a member's connection holds one already: no Wait can be at 0
	h.proc, h.pid = proc, proc.p.Pid()
	go h.in.run(proc.p.Stdin(), h.log)
	proc.startOutput(&h.out, h.programEnded)
	h.log.Info("broadcast start", "pid", h.pid, "path", ep.path)
}

// close takes the hub out of Server.hubs, if it is still there: the next
// client starts a new program.
func (h *hub) close() {
	s := h.s
	s.hubsMu.Lock()
	defer s.hubsMu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if s.hubs[h.key] == h {
		delete(s.hubs, h.key)
	}
}

// leave takes m out of the hub, queues its leave event, and, when m was
// the last member, stops the program: what was queued for its stdin is
// written (for at most CloseGrace), stdin closes, and the program is
// stopped as one of a client's own is (procio.Process.Stop), returning
// once it is reaped.
func (h *hub) leave(m *member) {
	s := h.s
	s.hubsMu.Lock()
	h.mu.Lock()
	delete(h.members, m.id)
	if m.deflate {
		h.deflaters--
	}
	h.changed.Store(true)
	last := len(h.members) == 0 && !h.closed && h.err == nil
	if last {
		h.closed = true
		if s.hubs[h.key] == h {
			delete(s.hubs, h.key)
		}
	}
	h.mu.Unlock()
	s.hubsMu.Unlock()
	if m.joined {
		h.in.add(appendLeave(nil, m.id))
	}
	if !last {
		return
	}
	h.in.drain()
	grace := time.NewTimer(s.cfg.CloseGrace)
	select {
	case <-h.in.done:
	case <-grace.C:
	}
	grace.Stop()
	h.proc.stop()
}

// programEnded runs once the program's output is over and the program
// reaped (processOut.run): every member gets what is queued for it, then
// cf. It waits for the stdin goroutine, and then the hub is done.
func (h *hub) programEnded(cf closeFrame) {
	h.close()
	h.in.close()
	h.mu.Lock()
	members := make([]*member, 0, len(h.members))
	for _, m := range h.members {
		members = append(members, m)
	}
	h.mu.Unlock()
	for _, m := range members {
		m.finish(cf)
	}
	<-h.in.done
	h.out.prep.Close()
	h.log.Info("broadcast end", "pid", h.pid, "exit", procio.ExitReason(h.proc.p.Wait()), "clients", len(members))
	h.s.conns.Done()
}

// member looks up a member by its connection id.
func (h *hub) member(id []byte) *member {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.members[string(id)]
}

func (h *hub) stderr(line []byte) { h.log.Info("stderr", "line", string(line)) }

// crashed logs a panic in the program's output goroutine; processOut.run
// then stops the program and every client gets 1011.
func (h *hub) crashed(where string, v any) {
	h.log.Error("panic", "in", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// fanout is the program's output as the codec sees it (a procio.Sink):
// each message is prepared once and queued for its members. It is used by
// one goroutine at a time, the program's output goroutine, and owns the
// members' woken flags.
type fanout struct {
	h    *hub
	prep *wsproto.Preparer

	recips    []*member // the members when the open message began
	deflaters bool      // some of them compress

	open     bool    // a message is open: its next fragment continues it
	skip     bool    // the open message goes to nobody
	to       *member // the open message's one recipient; nil: every member
	op       wsproto.Opcode
	compress bool // the open message gets a compressed variant

	woken  []*member // members queued for since the last wake
	unsent int       // bytes queued since then
	sent   tally     // messages queued since then, once per member, and their payload bytes
}

func (f *fanout) WriteFragment(binary bool, p []byte, fin bool) error {
	if !f.open {
		p = f.begin(binary, p)
	}
	f.open = !fin
	if f.skip {
		return nil
	}
	pm := f.prep.Prepare(f.op, p, fin, f.compress)
	n := 0
	if f.to != nil {
		if f.to.enqueue(pm) {
			n++
			f.woke(f.to)
		}
	} else {
		for _, m := range f.recips {
			if m.enqueue(pm) {
				n++
				f.woke(m)
			}
		}
	}
	pm.Shared(n)
	f.sent.bytes += uint64(n * len(p))
	if fin {
		f.sent.msgs += uint64(n)
	}
	if f.unsent += len(p); f.unsent >= wakeBytes {
		f.wake()
		// The writers just woken wait on this goroutine's processor
		// until it blocks, which a program that never pauses does not
		// let it do: give them their turn now.
		runtime.Gosched()
	}
	return nil
}

// Flush wakes the writers: the codec has nothing more at hand.
func (f *fanout) Flush() error {
	f.wake()
	return nil
}

// begin starts a message: it takes the members as they are now (a client
// that joins later starts at the next message), and with ids reads the
// address off a line: "@ID " sends the rest to that client alone (to
// nobody when it is not connected), "@* " the rest to every client. It
// returns the payload without the address.
func (f *fanout) begin(binary bool, p []byte) []byte {
	h := f.h
	if h.changed.Swap(false) {
		h.mu.Lock()
		clear(f.recips)
		f.recips = f.recips[:0]
		for _, m := range h.members {
			f.recips = append(f.recips, m)
		}
		f.deflaters = h.deflaters > 0
		h.mu.Unlock()
	}
	f.op, f.to, f.skip = wsproto.OpText, nil, false
	if binary {
		f.op = wsproto.OpBinary
	} else if h.ids {
		if id, rest, ok := address(p); ok {
			p = rest
			if id != nil {
				f.to = h.member(id)
				f.skip = f.to == nil
			}
		}
	}
	if f.to != nil {
		f.compress = f.to.deflate
	} else {
		f.skip = f.skip || len(f.recips) == 0
		f.compress = f.deflaters
	}
	return p
}

// address parses "@ID rest" (ID a decimal connection id) and "@* rest"
// (id nil: every client).
func address(p []byte) (id, rest []byte, ok bool) {
	if len(p) < 3 || p[0] != '@' {
		return nil, nil, false
	}
	if p[1] == '*' && p[2] == ' ' {
		return nil, p[3:], true
	}
	for i := 1; i < len(p) && i <= 21; i++ { // an id has at most 20 digits
		switch c := p[i]; {
		case c == ' ' && i > 1:
			return p[1:i], p[i+1:], true
		case c < '0' || c > '9':
			return nil, nil, false
		}
	}
	return nil, nil, false
}

func (f *fanout) woke(m *member) {
	if !m.woken {
		m.woken = true
		f.woken = append(f.woken, m)
	}
}

// wake has each member that got something since the last wake write it.
func (f *fanout) wake() {
	for _, m := range f.woken {
		m.woken = false
		m.kick()
	}
	clear(f.woken)
	f.woken = f.woken[:0]
	f.unsent = 0
	f.sent.publish(&f.h.s.metrics, dirOut)
}

// member is one client of a shared program: the program the relay sees for
// it. Its fields are split by owner.
type member struct {
	h       *hub
	id      string
	log     *Logger
	deflate bool // the client compresses: it gets compressed variants
	limit   int  // Config.BroadcastQueue
	joined  bool // its join event was queued: a leave event follows (set by join)

	// The read pump's (deliver), and connect's before it runs.
	codec   procio.Codec
	stage   staging
	waitFn  func(room <-chan struct{}) error // waitRoom, made once
	refused bool                             // a message was refused: take no more
	nc      net.Conn
	ka      *keepalive

	// The writer's (run), set by start.
	out   *sink
	ended func(closeFrame)
	crash func(where string, v any)
	runFn func() // run, made once: a method value made at each start allocates

	woken bool // the fan-out's: in its woken list

	// Between the fan-out, the writer and stop. A writer goroutine runs
	// only while the member has something for it (kick), so an idle client
	// holds no goroutine but its read pump.
	mu       sync.Mutex
	q        []*wsproto.PreparedMessage // queued, oldest first
	spare    []*wsproto.PreparedMessage // the writer's last batch, emptied, for q to be next
	queued   int                        // bytes in q and in the batch being written
	end      *closeFrame                // set once: sent after q, which a drop empties
	left     bool                       // stop was called: nothing more is written
	wnc      net.Conn                   // nc, for a drop to bound the write under way
	started  bool                       // start was called: writers may run
	running  bool                       // a writer runs
	finished bool                       // ended has been called (or is being): it is called once
	writers  sync.WaitGroup             // the writer running, for stop to wait for

	quit     chan struct{} // closed once the member takes no more input
	quitOnce sync.Once
	stopOnce sync.Once
}

func newMember(h *hub, c *conn, deflate bool) *member {
	m := &member{
		h:       h,
		id:      c.id,
		log:     c.log,
		deflate: deflate,
		limit:   h.s.cfg.BroadcastQueue,
		codec:   h.s.codec(),
		crash:   c.crashed,
		quit:    make(chan struct{}),
	}
	m.stage.limit = m.limit
	if h.ids {
		m.stage.prefix = append([]byte(m.id), ' ')
	}
	m.waitFn = m.waitRoom
	m.runFn = m.run
	return m
}

// connect keeps the client's socket for waitRoom (the read pump's) and
// for a drop (the fan-out's).
func (m *member) connect(nc net.Conn, ka *keepalive) {
	m.nc, m.ka = nc, ka
	m.mu.Lock()
	m.wnc = nc
	m.mu.Unlock()
}

// deliver stages the message whole, then queues it on the shared stdin,
// waiting while the queue is full. A message that does not fit the queue
// (with its id prefixes) fails the connection with 1009.
func (m *member) deliver(msg procio.Message) error {
	if m.refused {
		return errProgramGone
	}
	m.stage.begin()
	err := m.codec.WriteMessage(&m.stage, msg)
	if err == nil {
		err = m.h.in.put(m.stage.b, m.quit, m.waitFn)
	}
	m.stage.end()
	if errors.Is(err, errTooBig) {
		m.refused = true
		return &closeFrame{code: wsproto.CloseMessageTooBig, reason: "message too big"}
	}
	return err
}

// waitRoom waits for room on the shared stdin: until there is, or the
// member leaves, or (checked every stallCheck, as a client's own stdin
// does) the client is gone. It tells the ping watchdog meanwhile.
func (m *member) waitRoom(room <-chan struct{}) error {
	m.ka.writing(true)
	defer m.ka.writing(false)
	t := time.NewTimer(stallCheck)
	defer t.Stop()
	for range maxStallChecks {
		select {
		case <-room:
			return nil
		case <-m.quit:
			return errLeft
		case <-t.C:
		}
		if peerGone(m.nc) {
			return errClientGone
		}
		t.Reset(stallCheck)
	}
	return errStalled
}

// maxStallChecks bounds waitRoom's loop to a day: a program that takes no
// input for that long with clients waiting to send is stuck, and each of
// them then gives up and drops its messages as if the program were gone.
const maxStallChecks = 24 * 60 * 60 * int(time.Second/stallCheck)

// flush has nothing to do: each message is queued as it is delivered.
func (m *member) flush() {}

// start lets writers run: what is queued (the program may have answered
// the join event already) and what comes later goes to out.
func (m *member) start(out *sink, ended func(closeFrame)) {
	m.out, m.ended = out, ended
	m.mu.Lock()
	m.started = true
	m.mu.Unlock()
	m.kick()
}

// kick starts a writer if none runs and there is something for one to do:
// frames queued, or the member's end due.
func (m *member) kick() {
	m.mu.Lock()
	start := m.started && !m.running && !m.finished && !m.left && (len(m.q) > 0 || m.end != nil)
	if start {
		m.running = true
		m.writers.Add(1)
	}
	m.mu.Unlock()
	if start {
		go m.runFn()
	}
}

// run is a writer: it writes what the queue holds, all of it in one
// WritePrepared, until the queue is empty; then, if the member's end is
// due (the program's, a drop, or the client not taking writes), it calls
// ended. A member that left is stop's to end.
func (m *member) run() {
	defer m.writers.Done()
	defer func() {
		if v := recover(); v != nil {
			m.crash("broadcast writer", v)
			cf := closeFrame{code: wsproto.CloseInternalError, reason: errPanic.Error()}
			m.shut(&cf, true)
			m.mu.Lock()
			m.running = false
			last := !m.finished && !m.left
			m.finished = true
			m.mu.Unlock()
			if last {
				m.ended(cf)
			}
		}
	}()
	for range maxWrites {
		m.mu.Lock()
		if m.left {
			m.running = false
			m.mu.Unlock()
			return
		}
		if len(m.q) == 0 {
			m.running = false
			end := m.end
			if end != nil {
				m.finished = true
			}
			// An idle member keeps its queues only if they are small: a
			// burst's are left to the collector.
			if cap(m.q) > maxIdleQueue {
				m.q = nil
			}
			if cap(m.spare) > maxIdleQueue {
				m.spare = nil
			}
			m.mu.Unlock()
			if end != nil {
				m.ended(*end)
			}
			return
		}
		batch := m.q
		m.q, m.spare = m.spare[:0], nil
		m.mu.Unlock()

		err := m.out.ws.WritePrepared(batch)
		n := 0
		for i, pm := range batch {
			n += pm.Size(m.deflate)
			pm.Release()
			batch[i] = nil
		}
		m.mu.Lock()
		m.queued -= n
		m.spare = batch[:0]
		m.mu.Unlock()
		if err != nil {
			// The client cannot be written to: the connection ends on
			// the read side, where its error shows.
			m.out.err = err
			m.shut(&closeFrame{code: wsproto.CloseAbnormal}, true)
		}
	}
	m.mu.Lock()
	m.running = false
	m.mu.Unlock()
	m.kick() // a long burst: a new writer carries on
}

// maxWrites bounds a writer's loop; the next writer carries on.
const maxWrites = 1 << 20

// maxIdleQueue is the most frames an idle member's queues keep room for.
const maxIdleQueue = 256

// enqueue is the fan-out's: it queues pm for the client, or, when that
// would put more than limit bytes in its queue, drops the client: its
// queue is emptied, the write under way gets the close timeout, and the
// writer sends 1008 "too slow". It reports whether pm was queued.
func (m *member) enqueue(pm *wsproto.PreparedMessage) bool {
	size := pm.Size(m.deflate)
	m.mu.Lock()
	if m.end != nil || m.left {
		m.mu.Unlock()
		return false
	}
	if m.queued+size <= m.limit {
		m.q = append(m.q, pm)
		m.queued += size
		m.mu.Unlock()
		return true
	}
	queued := m.queued
	if m.wnc != nil {
		m.wnc.SetWriteDeadline(time.Now().Add(m.h.s.cfg.CloseTimeout))
	}
	m.mu.Unlock()
	m.shut(&tooSlow, true)
	m.h.s.metrics.drops.Add(1)
	m.log.Info("dropped", "code", tooSlow.code, "reason", tooSlow.reason, "queued", queued)
	return false
}

// finish is the program's end: the writer sends what is queued, then cf.
func (m *member) finish(cf closeFrame) { m.shut(&cf, false) }

// shut sets the member's end, unless it has one or has left; with drop,
// what is queued is dropped. From then on it takes no input, and a writer
// sends the end.
func (m *member) shut(cf *closeFrame, drop bool) {
	m.mu.Lock()
	if m.end == nil && !m.left {
		m.end = cf
		if drop {
			m.dropQueue()
		}
	}
	m.mu.Unlock()
	m.quitOnce.Do(func() { close(m.quit) })
	m.kick()
}

// dropQueue releases what is queued; m.mu is held.
func (m *member) dropQueue() {
	for i, pm := range m.q {
		m.queued -= pm.Size(m.deflate)
		pm.Release()
		m.q[i] = nil
	}
	m.q = m.q[:0]
}

// stop takes the client out of the hub: its queue is dropped, a writer
// running is waited for, ended is called if no writer did, and the hub
// is told (the last member's stop stops the program and returns once it
// is reaped).
func (m *member) stop() { m.stopOnce.Do(m.leave) }

func (m *member) leave() {
	m.mu.Lock()
	m.left = true
	m.dropQueue()
	m.mu.Unlock()
	m.quitOnce.Do(func() { close(m.quit) })
	m.writers.Wait()
	m.mu.Lock()
	last := m.started && !m.finished
	m.finished = true
	m.mu.Unlock()
	if last {
		// Nothing reaches the client after stop: the relay has aborted
		// writes, or sent its own close, first; the frame is not sent.
		m.ended(closeFrame{code: wsproto.CloseGoingAway})
	}
	m.h.leave(m)
}

// exit is the shared program's end if it has ended, else "running".
func (m *member) exit() string {
	if p := m.h.proc; p != nil {
		select {
		case <-p.p.Done():
			return procio.ExitReason(p.p.Wait())
		default:
		}
	}
	return "running"
}

// errTooBig is a message that, staged, outgrows the input queue.
var errTooBig = errors.New("message larger than the input queue")

// staging holds one client message while it arrives, so that it is queued
// whole. With ids, every line of it starts with the client's id and a
// space: a message holding newlines becomes several lines, each with the
// id, so no client can pass a line off as another's or as an event. Its
// buffer is pooled, held only while a message arrives.
type staging struct {
	prefix    []byte // "ID ", or nil without ids
	limit     int
	bp        *[]byte
	b         []byte
	lineStart bool
}

// stagingSize is a staging buffer's first size: larger messages grow it.
// Buffers that grew past maxPooledStaging are left to the collector
// rather than kept in the pool.
const (
	stagingSize      = 4 << 10
	maxPooledStaging = 64 << 10
)

var stagingPool = sync.Pool{New: func() any {
	b := make([]byte, 0, stagingSize)
	return &b
}}

func (s *staging) begin() {
	s.bp = stagingPool.Get().(*[]byte)
	s.b = (*s.bp)[:0]
	s.lineStart = true
}

func (s *staging) end() {
	if cap(s.b) <= maxPooledStaging {
		*s.bp = s.b[:0]
		stagingPool.Put(s.bp)
	}
	s.bp, s.b = nil, nil
}

func (s *staging) Write(p []byte) (int, error) {
	n := len(p)
	if s.prefix == nil {
		s.b = append(s.b, p...)
		p = nil
	}
	for len(p) > 0 {
		if s.lineStart {
			s.b = append(s.b, s.prefix...)
		}
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line = p[:i+1]
		}
		s.b = append(s.b, line...)
		s.lineStart = line[len(line)-1] == '\n'
		p = p[len(line):]
		if len(s.b) > s.limit {
			return 0, errTooBig
		}
	}
	if len(s.b) > s.limit {
		return 0, errTooBig
	}
	return n, nil
}

// stdinQueue is the shared program's stdin: client messages and events,
// each whole, written in the order they were queued by one goroutine
// (run). It holds at most limit bytes not yet written, counting those
// being written; an item is taken whole, and any item fits an empty
// queue.
type stdinQueue struct {
	limit int
	ready chan struct{} // one pending signal for run
	done  chan struct{} // closed when run returns

	mu    sync.Mutex
	buf   []byte        // queued, not yet being written
	busy  int           // bytes run is writing
	room  chan struct{} // closed when a write ends; made by a waiter
	state queueState
}

type queueState uint8

const (
	queueOpen     queueState = iota
	queueDraining            // write what is queued, then close stdin
	queueClosed              // the program takes no more
)

func (q *stdinQueue) init(limit int) {
	q.limit = limit
	q.ready = make(chan struct{}, 1)
	q.done = make(chan struct{})
}

// put queues b once there is room for it, calling wait (with a channel
// closed when a write ends) while there is not; wait's error ends put.
// It returns errProgramGone once the queue is closing, and errLeft once
// quit is closed (checked under the queue's lock, so that nothing of a
// client's comes after its leave event).
func (q *stdinQueue) put(b []byte, quit <-chan struct{}, wait func(room <-chan struct{}) error) error {
	q.mu.Lock()
	for range maxPutRounds {
		if q.state != queueOpen {
			q.mu.Unlock()
			return errProgramGone
		}
		select {
		case <-quit:
			q.mu.Unlock()
			return errLeft
		default:
		}
		if held := len(q.buf) + q.busy; held == 0 || held+len(b) <= q.limit {
			q.buf = append(q.buf, b...)
			q.mu.Unlock()
			q.signal()
			return nil
		}
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room := q.room
		q.mu.Unlock()
		if err := wait(room); err != nil {
			return err
		}
		q.mu.Lock()
	}
	q.mu.Unlock()
	return errStalled
}

// maxPutRounds bounds put's loop. Each round waits for a write of stdin to
// end (or for wait to give up), so the bound is never reached in practice.
const maxPutRounds = 1 << 30

// add queues b whatever the queue holds: a leave event, a few bytes that
// a client's join event paid room for.
func (q *stdinQueue) add(b []byte) {
	q.mu.Lock()
	ok := q.state == queueOpen
	if ok {
		q.buf = append(q.buf, b...)
	}
	q.mu.Unlock()
	if ok {
		q.signal()
	}
}

// drain has run write what is queued, then close stdin.
func (q *stdinQueue) drain() { q.setState(queueDraining) }

// close has run stop: the program takes no more.
func (q *stdinQueue) close() { q.setState(queueClosed) }

func (q *stdinQueue) setState(st queueState) {
	q.mu.Lock()
	if st > q.state {
		q.state = st
	}
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	q.mu.Unlock()
	q.signal()
}

func (q *stdinQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// run writes what is queued to stdin until the queue closes, or drains,
// or a write fails; then it closes stdin.
func (q *stdinQueue) run(stdin io.WriteCloser, log *Logger) {
	defer close(q.done)
	defer stdin.Close()
	var spare []byte
	for {
		q.mu.Lock()
		for len(q.buf) == 0 && q.state == queueOpen {
			q.mu.Unlock()
			<-q.ready
			q.mu.Lock()
		}
		if q.state == queueClosed || len(q.buf) == 0 {
			q.mu.Unlock()
			return
		}
		b := q.buf
		q.buf, q.busy = spare[:0], len(b)
		q.mu.Unlock()

		_, err := stdin.Write(b)
		spare = b
		q.mu.Lock()
		q.busy = 0
		if q.room != nil {
			close(q.room)
			q.room = nil
		}
		q.mu.Unlock()
		if err != nil {
			log.Debug("stdin closed", "err", err)
			q.close()
			return
		}
	}
}

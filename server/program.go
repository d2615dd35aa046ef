package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/wsexec/wsexec/procio"
	"github.com/wsexec/wsexec/wsproto"
)

// program is what serves one client: where its messages go and where the
// messages for it come from. The relay (conn.go) knows a client only
// through this, so that a program shared by many clients is one more
// implementation, not another relay. There are two: process, a program of
// the client's own, and member (broadcast.go), the client's place at a
// program shared by every client of its endpoint (--broadcast).
//
// Who calls what: connect is called once the handshake is done, before
// the relay starts; deliver and flush are the read pump's; start is
// called once, by the relay, and its output runs on goroutines of the
// program's; stop may be called from any goroutine, and every call
// returns once the first is done.
type program interface {
	// connect ties the program to the client's socket: a program that is
	// not taking messages looks through it whether the client is still
	// there, and tells the ping watchdog (ka, nil without pings).
	connect(nc net.Conn, ka *keepalive)
	// deliver hands one message from the client to the program. An error
	// means the program takes no more; the read pump then reads and drops
	// the rest, so that the client's close still arrives. A *closeFrame
	// error also fails the connection with that frame: the message is one
	// the program cannot take.
	deliver(msg procio.Message) error
	// flush sends on the messages delivered since the last flush, which
	// a program may hold to pass on together. The read pump calls it
	// before it waits on the socket: nothing more is at hand then.
	flush()
	// start begins sending the program's output to out. ended is called
	// once, when the program has nothing more for this client, with the
	// close frame that says why; nothing is written to out after it.
	start(out *sink, ended func(closeFrame))
	// stop tells the program the client is gone, and returns once it no
	// longer holds anything of the client's.
	stop()
	// exit says how the program ended, for the access log; it is called
	// after stop.
	exit() string
}

// closeFrame is the close code and reason that say how a program ended,
// or why a client's message was refused (then it is deliver's error).
type closeFrame struct {
	code   uint16
	reason string
}

func (cf *closeFrame) Error() string { return fmt.Sprintf("close %d %s", cf.code, cf.reason) }

// process is a program of the client's own (procio): messages go to its
// stdin through the codec, its stdout comes back through it. Its fields
// are split by owner: in is the read pump's, out the write pump's.
type process struct {
	p    *procio.Process
	in   processIn
	out  processOut
	hint *bufferHint // nil with a pty
}

// processIn writes the client's messages to stdin, in batches.
type processIn struct {
	codec procio.Codec
	stdin *stdinBatch
	log   *Logger
}

// processOut is the write pump: the only reader of stdout. It is one
// goroutine at a time, not always the same one: once stdout has been quiet
// for quietAfter it lets its goroutine go, and procio starts it again when
// output comes (Process.NotifyStdout), so an idle connection holds only its
// read pump's goroutine.
type processOut struct {
	p      *procio.Process
	codec  procio.Codec
	dst    procio.Sink // the client, the --passstderr tagger over it, or a broadcast's fan-out
	tag    *tagger     // nil without --passstderr
	grace  time.Duration
	ended  func(closeFrame)
	resume func() // run as a method value made once: making one allocates
	log    *Logger
	crash  func(where string, v any)
}

// quietAfter is how long a program's stdout is quiet before the write pump
// lets its goroutine go until output comes: long enough that a steady
// conversation never pays for the restart, short enough that idle
// connections are cheap soon.
const quietAfter = time.Second

// startProcess starts a program, and counts it until it is reaped. Its
// stderr lines go to cfg.Stderr (and, with tag, to the client); a panic
// while its output runs goes to crash.
func (s *Server) startProcess(cfg procio.Config, codec procio.Codec, tag *tagger, log *Logger, crash func(string, any)) (*process, error) {
	cfg.Exited = s.metrics.exited
	s.metrics.starting()
	p, err := procio.Start(cfg)
	s.metrics.started(err == nil)
	if err != nil {
		return nil, err
	}
	pr := &process{p: p}
	pr.in = processIn{codec: codec, log: log}
	closeGrace, killGrace := cfg.Graces()
	pr.out = processOut{p: p, codec: codec, tag: tag, grace: max(closeGrace, killGrace), log: log, crash: crash}
	pr.out.resume = pr.out.run
	if !cfg.Pty {
		pr.hint = &bufferHint{log: log, pid: p.Pid()}
	}
	return pr, nil
}

// connect ties stdin to the client's socket, once it exists: a write to a
// program that is not reading looks whether the client is still there, and
// tells the ping watchdog (ka, nil without pings) while it waits.
func (pr *process) connect(nc net.Conn, ka *keepalive) {
	pr.in.stdin = &stdinBatch{w: &stdinWriter{p: pr.p, nc: nc, ka: ka}}
}

func (pr *process) deliver(msg procio.Message) error {
	if pr.in.stdin.err != nil {
		return pr.in.stdin.err // stdin is gone; NextReader discards the unread message
	}
	err := pr.in.codec.WriteMessage(pr.in.stdin, msg)
	if err != nil {
		pr.in.log.Debug("stdin closed", "err", err)
		return err
	}
	if pr.hint != nil {
		pr.hint.fed()
	}
	return nil
}

func (pr *process) flush() { _ = pr.in.stdin.flush() }

func (pr *process) start(out *sink, ended func(closeFrame)) {
	var dst procio.Sink = out
	if pr.out.tag != nil {
		dst = pr.out.tag.attach(out) // stdout and stderr lines as JSON
	}
	pr.startOutput(dst, ended)
}

// startOutput starts moving the program's output to dst; ended is called
// once it is over, with the close frame that says how the program ended.
func (pr *process) startOutput(dst procio.Sink, ended func(closeFrame)) {
	if pr.hint != nil {
		dst = hintSink{Sink: dst, h: pr.hint}
	}
	pr.out.dst, pr.out.ended = dst, ended
	go pr.out.run()
}

func (pr *process) stop() {
	if pr.hint != nil {
		pr.hint.stop()
	}
	pr.p.Stop()
}

func (pr *process) exit() string { return procio.ExitReason(pr.p.Wait()) }

// run moves the program's output to the client until stdout ends, then
// reports how the program ended. A program that closes stdout but keeps
// running is stopped once the longer of CloseGrace and KillGrace has
// passed.
func (o *processOut) run() {
	defer func() {
		if v := recover(); v != nil {
			o.crash("write pump", v)
			o.p.Stop()
			o.ended(closeFrame{code: wsproto.CloseInternalError, reason: errPanic.Error()})
		}
	}()
	for {
		err := o.codec.ReadMessages(o.p.Stdout(), o.dst)
		if err == procio.ErrQuiet {
			if o.p.NotifyStdout(o.resume) {
				return
			}
			continue // no watch to be had: wait here
		}
		// Only stdout can fail here, by a read or by breaking its framing:
		// the sinks keep their write error to themselves and return nil.
		if fe := (*procio.FramingError)(nil); errors.As(err, &fe) {
			o.badOutput(fe)
			return
		}
		if err != nil {
			o.log.Debug("stdout", "err", err)
		}
		break
	}
	if o.tag != nil {
		o.tag.endStdout()
	}
	// A program whose stdout ended is usually exiting: give it time to be
	// reaped with its own exit status before Stop signals it, even when
	// CloseGrace is procio.AtOnce.
	select {
	case <-o.p.Done():
	case <-time.After(o.grace):
	}
	// Nothing of the program's group may outlive it, nor hold its stdin
	// (where the read pump may be blocked). With --passstderr, Stop also
	// returns once procio has handed over the last stderr line, so they
	// all go out before the close frame.
	o.p.Stop()
	if o.tag != nil {
		o.tag.detach()
	}
	o.ended(closeFor(o.p.Wait()))
}

// badOutput ends the program's output to the client when it broke its
// framing: the message it was in never gets its last fragment, the close
// frame says what was wrong, and the relay stops the program. Its stderr
// lines from now on are only logged: a --passstderr message cannot start
// inside the unfinished one.
func (o *processOut) badOutput(fe *procio.FramingError) {
	o.log.Warn("bad output", "offset", fe.Offset, "reason", fe.Reason)
	o.tag.detach()
	o.ended(badOutput(fe))
}

// closeFor maps how a program ended to a close frame: exit status 0 is a
// normal close (1000); anything else is an internal error (1011) whose
// reason says the status or the signal.
func closeFor(state *os.ProcessState) closeFrame {
	if state != nil && state.Success() {
		return closeFrame{code: wsproto.CloseNormal}
	}
	return closeFrame{code: wsproto.CloseInternalError, reason: procio.ExitReason(state)}
}

// stallCheck is how often a write to a program that is not reading its
// stdin looks whether the client is still there.
const stallCheck = time.Second

// errClientGone ends a stalled stdin write whose client has left.
var errClientGone = errors.New("client gone while the program was not reading")

// stdinWriter writes to the program's stdin. While a write is blocked (the
// program is not reading), it checks every stallCheck whether the client
// is still connected: the read pump is stuck in this write and cannot see
// the client leave, and a client that left must not keep a stalled
// program running. It tells the ping watchdog (ka, nil without pings)
// while it writes.
//
// The stdin deadline stays armed between writes and is moved on only when
// less than half of stallCheck is left, so that a steady stream of writes
// does not re-arm a runtime timer each time: the first check of a stall
// comes after between stallCheck/2 and stallCheck.
type stdinWriter struct {
	p        *procio.Process
	nc       net.Conn
	ka       *keepalive
	deadline time.Time // the stdin write deadline last set
}

func (w *stdinWriter) Write(b []byte) (int, error) {
	w.ka.writing(true)
	defer w.ka.writing(false)
	n := 0
	for now := time.Now(); ; now = time.Now() {
		if w.deadline.Sub(now) < stallCheck/2 {
			w.deadline = now.Add(stallCheck)
			w.p.SetStdinDeadline(w.deadline)
		}
		k, err := w.p.Stdin().Write(b[n:])
		n += k
		switch {
		case err == nil:
			return n, nil
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return n, err
		case peerGone(w.nc):
			return n, errClientGone
		}
	}
}

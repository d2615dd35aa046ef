package procio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/internal/bufpool"
	"github.com/wsexec/wsexec/internal/rawread"
)

// DefaultKillGrace is the pause between SIGINT, SIGTERM and SIGKILL when
// Config.KillGrace is 0. Half a second lets a program that handles SIGINT
// flush and exit, and keeps one that ignores it from holding a connection for
// long.
const DefaultKillGrace = 500 * time.Millisecond

// DefaultCloseGrace is how long Stop waits after closing stdin when
// Config.CloseGrace is 0: a program that exits on EOF has time to finish.
const DefaultCloseGrace = time.Second

// AtOnce, as Config.CloseGrace, has Stop signal as soon as it has closed
// stdin (websocketd's --closems=0).
const AtOnce time.Duration = -1

// Config says what to run and how to stop it. Only Path is required.
type Config struct {
	// Path is the resolved program path, from LookPath.
	Path string
	// Args is the full argv; Args[0] is the name as the user wrote it.
	// nil means []string{Path}.
	Args []string
	// Env is exactly the child's environment; nil means an empty one, not
	// the parent's.
	Env []string
	// Dir is the working directory; "" means the current one.
	Dir string
	// Stderr receives each stderr line without its newline, one call at a
	// time, from a goroutine of procio's; line is only valid during the
	// call. Lines longer than 64 KiB come in 64 KiB pieces. A slow callback
	// stalls the program's stderr writes, nothing else. nil discards stderr.
	Stderr func(line []byte)
	// CloseGrace is how long Stop waits after closing stdin before it sends
	// SIGINT (websocketd's --closems). 0 means DefaultCloseGrace; AtOnce
	// (any negative value) signals at once.
	CloseGrace time.Duration
	// Quiet, when set, is how long stdout may stay quiet before a codec's
	// ReadMessages waiting on it returns ErrQuiet (see NotifyStdout).
	Quiet time.Duration
	// KillGrace is the wait between SIGINT, SIGTERM and SIGKILL, and the
	// grace stdout gets to reach EOF once the program is gone. 0 means
	// DefaultKillGrace.
	KillGrace time.Duration
	// Exited, when set, is called once the program has been reaped, with
	// how it ended, before Done is closed: whoever waits on Done or Wait
	// finds what it did. It is called from a goroutine of procio's and
	// must not block.
	Exited func(*os.ProcessState)
	// Pty makes the program's stdout a pseudo-terminal instead of a pipe,
	// so that its C library line-buffers it; stdin and stderr stay pipes.
	// Linux only (see "Terminal" in the package documentation).
	Pty bool
	// WindowSize is the terminal's size, with Pty; a zero field takes
	// DefaultWindowSize's.
	WindowSize WindowSize
}

// WindowSize is a terminal's size in characters.
type WindowSize struct{ Columns, Rows uint16 }

// DefaultWindowSize is the terminal's size for a zero Config.WindowSize:
// the classic terminal's.
var DefaultWindowSize = WindowSize{Columns: 80, Rows: 24}

// orDefault returns ws with each zero field taken from DefaultWindowSize.
func (ws WindowSize) orDefault() WindowSize {
	if ws.Columns == 0 {
		ws.Columns = DefaultWindowSize.Columns
	}
	if ws.Rows == 0 {
		ws.Rows = DefaultWindowSize.Rows
	}
	return ws
}

// Graces returns the waits that CloseGrace and KillGrace mean: their
// defaults for 0, and no wait for a negative CloseGrace (AtOnce).
func (cfg Config) Graces() (closeGrace, killGrace time.Duration) {
	closeGrace, killGrace = cfg.CloseGrace, cfg.KillGrace
	switch {
	case closeGrace == 0:
		closeGrace = DefaultCloseGrace
	case closeGrace < 0:
		closeGrace = 0
	}
	if killGrace <= 0 {
		killGrace = DefaultKillGrace
	}
	return closeGrace, killGrace
}

// Process is one running program. Its owner must call Stop once it is done
// with it, in every path: Stop is what releases the pipes and goroutines.
type Process struct {
	pid        int // also its process group's id
	closeGrace time.Duration
	killGrace  time.Duration

	stdin  *stdinPipe
	stdout *stdoutPipe
	stderr *os.File // nil when stderr goes to /dev/null

	// The stderr reader's: it runs while stderr has something to read
	// (readStderr), and with a watcher only then.
	errFn    func(line []byte)
	errRead  func() // p.readStderr, made once: a method value made per arm allocates
	errRaw   rawReader
	errWatch fdWatch // watched: readStderr is started by the watcher and arms it again
	errBuf   idleBuf // from stderrPool, held while a line is incomplete or output flows
	errHeld  int     // errBuf's first errHeld bytes are the start of a line

	exited func(*os.ProcessState) // Config.Exited

	stderrDone chan struct{}    // closed when the stderr reader is done for good
	done       chan struct{}    // closed once the program is reaped; state is set before
	state      *os.ProcessState // how it ended
	stopping   chan struct{}    // closed when Stop begins
	released   chan struct{}    // closed when supervise has let go of everything
	stopOnce   sync.Once
}

// Start runs the program described by cfg in a process group of its own. The
// caller reads Stdout until EOF, writes to Stdin and closes it, and calls Stop.
// On Linux the program is killed if the calling process dies first (see
// "When the server dies" in the package documentation).
func Start(cfg Config) (*Process, error) {
	if cfg.Path == "" {
		return nil, errors.New("start: empty program path")
	}
	args := cfg.Args
	if args == nil {
		args = []string{cfg.Path}
	}
	env := cfg.Env
	if env == nil {
		env = []string{} // a nil Env would give the child our environment
	}
	closeGrace, killGrace := cfg.Graces()
	p := &Process{
		closeGrace: closeGrace,
		killGrace:  killGrace,
		stderrDone: make(chan struct{}),
		done:       make(chan struct{}),
		stopping:   make(chan struct{}),
		released:   make(chan struct{}),
		exited:     cfg.Exited,
	}

	// ours are the parent's ends, theirs the child's; the child's ends are
	// closed here once the child has them, so EOF depends on the child alone.
	var ours, theirs []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	pipe := func(what string, open func() (r, w *os.File, err error)) (r, w *os.File, err error) {
		r, w, err = open()
		if err != nil {
			closeAll(ours)
			closeAll(theirs)
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		return r, w, nil
	}
	inR, inW, err := pipe("stdin pipe", func() (*os.File, *os.File, error) { return childPipe(true) })
	if err != nil {
		return nil, err
	}
	ours, theirs = append(ours, inW), append(theirs, inR)
	what, open := "stdout pipe", func() (*os.File, *os.File, error) { return childPipe(false) }
	if cfg.Pty {
		what, open = "stdout pty", func() (*os.File, *os.File, error) { return openPty(cfg.WindowSize.orDefault()) }
	}
	outR, outW, err := pipe(what, open)
	if err != nil {
		return nil, err
	}
	ours, theirs = append(ours, outR), append(theirs, outW)
	// Without a callback stderr goes to /dev/null, as os/exec does, so that
	// the program's descriptor 2 is never free for a file it opens.
	errWhat, errOpen := "stderr pipe", func() (*os.File, *os.File, error) { return childPipe(false) }
	if cfg.Stderr == nil {
		errWhat, errOpen = "stderr", func() (*os.File, *os.File, error) {
			f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			return nil, f, err
		}
	}
	errR, errW, err := pipe(errWhat, errOpen)
	if err != nil {
		return nil, err
	}
	theirs = append(theirs, errW)
	if errR != nil {
		ours = append(ours, errR)
		p.stderr = errR
	}

	// The child's ends are blocking (childPipe, the pty's slave, /dev/null),
	// which is what a program expects of its standard streams.
	attr := &syscall.ProcAttr{Dir: cfg.Dir, Env: env, Files: []uintptr{inR.Fd(), outW.Fd(), errW.Fd()}}
	pid, pidfd, err := startProcess(cfg.Path, args, attr)
	closeAll(theirs)
	if forkPastLimit(err, attr.Files) {
		err = syscall.EMFILE
	}
	if err != nil {
		closeAll(ours)
		return nil, fmt.Errorf("start: %w", &os.PathError{Op: "fork/exec", Path: cfg.Path, Err: err})
	}
	p.pid = pid
	p.stdin = &stdinPipe{f: inW}
	p.stdin.rc, _ = inW.SyscallConn()
	// A pty is never grown: growPipe is for pipes.
	p.stdout = &stdoutPipe{f: outR, eof: make(chan struct{}), quiet: cfg.Quiet, pty: cfg.Pty, grown: cfg.Pty}
	p.stdout.init(outR)
	p.stdout.rc.Control(func(fd uintptr) { p.stdout.watch.fd = int(fd) })
	if p.stderr != nil {
		p.startStderr(cfg.Stderr)
	} else {
		close(p.stderrDone)
	}
	p.startSupervise(pidfd)
	return p, nil
}

// forkPastLimit reports whether err, from a fork given files, is the
// descriptor limit: the child syscall forks moves the pipe it reports its
// exec on to the number after the highest of files, and when that one is
// the last the limit allows, the move fails with EBADF. The start fails
// for want of descriptors, as when a pipe cannot be made, and is told so.
func forkPastLimit(err error, files []uintptr) bool {
	var lim syscall.Rlimit
	if !errors.Is(err, syscall.EBADF) || syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return false
	}
	return uint64(slices.Max(files))+1 >= uint64(lim.Cur)
}

// startSupervise runs supervise once the program has exited: started by
// the watcher when pidfd, the program's (from the fork, Linux 5.3),
// becomes readable, so that the wait in supervise returns at once. A wait
// alone blocks in waitid, holding an OS thread (a few pages of stack, and
// a thread the runtime must create) for every running program; with one
// program per idle connection that was a large part of a connection's
// memory. Where there is no watcher or no pidfd (pidfd is -1), supervise
// runs in a goroutine at once and its wait holds a thread: that is the
// fallback's cost. The pidfd is the only one the program has while it
// runs: it is closed before supervise reaps (reap).
func (p *Process) startSupervise(pidfd int) {
	if pidfd >= 0 {
		if w := sharedWatcher(); w != nil {
			exited := func() {
				syscall.Close(pidfd)
				p.supervise()
			}
			if w.watch(pidfd, w.token(), exited) == nil {
				return
			}
		}
		syscall.Close(pidfd)
	}
	go p.supervise()
}

// reap waits for the program to exit, reaps it and returns how it ended,
// or nil if it cannot (something else reaped it). os.FindProcess never
// fails on Unix; on Linux it opens a pidfd of its own for the wait, which
// the wait closes. The pid cannot have been reused meanwhile: only reap
// reaps it.
func reap(pid int) *os.ProcessState {
	proc, _ := os.FindProcess(pid)
	// A non-zero exit is not an error here: the outcome is in the state.
	state, _ := proc.Wait()
	return state
}

// startStderr starts reading stderr: with the watcher, readStderr runs
// each time stderr becomes readable; without, in a goroutine of its own.
func (p *Process) startStderr(fn func(line []byte)) {
	p.errFn = fn
	p.errRead = p.readStderr
	p.errBuf.pool = stderrPool
	p.errRaw.init(p.stderr)
	p.errRaw.rc.Control(func(fd uintptr) { p.errWatch.fd = int(fd) })
	if !p.errWatch.arm(p.errRead) {
		go p.readStderr()
	}
}

// Pid returns the program's process id, which is also its process group id.
func (p *Process) Pid() int { return p.pid }

// Stdin returns the program's stdin. The caller's writer closes it when it is
// done; Stop closes it too (closing twice is harmless). A Write blocked on a
// program that does not read returns an error once Stop closes it.
func (p *Process) Stdin() io.WriteCloser { return p.stdin }

// SetStdinDeadline sets a deadline for writes to Stdin, as
// os.File.SetWriteDeadline does: a Write blocked past it returns an error
// wrapping os.ErrDeadlineExceeded, having written part of its bytes, and
// may be retried with the rest. The zero time means no deadline.
func (p *Process) SetStdinDeadline(t time.Time) error { return p.stdin.f.SetWriteDeadline(t) }

// Stdout returns the program's stdout, for one reader, who reads until EOF.
// EOF comes once every holder of the pipe is gone, or once procio gives up on
// them (see the package documentation); either way a Read blocked here
// returns io.EOF at the latest when Stop returns.
func (p *Process) Stdout() Output { return p.stdout }

// NotifyStdout arranges for fn to run, in a goroutine of its own, once
// stdout has something to read, has reached EOF or has been closed by
// procio: a reader that got ErrQuiet can let its goroutine go, and a quiet
// program then costs no goroutine reading its stdout. It reports false
// when stdout cannot be watched (no watcher, or closed already); the
// reader then carries on reading itself. One notification is armed at a
// time: call it again only once fn has run.
func (p *Process) NotifyStdout(fn func()) bool { return p.stdout.notify(fn) }

// Done is closed once the program has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait blocks until the program is reaped and returns how it ended. It is safe
// from many goroutines, at any time, and with Stop.
func (p *Process) Wait() *os.ProcessState {
	<-p.done
	return p.state
}

// ExitReason formats how a program ended for people and close frames:
// "exit status 3", "signal: killed", as os.ProcessState.String does.
func ExitReason(state *os.ProcessState) string {
	if state == nil {
		return "not exited"
	}
	return state.String()
}

// supervise reaps the program, then makes sure stdout and stderr do not wait
// forever on something the program left behind: it kills the group once stdout
// reached EOF or after a grace, and closes the read ends that are still open a
// grace after that. It is the only goroutine that closes stdout and stderr.
func (p *Process) supervise() {
	defer close(p.released)
	p.state = reap(p.pid)
	if p.exited != nil {
		p.exited(p.state)
	}
	close(p.done)

	t := time.NewTimer(p.killGrace)
	defer t.Stop()
	select {
	case <-p.stdout.eof:
	case <-p.stopping:
	case <-t.C:
	}
	p.signal(syscall.SIGKILL) // whatever the program left in its group

	t.Reset(p.killGrace)
	stdoutEOF, stderrDone, stopping := p.stdout.eof, p.stderrDone, p.stopping
	for stdoutEOF != nil || stderrDone != nil {
		select {
		case <-stdoutEOF:
			stdoutEOF = nil
		case <-stderrDone:
			stderrDone = nil
		case <-stopping:
			// The owner is done and the group is dead: if the pipe holds
			// nothing unread, closing it loses nothing.
			stopping = nil
			if stdoutEOF != nil && pipeBuffered(p.stdout.rc) == 0 {
				p.stdout.close()
				stdoutEOF = nil
			}
		case <-t.C:
			// The group has been dead for a grace: a pipe still open is held
			// by something outside it.
			if stderrDone != nil {
				p.closeStderr()
				stderrDone = nil
			}
			if stdoutEOF == nil {
				break
			}
			if stopped(p.stopping) || pipeBuffered(p.stdout.rc) <= 0 {
				p.stdout.close()
				stdoutEOF = nil
				break
			}
			// Unread output: the reader is slow, not stuck. Give it
			// another grace (Stop cuts this short).
			t.Reset(p.killGrace)
		}
	}
	p.stdout.close()
	if p.stderr != nil {
		p.closeStderr()
	}
}

func stopped(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// readStderr hands each stderr line to the callback, in pieces of at most
// 64 KiB for longer lines. Started by the watcher, it runs while stderr
// has something to read: once the pipe is empty and no partial line is
// held, it arms the watch again and returns, so a quiet stderr costs
// neither a goroutine nor a buffer. Without the watcher it is a goroutine
// that waits for the pipe holding no buffer. Either way it is done at EOF
// or once supervise has closed the pipe.
func (p *Process) readStderr() {
	watched := p.errWatch.watched()
	for {
		var n int
		var err error
		switch {
		case p.errHeld > 0: // wait for the rest of the line
			n, err = p.errRaw.read(nil, p.errBuf.get()[p.errHeld:], true)
		case watched: // the buffer is given back when the pipe is empty
			n, err = p.errRaw.read(&p.errBuf, nil, false)
		default: // wait holding no buffer
			n, err = p.errRaw.read(&p.errBuf, nil, true)
		}
		if err == rawread.ErrWouldBlock {
			if p.errWatch.arm(p.errRead) {
				return
			}
			// Closed (or refused by epoll): wait here instead; a closed
			// pipe's read ends the reader.
			watched = false
			continue
		}
		buf := p.errBuf.get()
		held := splitLines(buf[:p.errHeld+n], p.errHeld, func(line []byte) { p.errFn(dropCR(line)) })
		if held == len(buf) {
			// A full piece of a longer line: keep its last byte (two if
			// that is a CR) for the next piece, so that a line ending just
			// past the buffer never yields an empty piece or a stray CR.
			k := 1
			if buf[len(buf)-1] == '\r' {
				k = 2
			}
			p.errFn(buf[:len(buf)-k])
			held = copy(buf, buf[len(buf)-k:])
		}
		p.errHeld = held
		if err != nil {
			if held > 0 {
				p.errFn(dropCR(buf[:held]))
			}
			p.errBuf.release()
			close(p.stderrDone)
			return
		}
	}
}

// closeStderr closes stderr and returns once its reader is done. It is
// supervise's, and may be called more than once.
func (p *Process) closeStderr() {
	if p.errWatch.close(p.stderr) != nil {
		close(p.stderrDone) // no reader is running, and none will
	}
	<-p.stderrDone
}

// stderrPool holds the stderr readers' 64 KiB buffers.
var stderrPool = bufpool.For(64 << 10)

// splitLines calls fn for each '\n'-terminated line of b (without the '\n'),
// knowing that b[:from] holds no newline, moves the unterminated rest to the
// front of b and returns its length.
func splitLines(b []byte, from int, fn func(line []byte)) int {
	start := 0
	for {
		i := bytes.IndexByte(b[from:], '\n')
		if i < 0 {
			break
		}
		fn(b[start : from+i])
		start = from + i + 1
		from = start
	}
	return copy(b, b[start:])
}

// Pipes start with the kernel's default capacity (64 KiB on Linux), which
// keeps an idle or chatty program cheap. The first read or write of at
// least bulkSize shows data moving in bulk, where that capacity makes each
// side wake for every 64 KiB: the pipe is then given bigPipeSize
// (growPipe), so that each wake-up moves more (the gain is in
// docs/benchmarks.md, "1 MiB line"). The kernel allocates a pipe's
// pages as data comes, so a grown pipe costs memory only while it holds
// unread data: up to bigPipeSize when a program writes faster than its
// client reads.
const (
	bulkSize    = 32 << 10
	bigPipeSize = 1 << 20
)

// stdinPipe is the parent's end of stdin; Close may be called more than once.
// Write is for one goroutine at a time.
type stdinPipe struct {
	f     *os.File
	rc    syscall.RawConn // f's, made once: SyscallConn allocates
	grown bool            // growPipe was called
	once  sync.Once
	err   error
}

func (w *stdinPipe) Write(p []byte) (int, error) {
	if !w.grown && len(p) >= bulkSize {
		w.grown = true
		growPipe(w.rc)
	}
	return w.f.Write(p)
}

func (w *stdinPipe) Close() error {
	w.once.Do(func() { w.err = w.f.Close() })
	return w.err
}

// stdoutPipe is the parent's end of stdout. It records EOF for supervise and
// turns a Read cut short by supervise closing the pipe into io.EOF. Its
// reads are its rawReader's, used by one goroutine at a time: Read waits
// for data like any pipe read, readIdle waits without a buffer
// (Output), and readAhead does not wait.
//
// The quiet period (Config.Quiet) is a read deadline on f that stays armed
// across messages: a wait that may end quiet arms it only when none is set,
// and when it fires after output came since, it is moved to a quiet period
// after the current wait began. A steady conversation then re-arms a
// runtime timer about once a quiet period instead of twice a message.
type stdoutPipe struct {
	rawReader
	f     *os.File
	pty   bool          // f is a pseudo-terminal's master (Config.Pty)
	grown bool          // growPipe was called, or must not be
	quiet time.Duration // Config.Quiet

	deadline  time.Time // the read deadline set on f; zero when none
	idleSince time.Time // when the current wait that may end quiet began

	eof     chan struct{} // closed when a Read has returned io.EOF
	eofOnce sync.Once
	watch   fdWatch // NotifyStdout's, and closing f
}

func (r *stdoutPipe) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.finish(r.quietRead(nil, p, true, false))
}

// readIdle is Output's: it reads into ib's buffer, which it takes only
// while a read is made.
func (r *stdoutPipe) readIdle(ib *idleBuf, quietOK bool) (int, error) {
	n, err := r.quietRead(ib, nil, true, quietOK)
	if err == ErrQuiet {
		return 0, err
	}
	return r.finish(n, err)
}

// readAhead is Output's: it reads into p without waiting.
func (r *stdoutPipe) readAhead(p []byte) (int, bool, error) {
	if len(p) == 0 {
		return 0, false, nil
	}
	n, err := r.quietRead(nil, p, false, false)
	if err == rawread.ErrWouldBlock {
		return 0, false, nil
	}
	n, err = r.finish(n, err)
	return n, true, err
}

// quietRead is the rawReader's read. If quietOK it returns ErrQuiet once
// the pipe has been quiet for r.quiet (when set); a deadline left armed by
// an earlier wait is moved on or cleared, never reported.
func (r *stdoutPipe) quietRead(ib *idleBuf, p []byte, block, quietOK bool) (int, error) {
	quietOK = quietOK && r.quiet > 0
	if quietOK {
		r.idleSince = time.Now()
		if r.deadline.IsZero() {
			r.setDeadline(r.idleSince.Add(r.quiet))
		}
	}
	for {
		n, err := r.read(ib, p, block)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		switch {
		case !quietOK:
			r.setDeadline(time.Time{})
		case time.Since(r.idleSince) >= r.quiet:
			r.setDeadline(time.Time{})
			return 0, ErrQuiet
		default:
			r.setDeadline(r.idleSince.Add(r.quiet))
		}
	}
}

func (r *stdoutPipe) setDeadline(t time.Time) {
	r.deadline = t
	r.f.SetReadDeadline(t)
}

// finish returns the result of a read. It grows the pipe at the first bulk
// read, and records EOF.
func (r *stdoutPipe) finish(n int, err error) (int, error) {
	if !r.grown && n >= bulkSize {
		r.grown = true
		growPipe(r.rc)
	}
	if r.pty && errors.Is(err, syscall.EIO) {
		// A pty's master reads EIO once nothing holds the terminal open
		// (the hang-up), and only after what was written before it has
		// been read: its EOF.
		err = io.EOF
	}
	if err == io.EOF || err != nil && r.watch.closed.Load() {
		err = io.EOF
		r.eofOnce.Do(func() { close(r.eof) })
	}
	return n, err
}

// notify is NotifyStdout's.
func (r *stdoutPipe) notify(fn func()) bool { return r.watch.arm(fn) }

// close closes the pipe; a reader waiting for a NotifyStdout is started,
// to read EOF. It is supervise's, and may be called more than once.
func (r *stdoutPipe) close() {
	if fn := r.watch.close(r.f); fn != nil {
		go fn()
	}
}

// Package procio runs one child program and moves data between its pipes and
// messages. It knows nothing of WebSocket or HTTP: the server adapts a
// connection to the small Sink interface and picks a Codec.
//
// # Starting
//
// LookPath resolves the command once, at start-up. Start runs it with exactly
// the environment, argv and working directory in its Config, in a process
// group of its own (Setpgid) so that signals reach everything it forks. The
// pipes are handed to the child as *os.File, so reaping the child never
// closes the parent's ends; on Linux the child's ends are blocking and kept
// out of the runtime's poller from the start (childPipe).
//
// # Terminal
//
// With Config.Pty the program's stdout is a pseudo-terminal instead of a
// pipe, so that its C library (and Python, Perl, awk, grep...) sees a
// terminal and line-buffers its output rather than holding it until
// kilobytes pile up. This is how the program is started, not another way
// of relaying: procio reads the terminal's master as it reads a pipe
// (non-blocking, in the runtime's poller, watched for NotifyStdout), and
// the codecs know no difference. Only these differ:
//
//   - The terminal is in raw mode (cfmakeraw(3)): no output processing, so
//     a '\n' stays a '\n' (a terminal would write "\r\n"), no echo, eight
//     clean bits; what the program writes arrives byte for byte. Its window
//     size is Config.WindowSize (80 by 24 by default), which the program
//     reads with TIOCGWINSZ; the environment is the caller's to set (the
//     server adds TERM, COLUMNS and LINES).
//   - A master reads EIO, not EOF, once nothing holds the terminal open any
//     more; Linux hands out everything written before that first. procio
//     reads until then and takes EIO for EOF, so the last output before
//     exit is never lost.
//   - A terminal is never grown as a bulk pipe is (growPipe).
//
// stdin stays a pipe, so its EOF still tells the program its client left,
// and isatty(0) stays false (a program does not turn interactive). stderr
// stays a pipe too: the C library does not buffer stderr and Python
// line-buffers it, so a terminal would gain nothing, and one terminal for
// both would merge them.
//
// The terminal is not the program's controlling terminal: it is opened
// with O_NOCTTY and the program keeps the process group of its own it has
// in pipe mode (Setpgid, and no new session), so Stop signals and kills
// the group as before. Nothing then comes from the terminal itself: no
// SIGHUP when the master closes, no job-control stops (SIGTTOU), no ^C
// from it. A program that opens /dev/tty to ask for a password gets what
// it gets in pipe mode (the server's terminal, if it has one, or ENXIO)
// rather than waiting forever on a terminal that no one types into.
// Linux only: elsewhere Start refuses Pty.
//
// # Codecs
//
// The line codec (NewLineCodec) is websocketd's: each incoming message is
// written to stdin followed by '\n', in one write when it fits the buffer.
// Each stdout line becomes one text message without its '\n' and without a
// '\r' right before it (a final line that ends at EOF without a newline is
// still sent, and a trailing '\r' is dropped from it too, as bufio.ScanLines
// does). Empty lines are empty messages. A line longer than the buffer is
// not held whole: it is sent as a fragmented message whose last fragment is
// sent when the newline arrives. Every line of one read goes to the Sink
// before a single Flush, and Flush follows every read that produced
// something unless more output already waits in the pipe (then the next
// read's lines join the same Flush): lines ready together leave together,
// and a quiet program's line goes out at once.
//
// Codecs take their buffers from pools shared by every connection and hold
// none while the program is quiet: a read of an empty pipe gives its buffer
// back before it waits (in the runtime's poller), and a buffer goes back
// as soon as it holds nothing still needed.
//
// Text messages always carry valid UTF-8. The rule for output that is not:
// each invalid byte sequence is replaced by U+FFFD, one U+FFFD per maximal
// subpart of an ill-formed sequence, which is what a browser's TextDecoder
// (the WHATWG Encoding Standard's UTF-8 decoder) produces for the same
// bytes. A sequence split across two reads or two fragments is not invalid:
// up to three bytes of an incomplete rune are held back and completed by the
// next read, and so is a '\r' at a fragment boundary, as it may precede the
// '\n'. Only at EOF is an incomplete sequence replaced.
//
// The binary codec (NewBinaryCodec) writes payloads raw to stdin and turns
// each stdout read into one binary message.
//
// The json (NewJSONCodec) and length (NewLengthCodec) codecs carry exact
// messages both ways, with their type (Message.Binary): each message is one
// JSON object {"type":"text"|"binary","data":...} (binary data in base64),
// or a 9-byte header (type, then a big-endian 64-bit length) and its
// payload. Both stream what the program writes, a long message as fragments
// of at most a read, checking a text message's UTF-8 as it goes; the json
// codec streams into stdin too, and so does the length codec when the
// message's size is known before it is read (Message.SizeKnown), holding it
// whole otherwise. Output that breaks the framing is a *FramingError, and
// the message it is found in never gets its last fragment: a fragment
// already sent cannot be taken back, but the message stays unfinished.
// After a FramingError the codec's ReadMessages is not called again.
//
// Codec buffers are fixed in size and nothing is queued: a Sink that stalls
// stalls the stdout read, which stalls the program once the pipe is full.
//
// # Stderr
//
// Each stderr line goes to Config.Stderr without its newline (and a '\r'
// before it). Lines longer than 64 KiB are passed on in 64 KiB pieces, so a
// program writing a huge line never waits for a newline that procio cannot
// hold. With no callback the program's stderr is /dev/null.
//
// # Waiting
//
// A running program is waited on for things that come rarely: output on
// stderr, its exit, and output on a stdout that has gone quiet. On Linux
// one goroutine waits for them for every program (an epoll set, itself in
// the runtime's poller, holding each program's stderr, a pidfd, and stdout
// while a NotifyStdout is armed): the stderr reader runs only while stderr
// has something to read, and the reaper only once the program has exited,
// so a quiet program costs neither a goroutine nor a buffer. Elsewhere, or
// if epoll is unavailable, each waits in a goroutine of its own.
//
// Stdout's reader can let its goroutine go too. With Config.Quiet set, a
// codec's ReadMessages returns ErrQuiet once stdout has been quiet that long
// with nothing held back; the reader then calls Process.NotifyStdout, whose
// function runs in a new goroutine when output comes, at EOF, or when procio
// closes stdout, and calls ReadMessages again there. NotifyStdout reports
// false where there is no watcher; the reader then carries on reading
// itself.
//
// # Stopping
//
// Process.Stop closes stdin, waits Config.CloseGrace for the program to exit
// on its own, then sends SIGINT, waits KillGrace, sends SIGTERM, waits
// KillGrace and sends SIGKILL, each to the whole process group, stopping as
// soon as the program has exited. Once the program is reaped a final SIGKILL
// goes to its group, so nothing it forked survives. On Linux the exit is
// awaited on a pidfd before the reap, so a running program holds no OS
// thread (a wait alone blocks one in waitid). That pidfd is the one the
// fork gives, and the only one: a running program holds the server's
// ends of its pipes and that pidfd (os/exec would keep a second pidfd for
// its os.Process).
//
// When the program exits by itself while something it left behind still
// holds stdout open, the reader is not left waiting: procio gives stdout
// KillGrace to reach EOF, kills the group, and if EOF still has not come
// after another KillGrace closes the read end (a Read blocked in it then
// returns io.EOF). Until Stop is called the read end is only closed when the
// pipe holds no unread data (on Linux, where FIONREAD tells), so output the
// program wrote is never cut because its reader was slow. Once Stop is
// called the owner is done: the read end is closed as soon as the group is
// dead and nothing is left unread, or a KillGrace later regardless.
//
// # When the server dies
//
// On Linux every program is started with SIGKILL as its parent-death
// signal, so it dies with the process that started it however that
// process ends, when nothing gets to call Stop: a crash, SIGKILL, the OOM
// killer. The kernel sends that signal when the thread that forked the
// program exits, not its process, and the Go runtime ends a thread when a
// goroutine locked to it returns: procio forks every program from one
// thread it keeps for the life of the process, so that no thread ending
// under a live server kills its programs (startProcess has the reasoning).
//
// The signal reaches the program, not what it started: a grandchild lives
// on in the program's process group, reparented to init (or the nearest
// subreaper), until it ends by itself. Most do soon: its stdin, if it is
// the program's, is at EOF, and its first write to the program's stdout
// raises SIGPIPE, as nothing reads that pipe any more. One that neither
// reads nor writes (a sleep) runs its course. Doing better takes a process
// that outlives the server to kill the groups: a re-exec of the server in
// front of each program is too heavy for what it buys, and making the
// server a subreaper does not help, as it is the one that died. A
// supervisor that tracks every descendant does it: systemd kills the
// whole control group of a service whose main process died
// (KillMode=control-group, its default). The kernel also drops the signal
// when a program execs a set-user-ID or set-group-ID file, or one with
// file capabilities: such a program outlives the server.
//
// Elsewhere programs get no such signal. FreeBSD has one (procctl
// PROC_PDEATHSIG_CTL, which syscall sets from the same SysProcAttr field,
// and which follows the parent process rather than a thread), but wsexec
// is built and tested on Linux, so it is left unused rather than shipped
// untested; macOS has none. There a program outlives a server that dies
// without stopping it, and ends as a grandchild does on Linux.
//
// # Left out
//
// procio does not build the CGI environment, choose exit codes or close
// frames, limit incoming message sizes, or give the program a terminal;
// those belong to the server. (The exact codecs take the limit the server
// sets on what the program may send.) It runs on Unix only (process groups and signals).
package procio

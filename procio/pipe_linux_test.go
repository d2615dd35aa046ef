package procio

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pipeSize returns the capacity of the pipe of rc (F_GETPIPE_SZ).
func pipeSize(t *testing.T, rc syscall.RawConn) int {
	t.Helper()
	var n uintptr
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		n, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, 1032, 0) // F_GETPIPE_SZ
	})
	if errno != 0 {
		t.Fatalf("F_GETPIPE_SZ: %v", errno)
	}
	return int(n)
}

func TestPipesGrowForBulk(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		t.Skipf("pipe-max-size: %v", err)
	}
	if max, _ := strconv.Atoi(strings.TrimSpace(string(b))); max < bigPipeSize {
		t.Skipf("pipe-max-size is %d, below %d", max, bigPipeSize)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := r.SyscallConn()
	def := pipeSize(t, rc)
	r.Close()
	w.Close()

	p := start(t, helper("bulkout"))
	if _, err := p.Stdin().Write([]byte("short\n")); err != nil {
		t.Fatal(err)
	}
	if got := pipeSize(t, p.stdin.rc); got != def {
		t.Errorf("stdin after a short write: %d bytes, want the default %d", got, def)
	}
	if !eventually(10*time.Second, func() bool { return pipeBuffered(p.stdout.rc) > bulkSize }) {
		t.Fatal("the helper's 40 KiB line never filled stdout")
	}
	if got := pipeSize(t, p.stdout.rc); got != def {
		t.Errorf("stdout before it was read: %d bytes, want the default %d", got, def)
	}
	if n, err := p.Stdout().Read(make([]byte, 64<<10)); err != nil || n < bulkSize {
		t.Fatalf("read %d bytes, %v; want at least %d", n, err, bulkSize)
	}
	if got := pipeSize(t, p.stdout.rc); got != bigPipeSize {
		t.Errorf("stdout after a bulk read: %d bytes, want %d", got, bigPipeSize)
	}
	// The helper reads nothing: the write fits the default capacity.
	if _, err := p.Stdin().Write(make([]byte, bulkSize)); err != nil {
		t.Fatal(err)
	}
	if got := pipeSize(t, p.stdin.rc); got != bigPipeSize {
		t.Errorf("stdin after a bulk write: %d bytes, want %d", got, bigPipeSize)
	}
}

func init() { osHelpers["fdflags"] = fdflagsHelper }

// fdflagsHelper writes, for each of stdin, stdout and stderr, whether it
// blocks.
func fdflagsHelper([]string) int {
	for fd := range 3 {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
		switch {
		case errno != 0:
			fmt.Printf("%d %v\n", fd, errno)
		case flags&syscall.O_NONBLOCK != 0:
			fmt.Printf("%d non-blocking\n", fd)
		default:
			fmt.Printf("%d blocking\n", fd)
		}
	}
	return 0
}

// TestChildDescriptorsBlock checks that the program gets blocking pipes,
// as any program expects, while the server's ends are non-blocking.
func TestChildDescriptorsBlock(t *testing.T) {
	t.Parallel()
	cfg := helper("fdflags")
	cfg.Stderr = func([]byte) {}
	p := start(t, cfg)
	if out := within(t, 10*time.Second, readAll(p.Stdout()), "stdout"); out != "0 blocking\n1 blocking\n2 blocking\n" {
		t.Errorf("the program's descriptors:\n%s", out)
	}
	// The server's ends, of a program that runs until it is stopped: those
	// of one that has exited may be closed by now (stderr's at its EOF).
	cfg = helper("cat")
	cfg.Stderr = func([]byte) {}
	p = start(t, cfg)
	for _, f := range []*os.File{p.stdin.f, p.stdout.f, p.stderr} {
		if !nonBlocking(t, f) {
			t.Errorf("%s: the server's end blocks", f.Name())
		}
	}
}

// TestChildPipe checks the ends childPipe makes: the parent's in the
// runtime's poller, the child's in no epoll set, so that neither the
// runtime nor os/exec spends a system call on it.
func TestChildPipe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		childReads bool
	}{
		{"stdin", true},
		{"stdout", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := childPipe(tc.childReads)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			ours, theirs := r, w
			if tc.childReads {
				ours, theirs = w, r
			}
			if !nonBlocking(t, ours) || nonBlocking(t, theirs) {
				t.Errorf("ours non-blocking %v, theirs %v; want true, false", nonBlocking(t, ours), nonBlocking(t, theirs))
			}
			polled := polledFds(t)
			if !polled[fdOf(t, ours)] || polled[fdOf(t, theirs)] {
				t.Errorf("ours polled %v, theirs %v; want true, false", polled[fdOf(t, ours)], polled[fdOf(t, theirs)])
			}
		})
	}
}

// fdOf returns f's descriptor without changing its mode (as Fd would).
func fdOf(t *testing.T, f *os.File) int {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		t.Fatalf("%s: %v", f.Name(), err)
	}
	return fd
}

func nonBlocking(t *testing.T, f *os.File) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fdOf(t, f)), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatalf("F_GETFL: %v", errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}

// polledFds returns the descriptors that some epoll set of this process
// watches, from /proc/self/fdinfo ("tfd:" lines).
func polledFds(t *testing.T) map[int]bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	polled := map[int]bool{}
	for _, e := range fds {
		if link, _ := os.Readlink("/proc/self/fd/" + e.Name()); link != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		for line := range strings.Lines(string(info)) {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "tfd:" {
				n, _ := strconv.Atoi(f[1])
				polled[n] = true
			}
		}
	}
	return polled
}

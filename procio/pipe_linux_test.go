package procio

import (
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

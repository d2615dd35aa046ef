package procio

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParentDeathKillsProgram: a process that started a program with
// procio is killed outright (SIGKILL: no Stop, nothing deferred runs); the
// program, which ignores its stdin's EOF, SIGINT and SIGTERM, dies with it
// rather than run on as an orphan.
func TestParentDeathKillsProgram(t *testing.T) {
	t.Parallel()
	cfg := helper("parent")
	parent := &exec.Cmd{Path: cfg.Path, Args: cfg.Args, Env: cfg.Env}
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Wait()
	defer parent.Process.Kill() // on a failure before the kill below
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the parent's report of its program: %v", err)
	}
	pid := killDetached(t, line) // nothing but this test would kill it if the fix failed
	if gone(pid) {
		t.Fatalf("program %d gone before its parent", pid)
	}
	parent.Process.Kill()
	parent.Wait()
	if !eventually(10*time.Second, func() bool { return gone(pid) }) {
		t.Fatalf("program %d still running 10 s after its parent was killed", pid)
	}
}

// TestThreadExitSparesProgram: the parent-death signal goes out when the
// thread that forked the program exits, and the runtime ends a thread when
// a goroutine locked to it returns. A program started from such a goroutine
// must outlive its thread: procio forks from a thread of its own.
func TestThreadExitSparesProgram(t *testing.T) {
	t.Parallel()
	type started struct {
		p   *Process
		tid int
		err error
	}
	// The runtime parks the main thread rather than end it: a goroutine
	// that lands there holds it until the test ends, so that the next
	// one runs elsewhere.
	release := make(chan struct{})
	defer close(release)
	c := make(chan started, 1)
	var s started
	for range 2 {
		go func() {
			runtime.LockOSThread() // never undone off the main thread: the thread ends with this goroutine
			if tid := syscall.Gettid(); tid == syscall.Getpid() {
				c <- started{tid: tid}
				<-release
				runtime.UnlockOSThread()
				return
			}
			p, err := Start(helper("echo"))
			c <- started{p, syscall.Gettid(), err}
		}()
		if s = <-c; s.tid != syscall.Getpid() {
			break
		}
	}
	if s.p == nil && s.err == nil {
		t.Fatal("no goroutine ran off the main thread")
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	t.Cleanup(s.p.Stop)
	task := fmt.Sprintf("/proc/self/task/%d", s.tid)
	// The signal, if any, is sent as the thread exits, before its entry goes.
	if !eventually(10*time.Second, func() bool {
		_, err := os.Stat(task)
		return errors.Is(err, os.ErrNotExist)
	}) {
		t.Fatalf("thread %d did not end", s.tid)
	}
	if _, err := s.p.Stdin().Write([]byte("still here\n")); err != nil {
		t.Fatalf("write to the program: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(s.p.Stdout()).ReadString('\n')
		got <- line
	}()
	if line := within(t, 10*time.Second, got, "the echo"); strings.TrimSpace(line) != "still here" {
		t.Fatalf("echo %q: the program died with the thread that started it (%v)", line, ExitReason(s.p.Wait()))
	}
}

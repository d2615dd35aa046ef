package e2e

// wsexec built for a board's architecture and run under qemu-user, as
// `make cross` builds it: the binary runs through qemu-ARCH-static
// (Debian's qemu-user-static) directly, no binfmt_misc needed. qemu-user
// runs the guest inside its own process, so that process is the server:
// its pid is wsexec's, its children are wsexec's programs, and the
// programs (the host's cat) run natively, as the kernel execs them.
//
// What procio relies on works under qemu-user 7.2 (Debian 12), as its
// -strace shows (QEMU_STRACE=1 QEMU_LOG_FILENAME=FILE): pidfd_open, epoll,
// PR_SET_PDEATHSIG from the fork thread (a SIGKILLed server takes its
// programs along) and signals to process groups (the stop escalation). One
// call is refused: clone with CLONE_PIDFD (EINVAL), which package os tries
// once at the first start; it then starts programs without a pidfd of its
// own, and procio's (pidfd_open) is the only one.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// TestCrossQemu: for arm (v7), arm64 and mipsle (softfloat), the default
// and the tiny build (make tiny) each serve cat under qemu: a client on the host
// echoes a message, closes with 1000 and gets 1000 back, the program is
// reaped, and SIGTERM stops the server cleanly (exit status 0).
func TestCrossQemu(t *testing.T) {
	t.Parallel()
	targets := []struct {
		name string // as make cross names it, less the build ("tiny-")
		qemu string
	}{
		{"linux-armv7", "qemu-arm-static"},
		{"linux-arm64", "qemu-aarch64-static"},
		{"linux-mipsle-softfloat", "qemu-mipsel-static"},
	}
	// Subtests run one after another: each build takes both cores of a
	// 2-core machine, and the rest of the package runs beside this test.
	for _, tc := range targets {
		for _, build := range []string{"", "tiny-"} {
			name := build + tc.name
			t.Run(name, func(t *testing.T) {
				qemu, err := exec.LookPath(tc.qemu)
				requireClient(t, "qemu-user-static ("+tc.qemu+")", err)
				_, err = exec.LookPath("make")
				requireClient(t, "make", err)
				dir := t.TempDir()
				bin := filepath.Join(dir, "wsexec-"+name)
				mk := exec.Command("make", "--no-print-directory", "CROSSDIR="+dir, bin)
				mk.Dir = ".."
				if out, err := mk.CombinedOutput(); err != nil {
					t.Fatalf("make: %v\n%s", err, out)
				}
				echoUnder(t, qemu, bin)
			})
		}
	}
}

// echoUnder runs bin through the emulator qemu with cat and checks one
// connection's cycle and the server's stop.
func echoUnder(t *testing.T, qemu, bin string) {
	s := launchBinary(t, bin, nil, []string{qemu}, "--port=0", "--address=127.0.0.1", "cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "héllo from the host")
	kids := children(t, s.pid())
	if len(kids) != 1 || comm(kids[0]) != "cat" {
		t.Fatalf("children of the emulated server %v (%v), want one cat", kids, commOf(kids))
	}
	c.NetConn().SetDeadline(time.Now().Add(20 * time.Second))
	if err := c.WriteClose(wsproto.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	var ce *wsproto.CloseError
	if _, _, err := c.ReadMessage(nil); !errors.As(err, &ce) || ce.Code != wsproto.CloseNormal {
		t.Fatalf("want the server to echo close 1000, got %v", err)
	}
	waitFor(t, 10*time.Second, "cat to be reaped", func() bool {
		return len(children(t, s.pid())) == 0 && !alive(kids[0])
	})
	if err := s.stop(); err != nil {
		t.Fatalf("the emulated server on SIGTERM: %v, want exit status 0", err)
	}
}

// comm is the command name of pid, from /proc.
func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func commOf(pids []int) []string {
	var out []string
	for _, p := range pids {
		out = append(out, comm(p))
	}
	return out
}

// TestWindowsRefused: a Windows build of wsexec fails with one error, the
// reason (internal/rawread/rawread_windows.go).
func TestWindowsRefused(t *testing.T) {
	t.Parallel()
	build := exec.Command("go", "build", "-o", os.DevNull, ".")
	build.Dir = ".."
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err == nil {
		t.Fatal("GOOS=windows go build succeeded; want it refused with the reason")
	}
	const reason = "undefined: wsexec_does_not_build_for_Windows_it_needs_POSIX_process_groups_and_signals"
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], reason) {
		t.Fatalf("GOOS=windows go build: %v\n%s\nwant the package line and one error ending %q", err, out, reason)
	}
}

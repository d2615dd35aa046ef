package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestFileLimitWarning: at start-up wsexec warns, with the numbers and
// what to do, when its file descriptor limit cannot hold --maxforks
// connections; and does not when it can. A low soft limit under a high
// hard one is no reason to warn: the Go runtime raises the soft limit to
// the hard one.
func TestFileLimitWarning(t *testing.T) {
	t.Parallel()
	var own syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &own); err != nil {
		t.Fatal(err)
	}
	const warning = `level=WARN msg="file descriptor limit too low for maxforks"`
	tests := []struct {
		name    string
		ulimit  string // sh's ulimit arguments: -n sets both limits, -Sn the soft one
		args    []string
		want    []string // what the warning says; nil: no warning
		soft    string   // wsexec's soft limit once running, from /proc; "" unchecked
		minHard uint64   // the hard limit the case needs, else it is skipped
	}{
		{"too low for the default maxforks", "-n 200", nil,
			[]string{"limit=200 ", "need=5184 ", "maxforks=1024 ", "holds=27 ", "ulimit -n", "LimitNOFILE=", "--maxforks"}, "", 0},
		{"high enough for maxforks=10", "-n 200", []string{"--maxforks=10"}, nil, "", 0},
		{"low soft limit, raised to the hard one", "-Sn 200", nil, nil, strconv.FormatUint(uint64(own.Max)-1, 10), 10_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if uint64(own.Max) < tc.minHard {
				t.Skipf("the hard limit here, %d, is below %d", own.Max, tc.minHard)
			}
			wrapper := []string{"sh", "-c", `ulimit ` + tc.ulimit + ` && exec "$0" "$@"`}
			s := launchUnder(t, wrapper, append([]string{"--port=0", "--address=127.0.0.1"}, append(tc.args, "cat")...)...)
			// The check runs before the listening line, which launch waited for.
			var line string
			for l := range strings.SplitSeq(s.logText(), "\n") {
				if strings.Contains(l, warning) {
					line = l
				}
			}
			switch {
			case tc.want == nil && line != "":
				t.Fatalf("unexpected warning: %s", line)
			case tc.want != nil && line == "":
				t.Fatalf("no warning:\n%s", s.logText())
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("the warning does not say %q: %s", w, line)
				}
			}
			if got := softLimit(t, s.pid()); tc.soft != "" && got != tc.soft {
				t.Errorf("wsexec's soft limit is %s, want %s", got, tc.soft)
			}
		})
	}
}

// softLimit reads pid's soft RLIMIT_NOFILE from /proc.
func softLimit(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no open files line in /proc/%d/limits", pid)
	return ""
}

// TestDescriptorsPerConnection counts the server's descriptors while
// connections are held, by difference between two counts, so that what
// the first connection opens once (the watcher's epoll set, the fork
// thread) is left out: the socket, the three pipes and one pidfd, no
// more (docs/security.md gives operators the figure).
func TestDescriptorsPerConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	const n = 16
	hold := func() int {
		for range n {
			echo(t, dial(t, s.addr, "/", nil), "up")
		}
		return fdCount(t, s.pid())
	}
	first := hold()
	second := hold()
	if per := float64(second-first) / n; per > 5 {
		t.Fatalf("%.2f descriptors per connection (%d with %d connections, %d with %d), want at most 5",
			per, first, n, second, 2*n)
	}
}

package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// authScript writes a shell script and returns an authCommand running it.
func authScript(t *testing.T, body string, timeout time.Duration, max int64) *authCommand {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &authCommand{path: path, args: []string{path}, timeout: timeout, max: max}
}

// TestAuthCommand: what each way an auth command can end means.
func TestAuthCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		env    []string
		set    []string // when admitted
		status int      // when refused
		detail string
		header []string // WWW-Authenticate values
	}{
		{name: "admits", script: `[ "$QUERY_STRING" = "token=good" ] || exit 1`, env: []string{"QUERY_STRING=token=good"}},
		{name: "sets variables", script: "printf 'REMOTE_USER=alice\\r\\n\\nAUTH_TYPE=Bearer\\nAUTH_ROLE=admin=yes\\n'",
			set: []string{"REMOTE_USER=alice", "AUTH_TYPE=Bearer", "AUTH_ROLE=admin=yes"}},
		{name: "refuses", script: `[ "$QUERY_STRING" = "token=good" ] || { echo "bad token $QUERY_STRING" >&2; echo LINE2 >&2; exit 1; }`,
			env: []string{"QUERY_STRING=token=bad"}, status: 403, detail: "exit status 1: bad token token=bad"},
		{name: "challenges", script: "echo 'WWW-Authenticate: Bearer realm=\"x\"'; echo 'www-authenticate:Basic realm=\"y\"'; echo 'REMOTE_USER=ignored'; exit 2",
			status: 401, detail: "exit status 2", header: []string{`Bearer realm="x"`, `Basic realm="y"`}},
		{name: "a challenge that would split the header", script: "printf 'WWW-Authenticate: a\\001b\\n'; exit 1", status: 403},
		{name: "killed", script: "kill -9 $$", status: 403, detail: "signal: killed"},
		{name: "an unknown name", script: "echo PATH=/tmp", status: 500, detail: `line 1: want NAME=value`},
		{name: "a line without =", script: "echo ok", status: 500, detail: `"ok"`},
		{name: "a name twice", script: "echo AUTH_X=1; echo AUTH_X=2", status: 500, detail: "AUTH_X a second time"},
		{name: "too much output", script: "head -c 70000 /dev/zero | tr '\\0' 'x'", status: 500, detail: "more than 65536 bytes"},
		{name: "too slow", script: "sleep 30", status: 503, detail: "killed after 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			limit := 10 * time.Second
			if tc.status == http.StatusServiceUnavailable {
				limit = 300 * time.Millisecond
			}
			a := authScript(t, tc.script, limit, 4)
			start := time.Now()
			set, err := a.run(context.Background(), append([]string{"PATH=" + os.Getenv("PATH")}, tc.env...))
			if time.Since(start) > 8*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if tc.status == 0 {
				if err != nil || !slices.Equal(set, tc.set) {
					t.Fatalf("got %q %v, want %q admitted", set, err, tc.set)
				}
				return
			}
			var ae *authError
			if !errors.As(err, &ae) || ae.status != tc.status || !strings.Contains(ae.detail, tc.detail) {
				t.Fatalf("got %q %v, want %d with %q", set, err, tc.status, tc.detail)
			}
			if got := ae.header.Values("WWW-Authenticate"); !slices.Equal(got, tc.header) {
				t.Fatalf("challenges %q, want %q", got, tc.header)
			}
			if strings.Contains(ae.detail, "LINE2") {
				t.Fatalf("detail %q: more than stderr's first line", ae.detail)
			}
		})
	}
}

// TestAuthCommandLimit: over the limit of commands running at once a
// client gets 503 with Retry-After, and nothing more is run.
func TestAuthCommandLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "release")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	a := authScript(t, "echo >>"+filepath.Join(dir, "ran")+"; read x <"+fifo, 20*time.Second, 1)
	done := make(chan error, 1)
	go func() {
		_, err := a.run(context.Background(), nil)
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); a.running.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the first command never ran")
		}
		time.Sleep(time.Millisecond) // polling a counter
	}
	_, err := a.run(context.Background(), nil)
	var ae *authError
	if !errors.As(err, &ae) || ae.status != http.StatusServiceUnavailable || ae.header.Get("Retry-After") != "1" {
		t.Fatalf("second command: %v, want 503 with Retry-After", err)
	}
	if err := os.WriteFile(fifo, []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("first command: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ran")); string(b) != "\n" {
		t.Fatalf("ran %d times, want once", strings.Count(string(b), "\n"))
	}
	if a.running.Load() != 0 {
		t.Fatalf("%d still counted as running", a.running.Load())
	}
}

// TestAuthCommandLeavesNothing: what an auth command starts in the
// background is killed with it, whether it admits or is killed itself.
func TestAuthCommandLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, tail string }{{"admits", "exit 0"}, {"too slow", "sleep 30"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pidFile := filepath.Join(t.TempDir(), "pid")
			a := authScript(t, "sleep 60 >/dev/null 2>&1 & echo $! >"+pidFile+"\n"+tc.tail, 500*time.Millisecond, 1)
			a.run(context.Background(), nil)
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid := strings.TrimSpace(string(b))
			for deadline := time.Now().Add(10 * time.Second); ; {
				stat, err := os.ReadFile("/proc/" + pid + "/stat")
				if err != nil || strings.Contains(string(stat), ") Z ") {
					return // gone, or a zombie for init to reap
				}
				if time.Now().After(deadline) {
					t.Fatalf("the background sleep %s outlived its auth command", pid)
				}
				time.Sleep(5 * time.Millisecond) // polling /proc
			}
		})
	}
}

func TestIdentityApply(t *testing.T) {
	t.Parallel()
	who := identity{authType: authTypeBasic, user: "alice", hidePassword: true}
	got := who.apply([]string{"AUTH_ROLE=admin", "REMOTE_USER=bob"})
	want := identity{authType: authTypeBasic, user: "bob", extra: []string{"AUTH_ROLE=admin"}, hidePassword: true}
	if got.authType != want.authType || got.user != want.user || !slices.Equal(got.extra, want.extra) || !got.hidePassword {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

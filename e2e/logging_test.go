package e2e

// Where the log goes, and what it says at start-up.

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogTo: the log goes to stdout by default, as websocketd's, so that
// `wsexec ... >> wsexec.log` keeps one; --logto=stderr sends it to stderr
// and --logto=FILE appends it to FILE. Each run here starts, logs its
// listening line and is stopped; nothing else is on the other stream.
func TestLogTo(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "wsexec.log")
	if err := os.WriteFile(file, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags []string
		where string // stdout, stderr or file
	}{
		{"default", nil, "stdout"},
		{"stdout", []string{"--logto=stdout"}, "stdout"},
		{"stderr", []string{"--logto=stderr"}, "stderr"},
		{"file", []string{"--logto=" + file}, "file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--port=0", "--address=127.0.0.1"}, tc.flags...)
			where := tc.where
			if where == "file" {
				where = file
			}
			stdout, stderr := runUntilListening(t, where, append(args, "cat")...)
			var log, other string
			switch tc.where {
			case "stdout":
				log, other = stdout, stderr
			case "stderr":
				log, other = stderr, stdout
			default:
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				log, other = string(b), stdout+stderr
				if !strings.HasPrefix(log, "kept\n") {
					t.Errorf("--logto=FILE did not append: %q", log)
				}
			}
			if !strings.Contains(log, "msg=listening") || !strings.Contains(log, "msg=stopped") {
				t.Errorf("log on %s: %q, want the listening and stopped lines", tc.where, log)
			}
			if other != "" {
				t.Errorf("the other streams hold %q, want nothing", other)
			}
		})
	}
	runFail(t, "--logto "+filepath.Join(file, "x"), "--port=0", "--address=127.0.0.1", "--logto="+filepath.Join(file, "x"), "cat")
}

// runUntilListening runs wsexec with args until its listening line shows
// on where (stdout, stderr, or the path of the file it logs to), stops it
// with SIGTERM and returns what it wrote on stdout and stderr.
func runUntilListening(t *testing.T, where string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	collect := func(r io.ReadCloser, watch bool, seen chan<- struct{}) <-chan string {
		done := make(chan string, 1)
		go func() {
			defer r.Close()
			var b strings.Builder
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				b.WriteString(sc.Text() + "\n")
				if watch && strings.Contains(sc.Text(), "msg=listening") {
					seen <- struct{}{}
				}
			}
			done <- b.String()
		}()
		return done
	}
	seen := make(chan struct{}, 1)
	outText := collect(outR, where == "stdout", seen)
	errText := collect(errR, where == "stderr", seen)
	if where != "stdout" && where != "stderr" {
		waitFor(t, 10*time.Second, "the listening line in "+where, func() bool {
			b, _ := os.ReadFile(where)
			return strings.Contains(string(b), "msg=listening")
		})
	} else {
		select {
		case <-seen:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no listening line on %s within 10 s", where)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	stdout, stderr := <-outText, <-errText
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wsexec after SIGTERM: %v; stderr %q", err, stderr)
	}
	return stdout, stderr
}

// TestStartupURLs: the listening line names the URLs a person opens: the
// WebSocket endpoint, and the dev console's page when it is on.
func TestStartupURLs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--devconsole", "cat")
	for _, want := range []string{"url=ws://" + s.addr + "/", "console=http://" + s.addr + "/"} {
		if !strings.Contains(s.logText(), want) {
			t.Errorf("the log does not say %s:\n%s", want, s.logText())
		}
	}
	plain := startServer(t, "cat")
	if strings.Contains(plain.logText(), "console=") {
		t.Errorf("a console URL without --devconsole:\n%s", plain.logText())
	}
}

// TestDirWithoutScriptsWarns: --dir naming a directory with no executable
// in it (a wrong path, scripts without chmod +x) gets a warning at
// start-up naming the directory; one with a script does not.
func TestDirWithoutScriptsWarns(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "app.sh"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--dir="+empty)
	if !strings.Contains(s.logText(), "level=WARN msg=\"no executable file in the directory") || !strings.Contains(s.logText(), "dir="+empty) {
		t.Errorf("no warning naming %s:\n%s", empty, s.logText())
	}
	full := startServer(t, "--dir="+newRouteTree(t).ws)
	if strings.Contains(full.logText(), "level=WARN") {
		t.Errorf("a warning with scripts there:\n%s", full.logText())
	}
}

package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsexec/wsexec/handshake"
)

// Defaults for the auth command's limits (Config.AuthTimeout, AuthMaxForks).
const (
	DefaultAuthTimeout  = 5 * time.Second
	DefaultAuthMaxForks = 16
)

// authOutputLimit bounds what is kept of an auth command's stdout and
// stderr each; the rest is read and dropped.
const authOutputLimit = 64 << 10

// authCommand is --auth-command: a program run for each WebSocket
// connection once every earlier gate has passed, before the upgrade and
// before the connection's program starts, with the environment that
// program would get and stdin empty. What it says (docs/security.md has
// the same in the user's words):
//
//   - exit status 0 admits the client. Each stdout line NAME=value with
//     NAME REMOTE_USER, AUTH_TYPE or any other AUTH_* name sets that
//     variable for the program (REMOTE_USER and AUTH_TYPE replace what an
//     earlier gate set). Blank lines are skipped; any other line is a
//     broken auth command, refused with 500: a gate that cannot be
//     understood does not let anyone in.
//   - any other exit, or death by a signal, refuses: 401 with each stdout
//     line "WWW-Authenticate: challenge" as a header, if there is one,
//     else 403. The first line of stderr is logged as the reason; the
//     client is told only the status.
//   - still running after the time limit: its process group is killed,
//     503. Over the limit of commands running at once: 503 with
//     Retry-After, and nothing is run.
//
// The command runs in its own process group, and the group is killed once
// the command has exited, so nothing it starts outlives it.
type authCommand struct {
	path    string
	args    []string
	timeout time.Duration
	max     int64
	running atomic.Int64
}

// run runs the command for one connection with env, and returns the
// variables it set, or a refusal.
func (a *authCommand) run(ctx context.Context, env []string) ([]string, error) {
	if a.running.Add(1) > a.max {
		a.running.Add(-1)
		return nil, &authError{
			status: 503,
			reason: "too many authentications under way, try again",
			detail: fmt.Sprintf("--auth-maxforks=%d commands running", a.max),
			header: textproto.MIMEHeader{"Retry-After": {"1"}},
		}
	}
	defer a.running.Add(-1)

	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.path)
	cmd.Args = a.args
	cmd.Env = env
	var stdout, stderr cappedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Something the command started may hold its pipes open after it has
	// exited: os/exec stops waiting for them after this, and the group is
	// killed below.
	cmd.WaitDelay = 100 * time.Millisecond
	if err := cmd.Start(); err != nil {
		return nil, &authError{status: 500, reason: "cannot run the auth command", detail: err.Error()}
	}
	err := cmd.Wait()
	// The group id stays reserved while any member lives, so this reaches
	// only what the command left behind (as procio's final SIGKILL does).
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	why := firstLine(stderr.b.Bytes())
	var exitErr *exec.ExitError
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &authError{status: 503, reason: "the authentication took too long",
			detail: fmt.Sprintf("killed after %v (--auth-timeoutms)", a.timeout)}
	case err != nil && ctx.Err() != nil:
		return nil, &authError{status: 503, reason: "the authentication was cut short",
			detail: "the client left"}
	case errors.As(err, &exitErr):
		return nil, refusedBy(exitErr, why, stdout.b.Bytes())
	case err != nil && !errors.Is(err, exec.ErrWaitDelay):
		return nil, &authError{status: 500, reason: "the auth command failed", detail: err.Error()}
	}
	set, err := parseAuthOutput(stdout.b.Bytes(), stdout.cut)
	if err != nil {
		return nil, &authError{status: 500, reason: "the auth command failed", detail: err.Error()}
	}
	return set, nil
}

// refusedBy is the refusal of a command that exited with a status other
// than 0, or was killed: 401 if it printed challenges, else 403.
func refusedBy(exitErr *exec.ExitError, why string, stdout []byte) error {
	detail := exitErr.Error() // "exit status 1", "signal: killed"
	if why != "" {
		detail += ": " + why
	}
	e := &authError{status: 403, reason: "not allowed", detail: detail}
	for line := range bytes.Lines(stdout) {
		name, value, ok := strings.Cut(strings.TrimRight(string(line), "\r\n"), ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "WWW-Authenticate") {
			continue
		}
		value = strings.TrimSpace(value)
		if handshake.CheckHeader("WWW-Authenticate", value) != nil || value == "" {
			continue
		}
		if e.header == nil {
			e.status, e.reason, e.header = 401, "authentication required", textproto.MIMEHeader{}
		}
		e.header.Add("WWW-Authenticate", value)
	}
	return e
}

// parseAuthOutput reads an admitting command's stdout: NAME=value lines,
// each name at most once, NAME one of authNames.
func parseAuthOutput(out []byte, cut bool) ([]string, error) {
	if cut {
		return nil, fmt.Errorf("more than %d bytes on stdout", authOutputLimit)
	}
	var set []string
	seen := map[string]bool{}
	n := 0
	for line := range bytes.Lines(out) {
		n++
		l := strings.TrimRight(string(line), "\r\n")
		if strings.TrimSpace(l) == "" {
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		switch {
		case !ok || !authName(name):
			return nil, fmt.Errorf("stdout line %d: want NAME=value with NAME REMOTE_USER, AUTH_TYPE or AUTH_*, got %s", n, quote(l))
		case seen[name]:
			return nil, fmt.Errorf("stdout line %d: %s a second time", n, name)
		}
		seen[name] = true
		set = append(set, name+"="+sanitizeValue(value))
	}
	return set, nil
}

// authName reports whether an auth command may set the variable name.
func authName(name string) bool {
	return name == "REMOTE_USER" || strings.HasPrefix(name, "AUTH_") && validEnvName(name)
}

// apply returns who with the variables an auth command set.
func (who identity) apply(set []string) identity {
	var extra []string
	for _, kv := range set {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "REMOTE_USER":
			who.user = value
		case "AUTH_TYPE":
			who.authType = value
		default:
			extra = append(extra, kv)
		}
	}
	who.extra = extra
	return who
}

// firstLine is the first line of b, cut to 200 bytes, without control
// characters.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if len(line) > 200 {
		line = append(line[:200:200], "..."...)
	}
	return sanitizeValue(string(line))
}

// cappedBuffer keeps the first authOutputLimit bytes written to it and
// drops the rest, noting that it did: what a command prints cannot grow
// the server's memory.
type cappedBuffer struct {
	b   bytes.Buffer
	cut bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := authOutputLimit - c.b.Len(); len(p) > room {
		c.b.Write(p[:room])
		c.cut = true
		return len(p), nil
	}
	return c.b.Write(p)
}

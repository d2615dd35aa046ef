package e2e

// Real third-party clients driving the real wsexec binary: headless
// Chromium (its own WebSocket, through the DevTools protocol), Node's `ws`
// package and Python's `websockets`. Each client runs the same scenarios
// from a small driver under testdata/clients that prints what it saw as
// JSON; the assertions are here. A missing client skips its tests, unless
// WSEXEC_REQUIRE_PEERS=1 (CI), where it fails them. .ci/run installs them;
// WSEXEC_CHROMIUM, WSEXEC_NODE_MODULES and WSEXEC_PYTHON point elsewhere.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// clientText is the non-ASCII text every driver sends (the same literal is
// in each of them): accents, a symbol, CJK and a character outside the BMP.
const clientText = "héllo wörld ✓ — 日本語 😀"

// requireClient skips t when a third-party client is unusable, or fails it
// when WSEXEC_REQUIRE_PEERS=1, where every client must be installed.
func requireClient(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("WSEXEC_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s is required (WSEXEC_REQUIRE_PEERS=1) but unusable: %v", name, err)
	}
	t.Skipf("%s not available, skipping (.ci/run installs it; WSEXEC_REQUIRE_PEERS=1 makes this a failure): %v", name, err)
}

// probe runs a short command and reports why it failed, with its output.
func probe(env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, errorLine(out))
	}
	return nil
}

// errorLine picks the line that says what went wrong out of a traceback.
func errorLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		if strings.Contains(l, "Error:") {
			return strings.TrimSpace(l)
		}
	}
	return lines[len(lines)-1]
}

// nodeWS finds node and a node_modules folder holding ws: $WSEXEC_NODE_MODULES,
// else .ci/node/node_modules (where .ci/run installs it), else node's own
// search path. It returns the environment to run node with.
var nodeWS = sync.OnceValues(func() ([]string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, err
	}
	env := os.Environ()
	dir := os.Getenv("WSEXEC_NODE_MODULES")
	if dir == "" {
		if abs, err := filepath.Abs("../.ci/node/node_modules"); err == nil {
			if _, err := os.Stat(abs); err == nil {
				dir = abs
			}
		}
	}
	if dir != "" {
		np := dir
		if old := os.Getenv("NODE_PATH"); old != "" {
			np += string(os.PathListSeparator) + old
		}
		env = append(env, "NODE_PATH="+np)
	}
	if err := probe(env, "node", "-e", "require('ws')"); err != nil {
		return nil, err
	}
	return env, nil
})

// pythonWS finds a Python that can import websockets: $WSEXEC_PYTHON, else
// /usr/bin/python3 (Debian's python3-websockets), else python3 on PATH
// (which may be a pyenv interpreter without it).
var pythonWS = sync.OnceValues(func() (string, error) {
	var errs []error
	for _, py := range []string{os.Getenv("WSEXEC_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		err := probe(os.Environ(), py, "-c", "import websockets")
		if err == nil {
			return py, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
})

// chromiumPath finds the browser: $WSEXEC_CHROMIUM, else /usr/bin/chromium,
// else chromium on PATH.
var chromiumPath = sync.OnceValues(func() (string, error) { return peerBinary("WSEXEC_CHROMIUM", "/usr/bin/chromium", "chromium") })

// clientResult is what a driver reports; each scenario fills some fields.
type clientResult struct {
	Extensions     string   `json:"extensions"` // negotiated Sec-WebSocket-Extensions
	Echo           string   `json:"echo"`
	Len            int      `json:"len"`
	Same           bool     `json:"same"`
	Pong           string   `json:"pong"`
	Code           int      `json:"code"` // close code the client received
	Reason         string   `json:"reason"`
	WasClean       *bool    `json:"wasClean"` // browser only
	Messages       []string `json:"messages"`
	Status         int      `json:"status"`         // handshake response status
	ProtocolHeader *string  `json:"protocolHeader"` // Sec-WebSocket-Protocol answered, nil if none
	Protocol       string   `json:"protocol"`
	Error          string   `json:"error"`
	Repetitive     bool     `json:"repetitive"`
	Random         bool     `json:"random"`
}

// A clientCase is one scenario: the driver's scenario name, the program
// wsexec serves, and what the client must have seen.
type clientCase struct {
	name     string
	scenario string
	command  []string
	check    func(t *testing.T, s *instance, r clientResult)
}

var clientCases = []clientCase{
	{"non-ASCII echo", "echo", []string{"cat"}, func(t *testing.T, _ *instance, r clientResult) {
		if r.Echo != clientText || r.Code != 1000 {
			t.Fatalf("echo %q, close %d; want %q and 1000", r.Echo, r.Code, clientText)
		}
	}},
	{"1 MiB message", "large", []string{"cat"}, func(t *testing.T, _ *instance, r clientResult) {
		if r.Len != 1<<20 || !r.Same {
			t.Fatalf("echo of 1 MiB: %d bytes back, identical %v", r.Len, r.Same)
		}
	}},
	{"ping", "ping", []string{"cat"}, func(t *testing.T, _ *instance, r clientResult) {
		if r.Pong != "p1" || r.Echo != clientText {
			t.Fatalf("pong %q, echo %q; want p1 and %q", r.Pong, r.Echo, clientText)
		}
	}},
	{"client close with code and reason", "close", []string{"cat"}, func(t *testing.T, s *instance, r clientResult) {
		// wsproto echoes the peer's code with no reason (RFC 6455 §5.5.1).
		if r.Code != 4000 || r.Reason != "" {
			t.Fatalf("close %d %q back from the server, want 4000 and no reason", r.Code, r.Reason)
		}
		if r.WasClean != nil && !*r.WasClean {
			t.Fatal("the browser saw an unclean close")
		}
		waitFor(t, 5*time.Second, "the program to be stopped", func() bool { return len(children(t, s.pid())) == 0 })
	}},
	{"program exits 0", "serverclose", []string{"sh", "-c", "echo bye; exit 0"}, func(t *testing.T, _ *instance, r clientResult) {
		if !slices.Equal(r.Messages, []string{"bye"}) || r.Code != 1000 || r.Reason != "" {
			t.Fatalf("messages %q, close %d %q; want [bye] and 1000 with no reason", r.Messages, r.Code, r.Reason)
		}
	}},
	{"program exits 3", "serverclose", []string{"sh", "-c", "echo bye; exit 3"}, func(t *testing.T, _ *instance, r clientResult) {
		if !slices.Equal(r.Messages, []string{"bye"}) || r.Code != 1011 || r.Reason != "exit status 3" {
			t.Fatalf("messages %q, close %d %q; want [bye] and 1011 \"exit status 3\"", r.Messages, r.Code, r.Reason)
		}
		if r.WasClean != nil && !*r.WasClean {
			t.Fatal("the browser saw an unclean close")
		}
	}},
	{"subprotocol offered, none configured", "subprotocol", []string{"cat"}, func(t *testing.T, s *instance, r clientResult) {
		// With no --subprotocol the server answers the client's first
		// offer: ws and Chromium fail a 101 naming none once they offered
		// some (websocketd's answer), so it must name one they offered.
		checkSubprotocol(t, s, r, "chat.v1")
	}},
	{"subprotocol chosen by the server", "subprotocol", []string{"--subprotocol=superchat,chat.v1", "cat"}, func(t *testing.T, s *instance, r clientResult) {
		checkSubprotocol(t, s, r, "superchat") // the server's preference, not the client's order
	}},
	{"permessage-deflate", "compress", []string{"cat"}, func(t *testing.T, _ *instance, r clientResult) {
		// The client offers the extension, it is negotiated, and large
		// repetitive and random messages survive it.
		if !r.Repetitive || !r.Random {
			t.Errorf("echo of 1 MiB repetitive text intact: %v; of 256 KiB random text: %v", r.Repetitive, r.Random)
		}
		if !strings.Contains(r.Extensions, "permessage-deflate") {
			t.Errorf("negotiated extensions %q, want permessage-deflate", r.Extensions)
		}
	}},
}

// checkSubprotocol checks a subprotocol scenario: the client offered
// chat.v1 then superchat, connected with want answered, and echoed.
func checkSubprotocol(t *testing.T, s *instance, r clientResult, want string) {
	t.Helper()
	if r.Error != "" || r.Protocol != want || r.Echo != clientText {
		t.Fatalf("error %q, protocol %q, echo %q; want none, %q and %q", r.Error, r.Protocol, r.Echo, want, clientText)
	}
	if r.Status != 101 {
		t.Fatalf("handshake status %d, want 101", r.Status)
	}
	if r.ProtocolHeader == nil || *r.ProtocolHeader != want {
		t.Fatalf("Sec-WebSocket-Protocol %v in the answer, want %q", r.ProtocolHeader, want)
	}
	waitFor(t, 5*time.Second, "the server to log the subprotocol", func() bool {
		return strings.Contains(s.logText(), "subprotocol="+want)
	})
}

// runClientCases runs cases in parallel, each against its own server, with
// run driving the client against the server's URL.
func runClientCases(t *testing.T, client string, cases []clientCase, run func(t *testing.T, url, scenario string) clientResult) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tc.command...)
			r := run(t, "ws://"+s.addr+"/", tc.scenario)
			t.Logf("%s negotiated extensions %q", client, r.Extensions)
			tc.check(t, s, r)
		})
	}
}

// runDriver runs a driver script and decodes the JSON it prints.
func runDriver(t *testing.T, env []string, argv ...string) clientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", strings.Join(argv, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	var r clientResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%s: output %q: %v", strings.Join(argv, " "), stdout.Bytes(), err)
	}
	return r
}

func nodeRunner(t *testing.T) func(t *testing.T, url, scenario string) clientResult {
	env, err := nodeWS()
	requireClient(t, "node with the ws package", err)
	return func(t *testing.T, url, scenario string) clientResult {
		return runDriver(t, env, "node", "testdata/clients/node_client.js", url, scenario)
	}
}

func pythonRunner(t *testing.T) func(t *testing.T, url, scenario string) clientResult {
	py, err := pythonWS()
	requireClient(t, "python3 with websockets", err)
	return func(t *testing.T, url, scenario string) clientResult {
		return runDriver(t, os.Environ(), py, "testdata/clients/py_client.py", url, scenario)
	}
}

func TestNodeWSClient(t *testing.T) {
	t.Parallel()
	runClientCases(t, "node", clientCases, nodeRunner(t))
}

func TestPythonWebsocketsClient(t *testing.T) {
	t.Parallel()
	runClientCases(t, "python", clientCases, pythonRunner(t))
}

// browser is a headless Chromium and a DevTools protocol connection to it.
type browser struct {
	addr   string // host:port of the DevTools endpoint
	cdp    *cdpConn
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's result
	stderr *stderrWatch
	dir    string // the profile (--user-data-dir)
}

// devtoolsRE matches the line Chromium prints on stderr once DevTools listens.
var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// stderrWatch keeps Chromium's stderr and reports the DevTools URL once.
type stderrWatch struct {
	url  chan string // gets the URL once; never reassigned
	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

func (w *stderrWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 1<<20 {
		w.buf.Write(p)
	}
	if w.sent { // the URL is out: keep the text, skip the search
		return len(p), nil
	}
	if m := devtoolsRE.FindSubmatch(w.buf.Bytes()); m != nil {
		w.url <- string(m[1]) // buffered, once
		w.sent = true
	}
	return len(p), nil
}

func (w *stderrWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// chromiumShared is the one browser the Chromium tests share, since
// starting one costs more than the tests themselves: the first test to
// need it starts it, the last one to finish stops it.
var chromiumShared struct {
	mu    sync.Mutex
	b     *browser
	users int
}

// useChromium returns the shared browser, starting it if need be; a cleanup
// stops it once no test uses it.
func useChromium(t *testing.T) *browser {
	t.Helper()
	bin, err := chromiumPath()
	requireClient(t, "chromium", err)
	cs := &chromiumShared
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.b == nil {
		b, err := startChromium(bin)
		if err != nil {
			requireClient(t, "chromium", err)
		}
		cs.b = b
	}
	cs.users++
	b := cs.b
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium stderr so far:\n%s", b.stderr.String())
		}
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if cs.users--; cs.users == 0 {
			cs.b = nil
			if err := b.stop(); err != nil {
				t.Error(err)
			}
		}
	})
	return b
}

// startChromium runs headless Chromium in its own process group and
// connects to its DevTools endpoint.
func startChromium(bin string) (*browser, error) {
	dir, err := os.MkdirTemp("", "wsexec-chromium-")
	if err != nil {
		return nil, err
	}
	b := &browser{dir: dir, exited: make(chan error, 1), stderr: &stderrWatch{url: make(chan string, 1)}}
	b.cmd = exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-breakpad", "--disable-crash-reporter", "--disable-dev-shm-usage",
		"--user-data-dir="+dir, "--remote-debugging-port=0", "about:blank")
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.Stdout, b.cmd.Stderr = b.stderr, b.stderr
	b.cmd.WaitDelay = 5 * time.Second // a renderer may hold the pipe a little longer
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { b.exited <- b.cmd.Wait() }()
	fail := func(err error) (*browser, error) {
		if serr := b.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, fmt.Errorf("%w\n%s", err, b.stderr.String())
	}
	var wsURL string
	select {
	case wsURL = <-b.stderr.url:
	case err := <-b.exited:
		b.exited <- err
		return fail(fmt.Errorf("chromium exited before DevTools listened: %v", err))
	case <-time.After(30 * time.Second):
		return fail(errors.New("chromium did not print its DevTools URL within 30 s"))
	}
	u, err := url.Parse(wsURL)
	if err != nil {
		return fail(err)
	}
	b.addr = u.Host
	if b.cdp, err = dialCDP(b.addr, u.Path); err != nil {
		return fail(err)
	}
	return b, nil
}

// stop kills the browser's process group, reaps it and removes its profile.
func (b *browser) stop() error {
	if b.cdp != nil {
		b.cdp.c.Close()
	}
	pgid := b.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case err := <-b.exited:
		b.exited <- err
	case <-time.After(20 * time.Second):
		return errors.New("chromium not reaped 20 s after SIGKILL")
	}
	// The group's other processes were killed with it: wait for them to be
	// gone (zombies left to init do not count) before removing the profile.
	for deadline := time.Now().Add(10 * time.Second); groupAlive(pgid); {
		if time.Now().After(deadline) {
			return fmt.Errorf("chromium's process group %d still alive 10 s after SIGKILL", pgid)
		}
		time.Sleep(10 * time.Millisecond) // polling /proc, not synchronising
	}
	return os.RemoveAll(b.dir)
}

// groupAlive reports whether a process of group pgid is still running
// (not a zombie).
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) >= 3 && fields[0] != "Z" && fields[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

// cdpConn is a DevTools protocol connection over our own WebSocket client.
// Calls are serialised: one request, then reads until its response
// (events, which nothing here enables, are skipped).
type cdpConn struct {
	mu   sync.Mutex
	c    *wsproto.Conn
	next int
}

func dialCDP(addr, path string) (*cdpConn, error) {
	c, resp, err := wstest.Dial(addr, path, nil)
	if err != nil {
		return nil, fmt.Errorf("DevTools %s%s: %w", addr, path, err)
	}
	if c == nil {
		return nil, fmt.Errorf("DevTools %s%s: status %s", addr, path, resp.Status)
	}
	return &cdpConn{c: c}, nil
}

// call sends a command and decodes its result into result (if not nil).
func (cc *cdpConn) call(method string, params, result any) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.next++
	id := cc.next
	req, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	cc.c.NetConn().SetDeadline(time.Now().Add(40 * time.Second))
	defer cc.c.NetConn().SetDeadline(time.Time{})
	if err := cc.c.WriteMessage(wsproto.OpText, req); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if err := cc.c.Flush(); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for range 100_000 {
		_, p, err := cc.c.ReadMessage(nil)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
				Data    string `json:"data"`
			} `json:"error"`
		}
		if json.Unmarshal(p, &resp) != nil || resp.ID != id {
			continue
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s %s", method, resp.Error.Message, resp.Error.Data)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(resp.Result, result)
	}
	return fmt.Errorf("%s: no response among 100000 messages", method)
}

// newPage opens a tab on pageURL and connects to it; a cleanup closes it.
func (b *browser) newPage(t *testing.T, pageURL string) *cdpConn {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.cdp.call("Target.createTarget", map[string]any{"url": pageURL}, &target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.cdp.call("Target.closeTarget", map[string]any{"targetId": target.TargetID}, nil)
	})
	page, err := dialCDP(b.addr, "/devtools/page/"+target.TargetID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { page.c.Close() })
	return page
}

// jsWait is prepended to page scripts: waitUntil(cond, ms) resolves with
// cond's first truthy value, checking every 10 ms, and rejects after ms.
const jsWait = `function waitUntil(cond, ms) {
  return new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    (function tick() {
      let v;
      try { v = cond(); } catch (e) {}
      if (v) { return resolve(v); }
      if (Date.now() > end) { return reject(new Error("timed out waiting for " + cond)); }
      setTimeout(tick, 10);
    })();
  });
}
`

// evaluate runs expr in the page, awaits the promise it returns (bounded at
// 25 s inside the page) and decodes its JSON value into result.
func (cc *cdpConn) evaluate(expr string, result any) error {
	bounded := fmt.Sprintf(`Promise.race([(async () => { %s })(),
  new Promise((_, reject) => setTimeout(() => reject(new Error("page script timed out after 25 s")), 25000))])`, expr)
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := cc.call("Runtime.evaluate", map[string]any{
		"expression": bounded, "awaitPromise": true, "returnByValue": true,
	}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("page script: %s %s", e.Text, e.Exception.Description)
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(res.Result.Value, result)
}

// browserJS is the page-free client: testdata/clients/browser_client.js.
var browserJS = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/clients/browser_client.js")
	return string(b), err
})

func chromiumRunner(t *testing.T) func(t *testing.T, url, scenario string) clientResult {
	js, err := browserJS()
	if err != nil {
		t.Fatal(err)
	}
	b := useChromium(t)
	return func(t *testing.T, wsURL, scenario string) clientResult {
		page := b.newPage(t, "about:blank")
		var r clientResult
		expr := fmt.Sprintf("%s\nreturn await wsexecClient(%q, %q);", js, wsURL, scenario)
		if err := page.evaluate(expr, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func TestChromiumClient(t *testing.T) {
	t.Parallel()
	var cases []clientCase
	for _, tc := range clientCases {
		if tc.scenario != "ping" { // a page cannot send pings
			cases = append(cases, tc)
		}
	}
	runClientCases(t, "chromium", cases, chromiumRunner(t))
}

// openConsole opens the dev console of server s in a new tab and waits
// until its script has run.
func openConsole(t *testing.T, b *browser, s *instance) *cdpConn {
	t.Helper()
	return openPage(t, b, "http://"+s.addr+"/", "window.wsexecConsole")
}

// openPage opens pageURL in a new tab and waits until it is loaded and the
// JavaScript expression ready is true in it.
func openPage(t *testing.T, b *browser, pageURL, ready string) *cdpConn {
	t.Helper()
	page := b.newPage(t, pageURL)
	// The first evaluations may land in the initial about:blank document
	// or in one being replaced; poll until the page's is there.
	waitFor(t, 20*time.Second, pageURL+" to load", func() bool {
		var href string
		err := page.evaluate(`return (`+ready+`) && document.readyState === "complete" ? location.href : ""`, &href)
		return err == nil && href == pageURL
	})
	return page
}

// screenshot saves what page shows as a PNG named name, in
// $WSEXEC_SCREENSHOTS when it is set (to look at them), else in the
// test's temporary directory, and logs where. A page that cannot be
// captured fails the test.
func screenshot(t *testing.T, page *cdpConn, name string) {
	t.Helper()
	dir := os.Getenv("WSEXEC_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := page.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 900, "height": 520, "deviceScaleFactor": 1, "mobile": false,
	}, nil); err != nil {
		t.Fatal(err)
	}
	var shot struct {
		Data []byte `json:"data"` // base64 in JSON, decoded by encoding/json
	}
	if err := page.call("Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	if len(shot.Data) < 8 || string(shot.Data[1:4]) != "PNG" {
		t.Fatalf("screenshot %s: not a PNG (%d bytes)", name, len(shot.Data))
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, shot.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

func TestChromiumDevConsole(t *testing.T) {
	t.Parallel()
	b := useChromium(t)

	t.Run("greeter: send, echo, disconnect, reconnect", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "--devconsole", "../examples/bash/greeter.sh")
		page := openConsole(t, b, s)
		var r struct {
			URL, Status, Extensions string
			Echo                    string
			Out, In                 []string
			Closed                  struct {
				Status   string
				Code     int
				Reason   string
				WasClean bool
			}
			ButtonsAfterClose struct{ Send, Close, Connect bool } // disabled
			Again             []string
		}
		err := page.evaluate(jsWait+`
const c = window.wsexecConsole, $ = (id) => document.getElementById(id);
const texts = (sel) => Array.from(document.querySelectorAll(sel), (e) => e.getAttribute("data-text"));
await waitUntil(() => $("status").textContent === "open", 15000);
const r = { url: $("url").value, status: $("status").textContent, extensions: $("extensions").textContent };
$("input").value = "W\u00f6rld \u2713";
$("send").click();
r.echo = await waitUntil(() => c.messages[0], 15000);
r.out = texts("#log .msg.out");
r.in = texts("#log .msg.in");
$("close").click();
const ev = await waitUntil(() => c.closeEvent, 15000);
r.closed = { status: $("status").textContent, code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
r.buttonsAfterClose = { send: $("send").disabled, close: $("close").disabled, connect: $("connect").disabled };
$("connect").click();
await waitUntil(() => $("status").textContent === "open", 15000);
$("input").value = "again";
$("input").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
await waitUntil(() => c.messages.length === 2, 15000);
r.again = c.messages.slice();
$("close").click();
await waitUntil(() => c.closeEvent, 15000);
return r;`, &r)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("chromium negotiated extensions %q", r.Extensions)
		if want := "ws://" + s.addr + "/"; r.URL != want || r.Status != "open" {
			t.Errorf("#url %q, #status %q; want %q and open", r.URL, r.Status, want)
		}
		if r.Echo != "Hello, Wörld ✓!" {
			t.Errorf("greeter answered %q", r.Echo)
		}
		if !slices.Equal(r.Out, []string{"Wörld ✓"}) || !slices.Equal(r.In, []string{"Hello, Wörld ✓!"}) {
			t.Errorf("log shows out %q, in %q", r.Out, r.In)
		}
		if c := r.Closed; c.Status != "closed 1000" || c.Code != 1000 || !c.WasClean {
			t.Errorf("after Disconnect: #status %q, close %d %q clean %v; want closed 1000, clean", c.Status, c.Code, c.Reason, c.WasClean)
		}
		if bt := r.ButtonsAfterClose; !bt.Send || !bt.Close || bt.Connect {
			t.Errorf("after Disconnect, disabled buttons: %+v; want only Reconnect enabled", bt)
		}
		if !slices.Equal(r.Again, []string{"Hello, Wörld ✓!", "Hello, again!"}) {
			t.Errorf("after Reconnect and Enter: messages %q", r.Again)
		}
		if n := strings.Count(s.logText(), "msg=connect "); n != 2 {
			t.Errorf("server logged %d connections, want 2", n)
		}
		waitFor(t, 5*time.Second, "both greeters to be stopped", func() bool { return len(children(t, s.pid())) == 0 })
	})

	t.Run("program exit shows its close", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "--devconsole", "sh", "-c", `read name; echo "bye $name"; exit 3`)
		page := openConsole(t, b, s)
		var r struct {
			Messages []string
			Status   string
			Bad      bool
			Code     int
			Reason   string
		}
		err := page.evaluate(jsWait+`
const c = window.wsexecConsole, $ = (id) => document.getElementById(id);
await waitUntil(() => $("status").textContent === "open", 15000);
$("input").value = "x";
$("send").click();
const ev = await waitUntil(() => c.closeEvent, 15000);
return { messages: c.messages, status: $("status").textContent, bad: $("status").classList.contains("bad"),
  code: ev.code, reason: ev.reason };`, &r)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Messages, []string{"bye x"}) || r.Code != 1011 || r.Reason != "exit status 3" {
			t.Errorf("messages %q, close %d %q; want [bye x], 1011 exit status 3", r.Messages, r.Code, r.Reason)
		}
		if r.Status != "closed 1011 exit status 3" || !r.Bad {
			t.Errorf("#status %q (marked bad %v), want closed 1011 exit status 3, marked bad", r.Status, r.Bad)
		}
	})

	t.Run("--dir: listing, a script's console, an edited URL", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for name, body := range map[string]string{
			"echo.sh":        "#!/bin/sh\necho \"path=$PATH_INFO query=$QUERY_STRING\"\nwhile read -r l; do echo \"echo: $l\"; done\n",
			"rooms/lobby.sh": "#!/bin/sh\necho lobby\n",
		} {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		s := startServer(t, "--devconsole", "--dir="+dir)
		list := openPage(t, b, "http://"+s.addr+"/", `document.getElementById("entries")`)
		var entries struct{ Scripts, Dirs []string }
		if err := list.evaluate(`const hrefs = (sel) => Array.from(document.querySelectorAll(sel), (a) => a.getAttribute("href"));
return { scripts: hrefs("a.script"), dirs: hrefs("a.dir") };`, &entries); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(entries.Scripts, []string{"/echo.sh"}) || !slices.Equal(entries.Dirs, []string{"/rooms/"}) {
			t.Errorf("the listing of / links scripts %q and directories %q; want [/echo.sh] and [/rooms/]", entries.Scripts, entries.Dirs)
		}
		screenshot(t, list, "devconsole-dir-listing")

		page := openPage(t, b, "http://"+s.addr+"/echo.sh", "window.wsexecConsole")
		var r struct{ First, Edited, Echo, URL string }
		err := page.evaluate(jsWait+`
const c = window.wsexecConsole, $ = (id) => document.getElementById(id);
await waitUntil(() => c.messages.length === 1, 15000);
const r = { first: c.messages[0] };
$("url").value = "http://`+s.addr+`/echo.sh/extra?q=1";
$("url").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
await waitUntil(() => c.messages.length === 2, 15000);
r.edited = c.messages[1];
r.url = $("url").value;
$("input").value = "hi";
$("send").click();
r.echo = await waitUntil(() => c.messages[2], 15000);
return r;`, &r)
		if err != nil {
			t.Fatal(err)
		}
		if r.First != "path= query=" || r.Edited != "path=/extra query=q=1" || r.Echo != "echo: hi" {
			t.Errorf("messages %q, %q, %q; want the script's first answer, then its answer at the edited URL, then the echo", r.First, r.Edited, r.Echo)
		}
		if want := "ws://" + s.addr + "/echo.sh/extra?q=1"; r.URL != want {
			t.Errorf("#url %q after Enter, want %q (http: read as ws:)", r.URL, want)
		}
		screenshot(t, page, "devconsole-edited-url")
		if rr := rawRequest(t, s.addr, "GET", "/rooms/", false); rr.status != 200 || !strings.Contains(rr.body, `href="/rooms/lobby.sh"`) || !strings.Contains(rr.body, `href="/"`) {
			t.Errorf("the listing of /rooms/: %d %q", rr.status, rr.body)
		}
	})

	t.Run("--passstderr and binary messages", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "--devconsole", "--passstderr", "sh", "-c", `echo "to stdout"; echo "to stderr" >&2; read x; echo "got $x"`)
		page := openConsole(t, b, s)
		type shown struct {
			Text, Stream, Class, Color string
		}
		var r []shown
		err := page.evaluate(jsWait+`
const c = window.wsexecConsole, $ = (id) => document.getElementById(id);
await waitUntil(() => c.messages.length === 2, 15000);
$("input").value = "x";
$("send").click();
await waitUntil(() => c.messages.length === 3, 15000);
return Array.from(document.querySelectorAll("#log .msg.in"), (e) => ({
  text: e.getAttribute("data-text"), stream: e.getAttribute("data-stream") || "", class: e.className,
  color: getComputedStyle(e.querySelector(".text")).color }));`, &r)
		if err != nil {
			t.Fatal(err)
		}
		if len(r) != 3 {
			t.Fatalf("%d messages shown, want 3: %+v", len(r), r)
		}
		byText := map[string]shown{}
		for _, m := range r {
			byText[m.Text] = m
		}
		out, errLine := byText["to stdout"], byText["to stderr"]
		if out.Stream != "stdout" || errLine.Stream != "stderr" || !strings.Contains(errLine.Class, "stderr") {
			t.Errorf("shown %+v; want the data of each line, tagged stdout and stderr", r)
		}
		if out.Color == errLine.Color {
			t.Errorf("stderr is shown in the colour of stdout (%s)", out.Color)
		}
		screenshot(t, page, "devconsole-passstderr")

		bin := startServer(t, "--devconsole", "--binary", "sh", "-c", `printf 'PNG\000\001\002hello'; sleep 1`)
		bpage := openConsole(t, b, bin)
		var p struct{ Text, Hex, ASCII string }
		err = bpage.evaluate(jsWait+`
await waitUntil(() => window.wsexecConsole.messages.length === 1, 15000);
const m = document.querySelector("#log .msg.in");
return { text: m.getAttribute("data-text"), hex: m.querySelector(".hex").textContent, ascii: m.querySelector(".ascii").textContent };`, &p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != "[binary 11 bytes]" || p.Hex != "50 4e 47 00 01 02 68 65 6c 6c 6f" || p.ASCII != "PNG...hello" {
			t.Errorf("binary message shown as %+v", p)
		}
		screenshot(t, bpage, "devconsole-binary")
	})

}

// TestChromiumBasicAuth: behind --basicauth, the browser's credentials for
// the page reach the WebSocket handshake of the dev console: Chromium
// loads http://alice:PASSWORD@host/ (its 401 answered from the URL), keeps
// the credentials for the origin, and sends them with the console's
// WebSocket, whose program sees REMOTE_USER=alice. No handshake is
// refused along the way but the page's first request, which is how Basic
// authentication starts.
func TestChromiumBasicAuth(t *testing.T) {
	t.Parallel()
	b := useChromium(t)
	file := filepath.Join(t.TempDir(), "htpasswd")
	writePasswd(t, file, "alice", "pâss wörd")
	s := startServer(t, "--basicauth="+file, "--devconsole", "../examples/bash/env.sh")
	pageURL := "http://alice:" + url.PathEscape("pâss wörd") + "@" + s.addr + "/"
	page := b.newPage(t, pageURL)
	waitFor(t, 20*time.Second, "the dev console page to load", func() bool {
		var ready bool
		err := page.evaluate(`return !!window.wsexecConsole && document.readyState === "complete"`, &ready)
		return err == nil && ready
	})
	var r struct {
		Messages []string
		Code     int
	}
	err := page.evaluate(jsWait+`
const c = window.wsexecConsole;
const ev = await waitUntil(() => c.closeEvent, 15000);
return { messages: c.messages, code: ev.code };`, &r)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, m := range r.Messages {
		if k, v, ok := strings.Cut(m, "="); ok {
			env[k] = v
		}
	}
	if r.Code != 1000 || env["REMOTE_USER"] != "alice" || env["AUTH_TYPE"] != "Basic" {
		t.Fatalf("close %d, REMOTE_USER %q, AUTH_TYPE %q; want 1000, alice, Basic", r.Code, env["REMOTE_USER"], env["AUTH_TYPE"])
	}
	if _, ok := env["HTTP_AUTHORIZATION"]; ok {
		t.Error("the program saw the browser's Authorization header")
	}
	waitFor(t, 5*time.Second, "alice's connection in the log", func() bool { return strings.Contains(s.logText(), "user=alice") })
	if n := strings.Count(s.logText(), "status=401"); n > 1 {
		t.Fatalf("%d requests refused with 401: the WebSocket had to ask too", n)
	}
}

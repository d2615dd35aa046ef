package e2e

// The tiny build (make tiny, tag tiny), run as a binary: it reads each
// request itself, and where it serves what the default build serves it
// must answer the same way, so most tests here run both binaries on the
// same requests and compare.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// The tiny binary is built the first time a test needs it, once for the
// package, next to the default one (TestMain removes the directory).
var (
	tinyOnce     sync.Once
	tinyPath     string
	tinyBuildErr error
)

// tinyBin returns the path of the tiny binary, building it on first use;
// a build that fails fails every test that needs it.
func tinyBin(t *testing.T) string {
	t.Helper()
	tinyOnce.Do(func() {
		p := filepath.Join(filepath.Dir(binPath), "wsexec-tiny")
		build := exec.Command("go", "build", "-tags", "tiny", "-o", p, ".")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			tinyBuildErr = fmt.Errorf("go build -tags tiny: %v\n%s", err, out)
			return
		}
		tinyPath = p
	})
	if tinyBuildErr != nil {
		t.Fatal(tinyBuildErr)
	}
	return tinyPath
}

// startTiny is startServer for the tiny binary.
func startTiny(t *testing.T, args ...string) *instance {
	t.Helper()
	return launchBinary(t, tinyBin(t), nil, nil, append([]string{"--port=0", "--address=127.0.0.1"}, args...)...)
}

// builds runs the default binary and the tiny one with the same args.
type builds struct{ def, tiny *instance }

func startBoth(t *testing.T, args ...string) builds {
	t.Helper()
	return builds{def: startServer(t, args...), tiny: startTiny(t, args...)}
}

// each calls f with each build's name and instance.
func (b builds) each(f func(name string, s *instance)) {
	f("default", b.def)
	f("tiny", b.tiny)
}

// tinyExchange sends raw on a new connection to a tiny server and reads
// until the server closes it: a refusal must end the connection. It
// returns the parsed answer and its head as sent.
func tinyExchange(t *testing.T, addr, method, raw string) (rawResponse, string) {
	t.Helper()
	nc := rawConn(t, addr)
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.LimitReader(nc, 1<<20))
	if err != nil {
		t.Fatalf("reading the answer to its end: %v (got %q)", err, b)
	}
	head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v (%q)", err, b)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}, string(head) + "\r\n"
}

// checkTinyRefusal fails unless head, a tiny refusal's, says it closes
// the connection and gives its reason as text.
func checkTinyRefusal(t *testing.T, head string, r rawResponse) {
	t.Helper()
	if !strings.Contains(head, "\r\nConnection: close\r\n") {
		t.Errorf("tiny refusal without Connection: close:\n%s", head)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || strings.TrimSpace(r.body) == "" {
		t.Errorf("tiny refusal: Content-Type %q, body %q: want a text/plain reason", ct, r.body)
	}
}

func TestTinyEcho(t *testing.T) {
	t.Parallel()
	s := startTiny(t, "cat")
	if err := echoCycle(s.addr); err != nil { // warm up, then take the idle count
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "no children", func() bool { return len(children(t, s.pid())) == 0 })
	baseFDs := fdCount(t, s.pid())

	c := dial(t, s.addr, "/", nil)
	for _, msg := range []string{"hello", "", "héllo wörld ✓", strings.Repeat("z", 5000)} {
		echo(t, c, msg)
	}
	kids := children(t, s.pid())
	if len(kids) != 1 {
		t.Fatalf("%d programs running, want 1", len(kids))
	}
	c.NetConn().SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteClose(wsproto.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %d %q, want 1000", ce.Code, ce.Reason)
	}
	waitIdle(t, s, baseFDs)
	if alive(kids[0]) {
		t.Fatalf("program %d still alive", kids[0])
	}
}

func TestTinyBinary(t *testing.T) {
	t.Parallel()
	s := startTiny(t, "--binary", "cat")
	c := dial(t, s.addr, "/", nil)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 125, 126, 65536, 1 << 20} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		// cat answers while the message is still coming in: write from
		// another goroutine, or both ends fill their buffers and stall.
		wrote := make(chan error, 1)
		go func() {
			c.NetConn().SetWriteDeadline(time.Now().Add(10 * time.Second))
			err := c.WriteMessage(wsproto.OpBinary, p)
			if err == nil {
				err = c.Flush()
			}
			wrote <- err
		}()
		var got []byte
		c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
		var rerr error
		for len(got) < n && rerr == nil {
			var op wsproto.Opcode
			var m []byte
			op, m, rerr = c.ReadMessage(nil)
			if rerr == nil && op != wsproto.OpBinary {
				rerr = fmt.Errorf("opcode %v, want binary", op)
			}
			got = append(got, m...)
		}
		if err := <-wrote; err != nil {
			t.Fatalf("%d bytes: write: %v", n, err)
		}
		if rerr != nil {
			t.Fatalf("%d bytes: read after %d: %v", n, len(got), rerr)
		}
		if !bytes.Equal(got, p) {
			t.Fatalf("%d bytes: the round trip changed them (%d back)", n, len(got))
		}
	}
}

func TestTinyCompression(t *testing.T) {
	t.Parallel()
	b := startBoth(t, "cat")
	repetitive := strings.Repeat(`{"k":"value","n":12345},`, 256<<10/24)
	answers := map[string]string{}
	b.each(func(name string, s *instance) {
		c, resp, cc := dialCounting(t, s.addr, wstest.DeflateHeader(wsproto.DeflateConfig{}))
		answers[name] = resp.Header.Get("Sec-WebSocket-Extensions")
		before := cc.read.Load()
		echo(t, c, repetitive)
		if n := cc.read.Load() - before; n > int64(len(repetitive))/20 {
			t.Errorf("%s: %d bytes took %d on the wire: not compressed", name, len(repetitive), n)
		}
		echo(t, c, "small")
	})
	if answers["tiny"] != "permessage-deflate" || answers["tiny"] != answers["default"] {
		t.Fatalf("Sec-WebSocket-Extensions: tiny %q, default %q, want permessage-deflate from both", answers["tiny"], answers["default"])
	}
}

// TestTinyDir: --dir routes and refuses as the default build does.
func TestTinyDir(t *testing.T) {
	t.Parallel()
	rt := newRouteTree(t)
	b := startBoth(t, "--dir="+rt.ws)
	t.Run("script env", func(t *testing.T) {
		const target = "/sub/deeper/env.sh/extra/more?q=2&r"
		want := readEnv(t, dial(t, b.def.addr, target, nil))
		got := readEnv(t, dial(t, b.tiny.addr, target, nil))
		for _, k := range []string{"SCRIPT_NAME", "PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_URI"} {
			if got[k] != want[k] {
				t.Errorf("%s: tiny %q, default %q", k, got[k], want[k])
			}
		}
		if got["SCRIPT_NAME"] != "/sub/deeper/env.sh" || got["PATH_INFO"] != "/extra/more" {
			t.Errorf("tiny: SCRIPT_NAME %q PATH_INFO %q", got["SCRIPT_NAME"], got["PATH_INFO"])
		}
	})
	tests := []struct {
		name, target string
		upgrade      bool
		status       int
	}{
		{"missing", "/nope.sh", true, 404},
		{"not executable", "/notexec.sh", true, 403},
		{"dot-file", "/.hidden.sh", true, 404},
		{"dot directory", "/.git/x.sh", true, 404},
		{"directory", "/sub", true, 404},
		{"symlink out", "/evil.sh", true, 404},
		{"plain GET of a script", "/env.sh", false, 426},
		{"plain GET, missing", "/nope.sh", false, 404},
		{"plain GET, not executable", "/notexec.sh", false, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def := rawRequest(t, b.def.addr, "GET", tc.target, tc.upgrade)
			tiny, head := tinyExchange(t, b.tiny.addr, "GET", rawHead("GET", tc.target, b.tiny.addr, tc.upgrade))
			if tiny.status != def.status || tiny.status != tc.status {
				t.Fatalf("%s: tiny %d %q, default %d %q, want %d", tc.target, tiny.status, tiny.body, def.status, def.body, tc.status)
			}
			checkTinyRefusal(t, head, tiny)
			if strings.Contains(tiny.body, sourceMark) || strings.Contains(tiny.body, evilMark) {
				t.Fatalf("%s: the body shows a file: %q", tc.target, tiny.body)
			}
		})
	}
	if n := len(children(t, b.tiny.pid())); n != 0 {
		t.Fatalf("%d programs running after the refusals", n)
	}
}

// TestTinyRefusals: the handshakes the default build refuses, the tiny
// build refuses with the same status, closing the connection.
func TestTinyRefusals(t *testing.T) {
	t.Parallel()
	const good = "Origin: http://good.example"
	b := startBoth(t, "--origin=http://good.example", "--maxheadersize=8192", "cat")
	key := "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	tests := []struct {
		name, method string
		raw          func(addr string) string
		status       int
		header       http.Header // on both answers
	}{
		{"missing key", "GET", func(addr string) string {
			return strings.Replace(rawHead("GET", "/", addr, true, good), key, "", 1)
		}, 400, nil},
		{"version 8", "GET", func(addr string) string {
			return strings.Replace(rawHead("GET", "/", addr, true, good), "Version: 13", "Version: 8", 1)
		}, 426, http.Header{"Sec-Websocket-Version": {"13"}}},
		{"POST", "POST", func(addr string) string { return rawHead("POST", "/", addr, true, good) }, 405, nil},
		{"a body", "GET", func(addr string) string {
			return rawHead("GET", "/", addr, true, good, "Content-Length: 5") + "hello"
		}, 400, nil},
		{"encoded slash", "GET", func(addr string) string { return rawHead("GET", "/a%2fb", addr, true, good) }, 400, nil},
		{"dot segment", "GET", func(addr string) string { return rawHead("GET", "/a/../b", addr, true, good) }, 400, nil},
		{"absolute-form target", "GET", func(addr string) string {
			return rawHead("GET", "http://"+addr+"/", addr, true, good)
		}, 400, nil},
		{"origin mismatch", "GET", func(addr string) string {
			return rawHead("GET", "/", addr, true, "Origin: http://evil.example")
		}, 403, nil},
		{"headers over --maxheadersize", "GET", func(addr string) string {
			return rawHead("GET", "/", addr, true, good, "X-Pad: "+strings.Repeat("p", 9000))
		}, 431, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def, err := rawSend(b.def.addr, tc.method, tc.raw(b.def.addr))
			if err != nil {
				t.Fatal(err)
			}
			tiny, head := tinyExchange(t, b.tiny.addr, tc.method, tc.raw(b.tiny.addr))
			if tiny.status != def.status || tiny.status != tc.status {
				t.Fatalf("tiny %d %q, default %d %q, want %d", tiny.status, tiny.body, def.status, def.body, tc.status)
			}
			for k := range tc.header {
				if tiny.header.Get(k) != tc.header.Get(k) || def.header.Get(k) != tc.header.Get(k) {
					t.Errorf("%s: tiny %q, default %q, want %q", k, tiny.header.Get(k), def.header.Get(k), tc.header.Get(k))
				}
			}
			checkTinyRefusal(t, head, tiny)
		})
	}
	if n := len(children(t, b.tiny.pid())); n != 0 {
		t.Fatalf("%d programs started by refused handshakes", n)
	}
}

// TestTinyMaxForks: a client over --maxforks gets 429 with Retry-After,
// or with --maxforks-mode=1013 a WebSocket closed with 1013, from both
// builds.
func TestTinyMaxForks(t *testing.T) {
	t.Parallel()
	t.Run("429", func(t *testing.T) {
		t.Parallel()
		b := startBoth(t, "--maxforks=1", "cat")
		b.each(func(_ string, s *instance) { echo(t, dial(t, s.addr, "/", nil), "one") })
		def, err := rawSend(b.def.addr, "GET", rawHead("GET", "/", b.def.addr, true))
		if err != nil {
			t.Fatal(err)
		}
		tiny, head := tinyExchange(t, b.tiny.addr, "GET", rawHead("GET", "/", b.tiny.addr, true))
		if tiny.status != http.StatusTooManyRequests || tiny.status != def.status {
			t.Fatalf("second client: tiny %d %q, default %d %q, want 429", tiny.status, tiny.body, def.status, def.body)
		}
		if got, want := tiny.header.Get("Retry-After"), def.header.Get("Retry-After"); got == "" || got != want {
			t.Errorf("Retry-After: tiny %q, default %q", got, want)
		}
		checkTinyRefusal(t, head, tiny)
	})
	t.Run("1013", func(t *testing.T) {
		t.Parallel()
		b := startBoth(t, "--maxforks=1", "--maxforks-mode=1013", "cat")
		b.each(func(name string, s *instance) {
			echo(t, dial(t, s.addr, "/", nil), "one")
			if ce := readClose(t, dial(t, s.addr, "/", nil)); ce.Code != wsproto.CloseTryAgainLater {
				t.Errorf("%s: second client closed with %d %q, want 1013", name, ce.Code, ce.Reason)
			}
		})
	})
}

// TestTinyPlainGET: a plain request for the endpoint is told to upgrade.
func TestTinyPlainGET(t *testing.T) {
	t.Parallel()
	b := startBoth(t, "cat")
	def := rawRequest(t, b.def.addr, "GET", "/", false)
	tiny, head := tinyExchange(t, b.tiny.addr, "GET", rawHead("GET", "/", b.tiny.addr, false))
	if tiny.status != http.StatusUpgradeRequired || def.status != tiny.status {
		t.Fatalf("tiny %d, default %d, want 426", tiny.status, def.status)
	}
	if got := tiny.header.Get("Upgrade"); got != "websocket" {
		t.Errorf("tiny 426: Upgrade %q, want websocket", got)
	}
	if !strings.Contains(tiny.body, "WebSocket endpoint") || tiny.body != def.body {
		t.Errorf("tiny body %q, default %q: want the same reason", tiny.body, def.body)
	}
	checkTinyRefusal(t, head, tiny)
}

// TestTinyEarlyBytes: a frame sent in the same write as the upgrade
// request is the program's first line, not lost with the request's
// buffer.
func TestTinyEarlyBytes(t *testing.T) {
	t.Parallel()
	s := startTiny(t, "cat")
	nc := rawConn(t, s.addr)
	hello := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58} // RFC 6455 §5.7: "Hello", masked
	if _, err := nc.Write(append([]byte(upgradeRequest+"\r\n"), hello...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s, want 101", resp.Status)
	}
	got := make([]byte, 7)
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("the echo of the early frame: %v (got %x)", err, got)
	}
	if want := []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}; !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

// TestTinySilentConnection: a connection that sends nothing is closed
// after --headertimeoutms, with nothing started.
func TestTinySilentConnection(t *testing.T) {
	t.Parallel()
	s := startTiny(t, "--headertimeoutms=300", "cat")
	nc := rawConn(t, s.addr)
	start := time.Now()
	n, err := io.Copy(io.Discard, nc)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("after %v: %v (want the server to close the connection)", took, err)
	}
	// The flag's 300 ms, not the 10 s default: a generous bound between.
	if took < 250*time.Millisecond || took > 5*time.Second {
		t.Fatalf("closed after %v, want about 300 ms", took)
	}
	t.Logf("closed after %v, %d bytes sent back", took.Round(time.Millisecond), n)
	if kids := children(t, s.pid()); len(kids) != 0 {
		t.Fatalf("programs started for a silent connection: %v", kids)
	}
}

// TestTinyShutdown: SIGTERM closes a client with 1001, reaps its program
// and exits 0, without waiting on a connection that has sent nothing.
func TestTinyShutdown(t *testing.T) {
	t.Parallel()
	s := startTiny(t, "cat")
	rawConn(t, s.addr) // connected, silent
	waitFor(t, 5*time.Second, "the silent connection to be accepted", func() bool { return tcpEstablished(t, s.pid()) })
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "up")
	kids := children(t, s.pid())
	if len(kids) != 1 {
		t.Fatalf("%d programs running, want 1", len(kids))
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseGoingAway {
		t.Errorf("close %d %q, want 1001", ce.Code, ce.Reason)
	}
	select {
	case <-s.exited:
		t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second): // the header timeout is 10 s
		t.Fatal("still running 5 s after SIGTERM")
	}
	if s.err != nil {
		t.Errorf("exit: %v, want status 0", s.err)
	}
	waitFor(t, 5*time.Second, "the program to be reaped", func() bool { return !alive(kids[0]) })
}

// TestTinyEnvironment: the program's environment is the default build's
// for the same request, but for what differs from run to run.
func TestTinyEnvironment(t *testing.T) {
	t.Parallel()
	b := startBoth(t, "../examples/bash/env.sh")
	hdr := envHeader()
	hdr.Set("Cookie", "a=1")
	hdr.Add("Cookie", "b=2")
	envs := map[string]map[string]string{}
	b.each(func(name string, s *instance) {
		env := readEnv(t, dial(t, s.addr, "/some/path?name=bob&x=1", hdr))
		_, port, _ := net.SplitHostPort(s.addr)
		if env["SERVER_PORT"] != port || env["HTTP_HOST"] != s.addr {
			t.Errorf("%s: SERVER_PORT %q, HTTP_HOST %q, want %s", name, env["SERVER_PORT"], env["HTTP_HOST"], s.addr)
		}
		// What differs from run to run: ports, the id, the client's key,
		// and the version, which says "+dirty" for a binary built while
		// the tree has changes (the tiny one is built later, when a test
		// first needs it).
		if !strings.HasPrefix(env["SERVER_SOFTWARE"], "wsexec/") {
			t.Errorf("%s: SERVER_SOFTWARE %q", name, env["SERVER_SOFTWARE"])
		}
		for _, k := range []string{"SERVER_PORT", "HTTP_HOST", "REMOTE_PORT", "UNIQUE_ID", "HTTP_SEC_WEBSOCKET_KEY", "SERVER_SOFTWARE"} {
			if env[k] == "" {
				t.Errorf("%s: %s is not set", name, k)
			}
			delete(env, k)
		}
		envs[name] = env
	})
	def, tiny := envs["default"], envs["tiny"]
	t.Logf("%d variables compared", len(def))
	for k, v := range def {
		if got, ok := tiny[k]; !ok || got != v {
			t.Errorf("%s: tiny %q (set %v), default %q", k, got, ok, v)
		}
	}
	for k, v := range tiny {
		if _, ok := def[k]; !ok {
			t.Errorf("%s=%q: in the tiny build's environment only", k, v)
		}
	}
	for _, k := range []string{"REMOTE_ADDR", "SERVER_NAME", "QUERY_STRING", "REQUEST_URI", "HTTP_X_REPEATED", "HTTP_COOKIE"} {
		if tiny[k] == "" {
			t.Errorf("%s is not set", k)
		}
	}
	if _, ok := tiny["HTTP_PROXY"]; ok {
		t.Errorf("HTTP_PROXY is set")
	}
}

// TestTinyCLI: a flag the tiny build lacks is a usage error naming it,
// --help says what it leaves out, --version that it is tiny.
func TestTinyCLI(t *testing.T) {
	t.Parallel()
	bin := tinyBin(t)
	for _, tc := range []struct{ flag, lacks string }{
		{"--ssl", "TLS"},
		{"--staticdir=/tmp", "static files and CGI"},
		{"--broadcast", "broadcast"},
		{"--reverselookup", "the DNS resolver"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			stdout, stderr, err := runCmd(t, exec.Command(bin, tc.flag, "cat"))
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want status 2; stderr %q", err, stderr)
			}
			name, _, _ := strings.Cut(tc.flag, "=")
			want := name + " is not in this build (wsexec tiny leaves out " + tc.lacks + ")"
			if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); len(lines) != 1 || !strings.Contains(lines[0], want) {
				t.Fatalf("stderr %q, want one line with %q", stderr, want)
			}
			if strings.Contains(stdout+stderr, "msg=listening") {
				t.Fatal("it listened before refusing")
			}
		})
	}
	t.Run("--address=a host name", func(t *testing.T) {
		// No DNS resolver: a name other than localhost is an error that
		// says so, before anything listens.
		stdout, stderr, err := runCmd(t, exec.Command(bin, "--address=wsexec.invalid", "--port=0", "cat"))
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(stderr, `"wsexec.invalid" is no IP address, and the tiny build has no DNS resolver`) {
			t.Fatalf("exit %v, stderr %q; want a failure naming the missing resolver", err, stderr)
		}
		if strings.Contains(stdout+stderr, "msg=listening") {
			t.Fatal("it listened")
		}
	})
	t.Run("--help", func(t *testing.T) {
		stdout, _, err := runCmd(t, exec.Command(bin, "--help"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"wsexec tiny", "leaves out", "TLS", "static files and CGI", "broadcast", "--dir"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("--help does not say %q:\n%s", want, stdout)
			}
		}
		// Neither a flag's entry nor an example names a flag it lacks.
		for _, line := range strings.Split(stdout, "\n") {
			if !strings.HasPrefix(line, "  --") && !strings.HasPrefix(line, "  wsexec ") {
				continue
			}
			for _, lacking := range []string{"--ssl", "--staticdir", "--cgidir", "--devconsole", "--broadcast"} {
				if strings.Contains(line, lacking) {
					t.Errorf("--help names %s, which the build lacks: %q", lacking, line)
				}
			}
		}
	})
	t.Run("--version", func(t *testing.T) {
		stdout, _, err := runCmd(t, exec.Command(bin, "--version"))
		if err != nil || !strings.Contains(stdout, "(tiny)") {
			t.Fatalf("--version: %q, %v; want it to say tiny", stdout, err)
		}
	})
}

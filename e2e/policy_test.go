package e2e

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// Integration tests of the connection policy flags: --origin,
// --sameorigin, --subprotocol, --maxforks-mode, --pingms and --passstderr,
// each through the real binary over loopback sockets.

// refusal dials with hdr and checks the handshake is refused with status
// and a body containing reason.
func refusal(t *testing.T, addr string, hdr http.Header, status int, reason string) {
	t.Helper()
	c, resp, err := dialWS(addr, "/", hdr)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		c.Close()
		t.Fatalf("connected; want %d %q", status, reason)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.Contains(string(body), reason) {
		t.Fatalf("got %s %q, want %d with a reason containing %q", resp.Status, body, status, reason)
	}
}

// accepted dials with hdr, checks the echo of one message through cat and
// closes.
func accepted(t *testing.T, addr string, hdr http.Header) {
	t.Helper()
	c := dial(t, addr, "/", hdr)
	echo(t, c, "ping")
	c.WriteClose(wsproto.CloseNormal, "")
}

func origin(v ...string) http.Header {
	if len(v) == 0 {
		return nil
	}
	return http.Header{"Origin": v}
}

func TestOriginList(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--origin=http://good.example, trusted.example:8443", "--origin=null,*.apps.example", "cat")
	ok := []struct{ name, origin string }{
		{"listed", "http://good.example"},
		{"listed, any port", "http://good.example:3000"},
		{"host case", "http://GOOD.example"},
		{"listed port, any scheme", "https://trusted.example:8443"},
		{"null listed", "null"},
		{"wildcard subdomain", "https://a.apps.example"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) { accepted(t, s.addr, origin(tc.origin)) })
	}
	t.Run("no Origin: not a browser", func(t *testing.T) { accepted(t, s.addr, nil) })
	refused := []struct {
		name   string
		hdr    http.Header
		reason string
	}{
		{"other host", origin("http://evil.example"), `origin "http://evil.example" is not allowed (--origin)`},
		{"suffix is not a match", origin("http://evilgood.example"), "not allowed"},
		{"subdomain is not a match", origin("http://a.good.example"), "not allowed"},
		{"wildcard is not the apex", origin("http://apps.example"), "not allowed"},
		{"wrong scheme", origin("https://good.example"), "not allowed"},
		{"wrong port", origin("http://trusted.example:8080"), "not allowed"},
		{"default port is not 8443", origin("https://trusted.example"), "not allowed"},
		{"malformed", origin("good.example"), "malformed Origin header"},
		{"two Origins", origin("http://good.example", "http://evil.example"), "more than one Origin"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) { refusal(t, s.addr, tc.hdr, http.StatusForbidden, tc.reason) })
	}
	waitFor(t, 5*time.Second, "every accepted program to end", func() bool { return len(children(t, s.pid())) == 0 })
	waitFor(t, 5*time.Second, "every refusal logged with status=403", func() bool {
		return strings.Count(s.logText(), "status=403") == len(refused)
	})
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--sameorigin", "cat")
	_, port, _ := net.SplitHostPort(s.addr)
	accepted(t, s.addr, origin("http://"+s.addr))
	accepted(t, s.addr, nil) // not a browser
	refusal(t, s.addr, origin("http://127.0.0.1:1"), http.StatusForbidden,
		`origin "http://127.0.0.1:1" does not match the request's "http://`+s.addr+`" (--sameorigin)`)
	// The scheme counts: an https page is another origin than this
	// plain-HTTP listener, on the same host and port.
	refusal(t, s.addr, origin("https://"+s.addr), http.StatusForbidden,
		`origin "https://`+s.addr+`" does not match the request's "http://`+s.addr+`" (--sameorigin)`)
	refusal(t, s.addr, origin("http://localhost:"+port), http.StatusForbidden, "--sameorigin")
	refusal(t, s.addr, origin("http://127.0.0.1"), http.StatusForbidden, "--sameorigin") // port 80
	refusal(t, s.addr, origin("null"), http.StatusForbidden, "--sameorigin")
}

// TestSameOriginTLS checks the scheme under TLS: https is the listener's
// origin, http on the same host and port is not.
func TestSameOriginTLS(t *testing.T) {
	t.Parallel()
	s, ca, _ := tlsServer(t, []string{"--sameorigin"}, "cat")
	cfg := &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1"}
	c, _, err := dialTLSHeader(s.addr, "/", cfg, origin("https://"+s.addr))
	if err != nil {
		t.Fatalf("https origin: %v", err)
	}
	echo(t, c, "same origin")
	c.Close()
	c, resp, err := dialTLSHeader(s.addr, "/", cfg, origin("http://"+s.addr))
	if c != nil {
		c.Close()
		t.Fatal("an http origin was accepted on the TLS listener")
	}
	if resp == nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `the request's "https://`+s.addr+`"`) {
		t.Fatalf("http origin: %s %q, want 403 naming https://%s", resp.Status, body, s.addr)
	}
}

// protocolOf connects offering protocols (none if empty) to a server whose
// program prints WEBSOCKET_PROTOCOL, and returns the answered subprotocol
// and what the program saw.
func protocolOf(t *testing.T, addr, offer string) (answered, env string) {
	t.Helper()
	var hdr http.Header
	if offer != "" {
		hdr = http.Header{"Sec-Websocket-Protocol": {offer}}
	}
	c, resp, err := dialWS(addr, "/", hdr)
	if err != nil {
		t.Fatalf("offer %q: %v", offer, err)
	}
	if c == nil {
		t.Fatalf("offer %q: status %s", offer, resp.Status)
	}
	defer c.Close()
	env = readText(t, c)
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %d %q", ce.Code, ce.Reason)
	}
	return resp.Header.Get("Sec-Websocket-Protocol"), env
}

func TestSubprotocol(t *testing.T) {
	t.Parallel()
	script := `echo "p=${WEBSOCKET_PROTOCOL-unset}"`
	s := startServer(t, "--subprotocol=chat.v2,chat.v1", "sh", "-c", script)
	tests := []struct {
		name, offer, want string
	}{
		{"server preference wins", "chat.v1, chat.v2", "chat.v2"},
		{"one match among others", "other, chat.v1", "chat.v1"},
		{"unknown names are skipped", "x, y, chat.v1", "chat.v1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, env := protocolOf(t, s.addr, tc.offer)
			if got != tc.want || env != "p="+tc.want {
				t.Fatalf("answered %q, program saw %q; want %q", got, env, tc.want)
			}
		})
	}
	t.Run("no offer still connects", func(t *testing.T) {
		got, env := protocolOf(t, s.addr, "")
		if got != "" || env != "p=unset" {
			t.Fatalf("answered %q, program saw %q; want none", got, env)
		}
	})
	t.Run("only others offered: 400", func(t *testing.T) {
		refusal(t, s.addr, http.Header{"Sec-Websocket-Protocol": {"mqtt, wamp"}}, http.StatusBadRequest,
			"no supported subprotocol offered (supported: chat.v2, chat.v1)")
	})

	// Without --subprotocol the client's first offer is answered, so a
	// browser or Node's ws asking for one still connects.
	s2 := startServer(t, "sh", "-c", script)
	got, env := protocolOf(t, s2.addr, "graphql-ws, mqtt")
	if got != "graphql-ws" || env != "p=graphql-ws" {
		t.Fatalf("no --subprotocol: answered %q, program saw %q; want the first offer", got, env)
	}
	if got, env := protocolOf(t, s2.addr, ""); got != "" || env != "p=unset" {
		t.Fatalf("no --subprotocol, no offer: answered %q, program saw %q", got, env)
	}
}

func TestMaxForksClose1013(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxforks=1", "--maxforks-mode=1013", "cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "one")

	c2 := dial(t, s.addr, "/", nil) // the handshake succeeds...
	ce := readClose(t, c2)          // ...and the close says why
	if ce.Code != wsproto.CloseTryAgainLater || ce.Reason != "try again later" {
		t.Fatalf("close %d %q, want 1013 try again later", ce.Code, ce.Reason)
	}
	if n := len(children(t, s.pid())); n != 1 {
		t.Fatalf("%d programs running, want 1", n)
	}
	// The first connection is untouched, and once it ends there is room.
	echo(t, c, "two")
	c.WriteClose(wsproto.CloseNormal, "")
	readClose(t, c)
	waitFor(t, 5*time.Second, "the first program to end", func() bool { return len(children(t, s.pid())) == 0 })
	accepted(t, s.addr, nil)
}

var connectPID = regexp.MustCompile(`msg=connect .*pid=(\d+)`)

// programPID waits for the connect line of the server's only connection
// and returns its program's pid.
func programPID(t *testing.T, s *instance) int {
	t.Helper()
	var pid int
	waitFor(t, 5*time.Second, "the connect line", func() bool {
		if m := connectPID.FindStringSubmatch(s.logText()); m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		return pid > 0
	})
	return pid
}

func TestPingDropsSilentClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=100", "cat")
	// A client that completes the handshake and then reads and answers
	// nothing: the pings pile up in its socket buffer.
	c := dial(t, s.addr, "/", nil)
	pid := programPID(t, s)
	nc := c.NetConn()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	waitFor(t, 10*time.Second, "the program to be stopped", func() bool { return !alive(pid) })
	b, err := io.ReadAll(nc) // what the server sent: pings, then the end
	if err != nil {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	if !strings.HasPrefix(string(b), "\x89\x00") {
		t.Fatalf("the server sent %x, want pings", b)
	}
	waitFor(t, 5*time.Second, "the disconnect line", func() bool {
		return strings.Contains(s.logText(), "msg=disconnect")
	})
	if !strings.Contains(s.logText(), `reason="ping timeout"`) {
		t.Fatal("disconnect not logged as a ping timeout")
	}
}

// pingCounter is a net.Conn counting the empty pings (89 00) it reads; the
// server sends nothing else in TestPingKeepsAnsweringClient until asked.
type pingCounter struct {
	net.Conn
	mu    sync.Mutex
	pings int
	prev  byte
}

func (p *pingCounter) Read(b []byte) (int, error) {
	n, err := p.Conn.Read(b)
	p.mu.Lock()
	for _, c := range b[:n] {
		if p.prev == 0x89 && c == 0 {
			p.pings++
		}
		p.prev = c
	}
	p.mu.Unlock()
	return n, err
}

func (p *pingCounter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pings
}

func TestPingKeepsAnsweringClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=200", "cat")
	tcp, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	pc := &pingCounter{Conn: tcp}
	c, resp, err := wstest.Handshake(pc, s.addr, "/", nil)
	if err != nil || c == nil {
		tcp.Close()
		t.Fatalf("handshake: %v %v", resp, err)
	}
	defer c.Close()
	// Reading answers each ping with a pong, as every client library does.
	msgs := make(chan string, 1)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, p, err := c.ReadMessage(nil)
			if err != nil {
				readErr <- err
				return
			}
			msgs <- string(p)
		}
	}()
	// Six pings: three times the two intervals a silent client gets.
	waitFor(t, 15*time.Second, "six pings", func() bool {
		select {
		case err := <-readErr:
			t.Fatalf("connection ended after %d pings: %v", pc.count(), err)
		default:
		}
		return pc.count() >= 6
	})
	write(t, c, wsproto.OpText, []byte("still here"))
	select {
	case got := <-msgs:
		if got != "still here" {
			t.Fatalf("echo %q", got)
		}
	case err := <-readErr:
		t.Fatalf("connection ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no echo")
	}
	if strings.Contains(s.logText(), "ping timeout") {
		t.Fatal("a client answering pings was dropped")
	}
	c.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.WriteClose(wsproto.CloseNormal, "")
	<-readErr
}

func TestPassStderr(t *testing.T) {
	t.Parallel()
	// Each incoming line goes to stdout or stderr by its prefix; "bye"
	// writes a last stderr line and exits 3.
	script := `while IFS= read -r l; do
		case $l in
		out*) printf '%s\n' "$l" ;;
		err*) printf '%s\n' "$l" >&2 ;;
		bye) echo "last words" >&2; exit 3 ;;
		esac
	done`
	s := startServer(t, "--passstderr", "sh", "-c", script)
	c := dial(t, s.addr, "/", nil)
	tests := []struct{ send, want string }{
		{"out:hello", `{"stream":"stdout","data":"out:hello"}`},
		{"err:oops", `{"stream":"stderr","data":"err:oops"}`},
		{"out:tab\there \"quoted\" back\\slash é", `{"stream":"stdout","data":"out:tab\there \"quoted\" back\\slash é"}`},
		{"err:\x01ctl", `{"stream":"stderr","data":"err:\u0001ctl"}`},
		{"out:", `{"stream":"stdout","data":"out:"}`},
	}
	for _, tc := range tests {
		write(t, c, wsproto.OpText, []byte(tc.send))
		got := readText(t, c)
		if got != tc.want {
			t.Fatalf("sent %q: got %s, want %s", tc.send, got, tc.want)
		}
		var m struct{ Stream, Data string }
		if err := json.Unmarshal([]byte(got), &m); err != nil || m.Data != tc.send {
			t.Fatalf("%s does not decode to data %q: %v", got, tc.send, err)
		}
	}
	// A long stdout line is still one message holding one JSON object.
	long := "out:" + strings.Repeat("x", 40000)
	write(t, c, wsproto.OpText, []byte(long))
	if got := readText(t, c); got != `{"stream":"stdout","data":"`+long+`"}` {
		t.Fatalf("long line: got %d bytes %.60q...", len(got), got)
	}
	// stderr written just before exiting arrives before the close frame.
	write(t, c, wsproto.OpText, []byte("bye"))
	if got := readText(t, c); got != `{"stream":"stderr","data":"last words"}` {
		t.Fatalf("last stderr line: %s", got)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseInternalError || ce.Reason != "exit status 3" {
		t.Fatalf("close %d %q", ce.Code, ce.Reason)
	}
	if !regexp.MustCompile(`msg=stderr .*line=err:oops`).MatchString(s.logText()) {
		t.Error("stderr lines are no longer logged")
	}
}

func TestPolicyUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"origin with path", []string{"--origin=http://a.example/x", "cat"}, "--origin"},
		{"origin bad port", []string{"--origin=a.example:99999", "cat"}, "--origin"},
		{"maxforks-mode", []string{"--maxforks-mode=503", "cat"}, "--maxforks-mode"},
		{"negative pingms", []string{"--pingms=-1", "cat"}, "--pingms"},
		{"passstderr with binary", []string{"--passstderr", "--binary", "cat"}, "--passstderr"},
		{"subprotocol not a token", []string{"--subprotocol=a b", "cat"}, "--subprotocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append([]string{"--port=0", "--address=127.0.0.1"}, tc.args...)...)
		})
	}
}

// TestPingWaitsForBusyProgram: while the program does not read its stdin,
// the server cannot read the client's pongs either (they wait behind the
// message it is writing). That is back-pressure, not a dead client: the
// connection must survive it.
func TestPingWaitsForBusyProgram(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--pingms=250", "sh", "-c", "sleep 2; exec cat") // 2 s: four pong deadlines
	c := dial(t, s.addr, "/", nil)
	big := strings.Repeat("z", 1<<20) // far more than a pipe holds
	got := make(chan string, 1)
	go func() {
		// Reading answers pings; the echo comes once cat runs.
		c.NetConn().SetReadDeadline(time.Now().Add(20 * time.Second))
		_, p, err := c.ReadMessage(nil)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(p)
	}()
	write(t, c, wsproto.OpText, []byte(big))
	if echo := <-got; echo != big {
		t.Fatalf("echo %.80q (%d bytes), want the 1 MiB message (dropped while the program was not reading?)", echo, len(echo))
	}
	// Close at once (after the echo the client stops answering pings, and
	// a loaded machine could let the server drop it before the log is
	// read): the connection must end with our close, not a ping timeout.
	if err := c.WriteClose(wsproto.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
		t.Fatalf("close %v, want the echo of ours", ce)
	}
	waitFor(t, 10*time.Second, "the disconnect line", func() bool {
		return strings.Contains(s.logText(), "msg=disconnect")
	})
	if strings.Contains(s.logText(), "ping timeout") {
		t.Fatal("dropped while the program was not reading")
	}
}

// TestPassStderrInterleaved has both streams written at once, with a long
// stdout line streamed in fragments among them: every message must be one
// whole JSON object, and each stream's lines must arrive complete and in
// order.
func TestPassStderrInterleaved(t *testing.T) {
	t.Parallel()
	const n = 500
	script := `(i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do echo "e$i" >&2; i=$((i+1)); done) &
		i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do echo "o$i"; [ $i = 100 ] && head -c 40000 /dev/zero | tr '\0' x && echo; i=$((i+1)); done
		wait`
	s := startServer(t, "--passstderr", "sh", "-c", script)
	c := dial(t, s.addr, "/", nil)
	c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
	next := map[string]int{}
	long := false
	for i := 0; i < 3*n; i++ {
		_, p, err := c.ReadMessage(nil)
		var ce *wsproto.CloseError
		if errors.As(err, &ce) {
			if ce.Code != wsproto.CloseNormal {
				t.Fatalf("close %d %q", ce.Code, ce.Reason)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Stream, Data string }
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("message %d is not JSON: %.80q: %v", i, p, err)
		}
		if m.Stream == "stdout" && len(m.Data) == 40000 {
			long = true
			continue
		}
		prefix := map[string]string{"stdout": "o", "stderr": "e"}[m.Stream]
		if want := prefix + strconv.Itoa(next[m.Stream]); m.Data != want {
			t.Fatalf("%s: got %q, want %q", m.Stream, m.Data, want)
		}
		next[m.Stream]++
	}
	if next["stdout"] != n || next["stderr"] != n || !long {
		t.Fatalf("got %d stdout lines, %d stderr lines, long line %v; want %d, %d, true", next["stdout"], next["stderr"], long, n, n)
	}
}

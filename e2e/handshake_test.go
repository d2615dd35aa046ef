package e2e

// What the handshake refuses and answers: versions, --header flags,
// --origin, --sameorigin and --subprotocol.

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	tests := []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"version 8", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusUpgradeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := dialWS(s.addr, "/", tc.hdr)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d", resp.Status, tc.status)
			}
		})
	}
	t.Run("plain GET", func(t *testing.T) {
		resp, err := http.Get("http://" + s.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired {
			t.Fatalf("status %s, want 426", resp.Status)
		}
	})
	if n := len(children(t, s.pid())); n != 0 {
		t.Fatalf("%d programs started by refused handshakes", n)
	}
}

func TestHeaderFlags(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--header=X-All: all, with a comma", "--header-ws=X-WS: ws", "--header-http=X-HTTP: http",
		"--header", "X-All: second", "cat")

	// The 101 has --header and --header-ws, not --header-http.
	h := upgrade101(t, s.addr)
	if got := h.Values("X-All"); len(got) != 2 || got[0] != "all, with a comma" || got[1] != "second" {
		t.Errorf("101 X-All = %q", got)
	}
	if h.Get("X-WS") != "ws" || h.Get("X-HTTP") != "" {
		t.Errorf("101 headers: %v", h)
	}

	// A plain HTTP response has --header and --header-http, not --header-ws.
	hc := &http.Client{Timeout: 10 * time.Second}
	r, err := hc.Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.Header.Get("X-All") != "all, with a comma" || r.Header.Get("X-HTTP") != "http" || r.Header.Get("X-WS") != "" {
		t.Errorf("plain HTTP headers: %v", r.Header)
	}

	// A refused upgrade is not a 101: --header only.
	hdr := http.Header{"Sec-Websocket-Version": {"8"}}
	resp, err := upgrade(s.addr, hdr)
	if err != nil || resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		t.Fatalf("refused upgrade: %v %v", resp, err)
	}
	if resp.Header.Get("X-All") == "" || resp.Header.Get("X-WS") != "" || resp.Header.Get("X-HTTP") != "" {
		t.Errorf("refused upgrade headers: %v", resp.Header)
	}
}

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

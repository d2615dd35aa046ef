//go:build linux

package main

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// ---- 8. the gates ---------------------------------------------------------

// gateCost is the bcrypt cost of the benchmark's password file: Go's
// default, above htpasswd -B's 5.
const gateCost = bcrypt.DefaultCost

// gates measures the sequential connection cycle (scenario 1's) with each
// gate on, against the same cycle with none in the same run: --basicauth
// with good credentials (bcrypt once, then its cache), --auth-command (a
// sh script that checks a token in the query string), --trustedproxies
// (an X-Forwarded-For to read). Refusals of a wrong password are counted
// too: each costs a bcrypt comparison, which is what a password guesser
// makes the server pay.
func (h *harness) gates() []row {
	dir, err := os.MkdirTemp("", "wsexec-bench-")
	if err != nil {
		fatalf("%v", err)
	}
	atExit(func() { os.RemoveAll(dir) })
	hash, err := bcrypt.GenerateFromPassword([]byte("bench-password"), gateCost)
	if err != nil {
		fatalf("%v", err)
	}
	passwd := filepath.Join(dir, "htpasswd")
	auth := filepath.Join(dir, "auth.sh")
	if err := os.WriteFile(passwd, []byte("bench:"+string(hash)+"\n"), 0o600); err != nil {
		fatalf("%v", err)
	}
	script := "#!/bin/sh\n[ \"$QUERY_STRING\" = token=good ] || exit 1\necho REMOTE_USER=bench\n"
	if err := os.WriteFile(auth, []byte(script), 0o755); err != nil {
		fatalf("%v", err)
	}
	good := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("bench:bench-password"))}}
	wrong := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("bench:guess"))}}
	fwd := http.Header{"X-Forwarded-For": {"203.0.113.5"}, "X-Forwarded-Proto": {"https"}}

	none := h.startServer(h.cat)
	defer none.stop()
	basic := h.startServer("--basicauth="+passwd, h.cat)
	defer basic.stop()
	cmd := h.startServer("--auth-command="+auth, h.cat)
	defer cmd.stop()
	proxies := h.startServer("--trustedproxies=127.0.0.1", h.cat)
	defer proxies.stop()

	const n = 150
	rate := func(f func()) float64 {
		start := time.Now()
		for range n {
			f()
		}
		return n / time.Since(start).Seconds()
	}
	cases := []struct {
		r   row
		run func()
	}{
		{row{metric: "8. connection cycle, sequential, --basicauth", unit: "conn/s", higher: true,
			note: "bcrypt once, then cached; the baseline is the cycle without a gate"},
			func() { cycleOnce(basic, "/", good) }},
		{row{metric: "8. connection cycle, sequential, --auth-command", unit: "conn/s", higher: true,
			note: "a sh script checking the query string"},
			func() { cycleOnce(cmd, "/?token=good", nil) }},
		{row{metric: "8. connection cycle, sequential, --trustedproxies", unit: "conn/s", higher: true,
			note: "X-Forwarded-For and -Proto read"},
			func() { cycleOnce(proxies, "/", fwd) }},
	}
	refused := row{metric: "8. --basicauth refusals, wrong password", unit: "401/s", higher: true,
		note: "sequential; a bcrypt comparison each, cost 10"}
	for range 10 { // warm up every server
		cycleOnce(none, "/", nil)
		for _, c := range cases {
			c.run()
		}
	}
	for range h.repeat {
		for i := range cases {
			cases[i].r.value = append(cases[i].r.value, rate(cases[i].run))
			cases[i].r.base = append(cases[i].r.base, rate(func() { cycleOnce(none, "/", nil) }))
		}
		start := time.Now()
		const m = 10
		for range m {
			refuseOnce(basic, wrong, http.StatusUnauthorized)
		}
		refused.value = append(refused.value, m/time.Since(start).Seconds())
	}
	rows := make([]row, 0, len(cases)+1)
	for _, c := range cases {
		rows = append(rows, c.r)
	}
	return append(rows, refused)
}

// cycleOnce is one connection cycle as scenario 1 measures it: connect
// (to target, with hdr), "hi" and its echo, close, and the server's close
// of the socket once the program is reaped.
func cycleOnce(s *server, target string, hdr http.Header) {
	c, resp, err := wstest.Dial(s.addr, target, hdr)
	if err != nil {
		fatalf("dial %s%s: %v", s.addr, target, err)
	}
	if c == nil {
		fatalf("dial %s%s: status %s", s.addr, target, resp.Status)
	}
	rt(c, []byte("hi"), nil)
	c.WriteClose(wsproto.CloseNormal, "")
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := c.NextReader(); err != nil {
			var ce *wsproto.CloseError
			if !errors.As(err, &ce) || ce.Code != wsproto.CloseNormal {
				fatalf("cycle: close: %v", err)
			}
			break
		}
	}
	io.Copy(io.Discard, c.NetConn())
	c.Close()
}

// refuseOnce asks s for a WebSocket with hdr and checks it is refused with
// status.
func refuseOnce(s *server, hdr http.Header, status int) {
	c, resp, err := wstest.Dial(s.addr, "/", hdr)
	if c != nil {
		c.Close()
		fatalf("%s: accepted, want %d", s.addr, status)
	}
	if err != nil || resp.StatusCode != status {
		fatalf("%s: %v %v, want %d", s.addr, resp, err, status)
	}
}

//go:build !tiny

package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// samples parses the text exposition format into sample -> value, the
// sample named with its labels as written ("x_total{code=\"403\"}"). It
// fails on a sample whose family has no TYPE line before it.
func samples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	typed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			typed[strings.Fields(f)[0]] = true
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		family, _, _ := strings.Cut(name, "{")
		base := family
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !typed[family] && !typed[base] {
			t.Fatalf("sample %q before its TYPE line", line)
		}
		out[name] = v
	}
	return out
}

// scrape is what a GET of /metrics on s returns, parsed.
func scrape(t *testing.T, s *Server) map[string]float64 {
	t.Helper()
	w := httptest.NewRecorder()
	s.metrics.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	return samples(t, w.Body.String())
}

// exitState runs sh -c script and returns how it ended.
func exitState(t *testing.T, script string) *os.ProcessState {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("sh -c %q did not run", script)
	}
	return cmd.ProcessState
}

// TestMetricsExposition checks what each count becomes in the text
// format: histograms cumulative, with _sum in seconds and _count; label
// values; refusals by status and 1013; exits by class.
func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	var m metrics
	m.init()
	m.connected(700 * time.Microsecond) // le 0.001
	m.connected(3 * time.Second)        // past every bound
	m.disconnected(2 * time.Second)
	m.refused(http.StatusForbidden)
	m.refused(http.StatusForbidden)
	m.refused(http.StatusTooManyRequests)
	m.refused1013.Add(1)
	for _, script := range []string{"exit 0", "exit 3", "kill -9 $$"} {
		m.starting()
		m.started(true)
		m.exited(exitState(t, script))
	}
	m.starting()
	m.started(true) // still running
	m.starting()
	m.started(false) // did not start
	in, out := tally{}, tally{}
	in.add(5, true)
	out.add(3, false)
	out.add(4, true)
	in.publish(&m, dirIn)
	out.publish(&m, dirOut)
	m.drops.Add(1)
	m.reloaded(nil)
	m.reloaded(os.ErrNotExist)

	var b bytes.Buffer
	m.writeTo(&b)
	got := samples(t, b.String())
	for name, want := range map[string]float64{
		"wsexec_connections_open":                               1,
		"wsexec_connections_total":                              2,
		`wsexec_handshake_duration_seconds_bucket{le="0.0005"}`: 0,
		`wsexec_handshake_duration_seconds_bucket{le="0.001"}`:  1,
		`wsexec_handshake_duration_seconds_bucket{le="2.5"}`:    1,
		`wsexec_handshake_duration_seconds_bucket{le="+Inf"}`:   2,
		"wsexec_handshake_duration_seconds_sum":                 3.0007,
		"wsexec_handshake_duration_seconds_count":               2,
		`wsexec_connection_duration_seconds_bucket{le="1"}`:     0,
		`wsexec_connection_duration_seconds_bucket{le="10"}`:    1,
		`wsexec_connection_duration_seconds_bucket{le="+Inf"}`:  1,
		"wsexec_connection_duration_seconds_count":              1,
		`wsexec_refusals_total{code="403"}`:                     2,
		`wsexec_refusals_total{code="429"}`:                     1,
		`wsexec_refusals_total{code="1013"}`:                    1,
		"wsexec_programs_running":                               1,
		"wsexec_programs_started_total":                         4,
		`wsexec_programs_exited_total{status="0"}`:              1,
		`wsexec_programs_exited_total{status="nonzero"}`:        1,
		`wsexec_programs_exited_total{status="signal"}`:         1,
		`wsexec_messages_total{direction="in"}`:                 1,
		`wsexec_messages_total{direction="out"}`:                1,
		`wsexec_message_bytes_total{direction="in"}`:            5,
		`wsexec_message_bytes_total{direction="out"}`:           7,
		"wsexec_broadcast_drops_total":                          1,
		`wsexec_reloads_total{result="ok"}`:                     1,
		`wsexec_reloads_total{result="failed"}`:                 1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	// Only statuses that were refused appear.
	for name := range got {
		if strings.HasPrefix(name, "wsexec_refusals_total") && !slices.Contains([]string{"403", "429", "1013"}, name[len(`wsexec_refusals_total{code="`):len(name)-2]) {
			t.Errorf("unexpected %s", name)
		}
	}
}

// metricsServer serves cfg (the command argv) in process and returns the
// server and its address.
func metricsServer(t *testing.T, cfg Config, argv ...string) (*Server, string) {
	t.Helper()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		t.Skipf("%s not found: %v", argv[0], err)
	}
	cfg.Command, cfg.Path = argv, path
	cfg.Addresses = []string{"127.0.0.1:0"}
	cfg.CloseGrace, cfg.KillGrace = 100*time.Millisecond, 100*time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, strings.TrimPrefix(ts.URL, "http://")
}

// waitSamples waits until every sample in want has its value.
func waitSamples(t *testing.T, s *Server, want map[string]float64) {
	t.Helper()
	waitFor(t, 10*time.Second, func() error {
		got := scrape(t, s)
		for name, v := range want {
			if got[name] != v {
				return fmt.Errorf("%s = %v, want %v", name, got[name], v)
			}
		}
		return nil
	})
}

// TestMetricsCount drives a server and checks its counts: connections,
// the handshake's and the connection's durations, messages and bytes
// each way (batches of several messages, and a fragmented one), the
// program's start and exit, a refusal.
func TestMetricsCount(t *testing.T) {
	t.Parallel()
	s, addr := metricsServer(t, Config{}, "cat")
	c := dialTest(t, addr)
	defer c.Close()
	c.NetConn().SetDeadline(time.Now().Add(20 * time.Second))
	waitSamples(t, s, map[string]float64{
		"wsexec_connections_open":                 1,
		"wsexec_connections_total":                1,
		"wsexec_handshake_duration_seconds_count": 1,
		"wsexec_programs_running":                 1,
		"wsexec_programs_started_total":           1,
	})
	big := bytes.Repeat([]byte("y"), 100<<10) // a line longer than the codec's buffer: sent back in fragments
	for _, msg := range [][]byte{[]byte("one"), []byte("two"), []byte("three"), big} {
		if err := c.WriteMessage(wsproto.OpText, msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, _, err := c.ReadMessage(nil); err != nil {
			t.Fatal(err)
		}
	}
	n := float64(len("one") + len("two") + len("three") + len(big))
	waitSamples(t, s, map[string]float64{
		`wsexec_messages_total{direction="in"}`:       4,
		`wsexec_messages_total{direction="out"}`:      4,
		`wsexec_message_bytes_total{direction="in"}`:  n,
		`wsexec_message_bytes_total{direction="out"}`: n,
	})

	// A refusal: an upgrade in a version the server does not speak.
	r := rawHTTP(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
	if r.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("version 8: %s, want 426", r.Status)
	}
	c.WriteClose(wsproto.CloseNormal, "")
	waitSamples(t, s, map[string]float64{
		`wsexec_refusals_total{code="426"}`:        1,
		"wsexec_connections_open":                  0,
		"wsexec_connection_duration_seconds_count": 1,
		"wsexec_programs_running":                  0,
		`wsexec_programs_exited_total{status="0"}`: 1, // cat, at the end of its stdin
	})
}

// rawHTTP sends req on a connection of its own and returns the response.
func rawHTTP(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestMetricsBroadcast: with a shared program, each message it prints
// counts once per client it is sent to; a client dropped for falling
// behind is counted.
func TestMetricsBroadcast(t *testing.T) {
	t.Parallel()
	s, addr := metricsServer(t, Config{Broadcast: true}, "cat")
	cs := clients(t, addr, "/", 2, nil)
	send(t, cs[0], wsproto.OpText, "hello")
	for _, c := range cs {
		if got := recvText(t, c); got != "hello" {
			t.Fatalf("got %q", got)
		}
	}
	waitSamples(t, s, map[string]float64{
		"wsexec_programs_started_total":               1,
		"wsexec_connections_open":                     2,
		`wsexec_messages_total{direction="in"}`:       1,
		`wsexec_messages_total{direction="out"}`:      2,
		`wsexec_message_bytes_total{direction="in"}`:  5,
		`wsexec_message_bytes_total{direction="out"}`: 10,
	})

	// A member whose queue cannot take the next message is dropped.
	h := &hub{s: s}
	m := &member{h: h, log: slog.New(slog.DiscardHandler), limit: 8, quit: make(chan struct{})}
	pm := wsproto.NewPreparer(nil).Prepare(wsproto.OpText, []byte("more than eight bytes"), true, false)
	if m.enqueue(pm) {
		t.Fatal("a message larger than the queue was queued")
	}
	pm.Shared(0)
	waitSamples(t, s, map[string]float64{"wsexec_broadcast_drops_total": 1})
}

// TestMetricsListener: Run serves the metrics at MetricsAddr, GET
// /metrics only, and logs where.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	path, err := exec.LookPath("cat")
	if err != nil {
		t.Skip(err)
	}
	s, err := New(Config{
		Command: []string{"cat"}, Path: path,
		Addresses:   []string{"127.0.0.1:0"},
		MetricsAddr: "127.0.0.1:0",
		Logger:      slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var url string
	waitFor(t, 10*time.Second, func() error {
		for line := range strings.Lines(logs.String()) {
			if _, rest, ok := strings.Cut(line, "msg=metrics "); ok {
				_, u, _ := strings.Cut(rest, "url=")
				url = strings.TrimSpace(u)
				return nil
			}
		}
		return fmt.Errorf("no metrics line in the log")
	})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/metrics", 200},
		{"HEAD", "/metrics", 200},
		{"POST", "/metrics", 405},
		{"GET", "/", 404},
	} {
		req, _ := http.NewRequest(tc.method, strings.TrimSuffix(url, "/metrics")+tc.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.method == "GET" && tc.status == 200 && !bytes.Contains(body, []byte("wsexec_connections_total 0\n")) {
			t.Errorf("GET /metrics: %q", body)
		}
	}
}

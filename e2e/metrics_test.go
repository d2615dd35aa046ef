package e2e

// --metrics: the Prometheus endpoint of the real binary, checked by
// promtool (Debian's prometheus package; .ci/run installs it).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var metricsRE = regexp.MustCompile(`msg=metrics addr=(\S+)`)

// getMetrics fetches the metrics text from addr.
func getMetrics(t *testing.T, addr string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	return string(body)
}

// sampleValue finds the value of the sample written exactly as name (with
// its labels) in text, or -1.
func sampleValue(text, name string) float64 {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestMetricsPromtool serves metrics beside a cat endpoint, drives a
// connection and a refusal through it, checks the counts and has promtool
// check the whole text.
func TestMetricsPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	requireClient(t, "promtool", err)
	s := startServer(t, "--metrics=127.0.0.1:0", "cat")
	m := metricsRE.FindStringSubmatch(s.logText())
	if m == nil {
		t.Fatalf("no metrics line in the log:\n%s", s.logText())
	}
	maddr := m[1]
	accepted(t, s.addr, nil) // "ping" and its echo, then a close
	if r := rawRequest(t, s.addr, "GET", "/a/../b", true); r.status != http.StatusBadRequest {
		t.Fatalf("dot segment: %d, want 400", r.status)
	}
	want := map[string]float64{
		"wsexec_connections_total":                    1,
		"wsexec_connections_open":                     0,
		`wsexec_refusals_total{code="400"}`:           1,
		"wsexec_programs_started_total":               1,
		"wsexec_programs_running":                     0,
		`wsexec_programs_exited_total{status="0"}`:    1,
		`wsexec_messages_total{direction="in"}`:       1,
		`wsexec_messages_total{direction="out"}`:      1,
		`wsexec_message_bytes_total{direction="in"}`:  4,
		`wsexec_message_bytes_total{direction="out"}`: 4,
		"wsexec_handshake_duration_seconds_count":     1,
		"wsexec_connection_duration_seconds_count":    1,
	}
	var text string
	waitFor(t, 10*time.Second, "the connection's counts", func() bool {
		text = getMetrics(t, maddr)
		for name, v := range want {
			if sampleValue(text, name) != v {
				return false
			}
		}
		return true
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || out.Len() > 0 {
		t.Fatalf("promtool check metrics: %v\n%s\nthe text:\n%s", err, out.String(), text)
	}
}

// TestMetricsFlag: --metrics takes HOST:PORT (the host may be empty: every
// interface); anything else is a usage error naming the flag. A port in
// use is found when listening (status 1).
func TestMetricsFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ value, want string }{
		{"9100", "want HOST:PORT"},
		{"127.0.0.1", "want HOST:PORT"},
		{"127.0.0.1:http", "not a port number"},
		{"127.0.0.1:70000", "not a port number"},
		{"[::1", "want HOST:PORT"},
		{"a/b:9100", "not an IP address or host name"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			runExitWants(t, 2, []string{fmt.Sprintf("--metrics %q", tc.value), tc.want}, "--port=0", "--metrics="+tc.value, "cat")
		})
	}
	s := startServer(t, "cat")
	runExit(t, 3, "listen (metrics)", "--port=0", "--address=127.0.0.1", "--metrics="+s.addr, "cat") // cannot listen: 3, as websocketd
}

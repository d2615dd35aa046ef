package e2e

// Behind a proxy: --trustedproxies, with headers sent by hand and with
// nginx in front (Debian's nginx; WSEXEC_NGINX points elsewhere).

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// TestTrustedProxies: from a trusted peer the forwarding headers name the
// client (REMOTE_ADDR, HTTPS, SERVER_NAME, SERVER_PORT, --sameorigin and
// the log); from any other they are only headers; malformed ones from a
// trusted peer are refused.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	fwd := http.Header{
		"X-Forwarded-For":   {"6.6.6.6, 203.0.113.5"},
		"X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host":  {"app.example"},
	}
	with := func(extra http.Header) http.Header {
		h := fwd.Clone()
		for k, v := range extra {
			h[k] = v
		}
		return h
	}

	s := startServer(t, "--trustedproxies=10.0.0.0/8,127.0.0.1", "--sameorigin", "../examples/bash/env.sh")
	env := readEnv(t, dial(t, s.addr, "/", with(http.Header{"Origin": {"https://app.example"}})))
	want := map[string]string{"REMOTE_ADDR": "203.0.113.5", "REMOTE_HOST": "203.0.113.5", "REMOTE_PORT": "", "HTTPS": "on",
		"SERVER_NAME": "app.example", "SERVER_PORT": "443", "HTTP_HOST": "app.example"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("trusted: %s = %q, want %q", k, env[k], v)
		}
	}
	waitFor(t, 5*time.Second, "the client's address in the log", func() bool {
		return strings.Contains(s.logText(), "msg=connect conn=1 remote=203.0.113.5 ")
	})
	refusals := []struct {
		name   string
		hdr    http.Header
		status int
		reason string
	}{
		{"the proxy's own origin", with(http.Header{"Origin": {"http://" + s.addr}}), 403, `the request's "https://app.example"`},
		{"no address", with(http.Header{"X-Forwarded-For": {"unknown"}}), 400, `"unknown" is not an address`},
		{"bad scheme", with(http.Header{"X-Forwarded-Proto": {"gopher"}}), 400, "not http or https"},
		{"bad host", with(http.Header{"X-Forwarded-Host": {"app.example:0"}}), 400, "malformed forwarded host"},
	}
	for _, tc := range refusals {
		c, resp, err := dialWS(s.addr, "/", tc.hdr)
		if c != nil || err != nil {
			t.Fatalf("%s: accepted (%v)", tc.name, err)
		}
		body := make([]byte, 512)
		n, _ := resp.Body.Read(body)
		if resp.StatusCode != tc.status || !strings.Contains(string(body[:n]), tc.reason) {
			t.Errorf("%s: %s %q, want %d saying %q", tc.name, resp.Status, body[:n], tc.status, tc.reason)
		}
	}

	untrusted := startServer(t, "--trustedproxies=10.0.0.0/8", "../examples/bash/env.sh")
	env = readEnv(t, dial(t, untrusted.addr, "/", fwd))
	host, port, _ := net.SplitHostPort(untrusted.addr)
	want = map[string]string{"REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": host, "SERVER_PORT": port,
		"HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5", "HTTP_X_FORWARDED_PROTO": "https"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("untrusted: %s = %q, want %q", k, env[k], v)
		}
	}
	if v, ok := env["HTTPS"]; ok {
		t.Errorf("untrusted: HTTPS = %q", v)
	}
}

// nginxPath finds nginx: $WSEXEC_NGINX, else /usr/sbin/nginx (Debian's),
// else nginx on PATH.
var nginxPath = sync.OnceValues(func() (string, error) { return peerBinary("WSEXEC_NGINX", "/usr/sbin/nginx", "nginx") })

// startNginx runs nginx in the foreground with the http block's body
// given, its pid file, logs and temporary files under a directory of the
// test's, and stops it (and reaps its workers) when the test ends. It
// waits until nginx accepts on addr.
func startNginx(t *testing.T, addr, httpBlock string) {
	t.Helper()
	bin, err := nginxPath()
	requireClient(t, "nginx", err)
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 { // its workers would run as nobody, who cannot read the test's files
		user = "user root root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 64; }
http {
	access_log %[2]s/access.log;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
%[3]s
}
`, user, dir, httpBlock)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confFile, "-g", "daemon off;")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &stderrWatch{url: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		requireClient(t, "nginx", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	errorLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return out.String() + string(b)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // the master and its worker
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("nginx's log:\n%s", errorLog())
		}
	})
	waitFor(t, 10*time.Second, "nginx to listen", func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("nginx exited: %v\n%s", err, errorLog())
		default:
		}
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
}

// TestNginxProxy puts nginx in front of two wsexec, terminating TLS and
// connecting from its own loopback address, 127.0.0.3, with the usual
// X-Forwarded-* settings. The client connects from 127.0.0.2 and sends an
// X-Forwarded-For of its own. The wsexec that trusts 127.0.0.3 sees the
// client's address, https and nginx's host and port, and its
// --sameorigin takes the page's https origin; the one that trusts no
// proxy sees nginx.
func TestNginxProxy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3 here (Linux routes all of 127.0.0.0/8 to loopback): %v", err)
	}
	ln.Close()
	p := &pki{t: t, dir: t.TempDir()}
	ca := p.ca("nginx-ca")
	cert, key, _ := p.leaf(ca, "nginx", true)
	trusting := startServer(t, "--trustedproxies=127.0.0.3", "--sameorigin", "../examples/bash/env.sh")
	plain := startServer(t, "../examples/bash/env.sh")
	front := "127.0.0.1:" + strconv.Itoa(freePort(t))
	startNginx(t, front, fmt.Sprintf(`
	server {
		listen %s ssl;
		ssl_certificate %s;
		ssl_certificate_key %s;
		proxy_bind 127.0.0.3;
		proxy_http_version 1.1;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection "upgrade";
		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		proxy_set_header X-Forwarded-Proto $scheme;
		proxy_set_header X-Forwarded-Host $http_host;
		location /trusting/ { proxy_pass http://%s; }
		location /plain/ { proxy_pass http://%s; }
	}`, front, cert, key, trusting.addr, plain.addr))

	_, frontPort, _ := net.SplitHostPort(front)
	dialFront := func(target, origin string) (*wsproto.Conn, *http.Response, error) {
		d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
		nc, err := tls.DialWithDialer(d, "tcp", front, &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1"})
		if err != nil {
			return nil, nil, err
		}
		c, resp, err := wstest.Handshake(nc, front, target, http.Header{"X-Forwarded-For": {"6.6.6.6"}, "Origin": {origin}})
		if c == nil {
			nc.Close()
			if err == nil {
				err = errors.New("refused: " + resp.Status)
			}
		}
		return c, resp, err
	}

	c, _, err := dialFront("/trusting/", "https://"+front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := readEnv(t, c)
	want := map[string]string{"REMOTE_ADDR": "127.0.0.2", "HTTPS": "on", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": frontPort,
		"HTTP_X_FORWARDED_FOR": "6.6.6.6, 127.0.0.2", "PATH_INFO": "/trusting/"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("trusting nginx: %s = %q, want %q", k, env[k], v)
		}
	}
	waitFor(t, 5*time.Second, "the client's address in the log", func() bool {
		return strings.Contains(trusting.logText(), "msg=connect conn=1 remote=127.0.0.2 ")
	})
	if _, resp, err := dialFront("/trusting/", "http://"+front); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("an http origin through https: %v %v, want 403", resp, err)
	}

	c, _, err = dialFront("/plain/", "https://"+front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env = readEnv(t, c)
	if env["REMOTE_ADDR"] != "127.0.0.3" || env["HTTP_X_FORWARDED_PROTO"] != "https" {
		t.Errorf("not trusting nginx: REMOTE_ADDR %q, HTTP_X_FORWARDED_PROTO %q; want nginx's 127.0.0.3 and the header as it came", env["REMOTE_ADDR"], env["HTTP_X_FORWARDED_PROTO"])
	}
	if v, ok := env["HTTPS"]; ok {
		t.Errorf("not trusting nginx: HTTPS = %q", v)
	}
}

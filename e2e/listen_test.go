package e2e

// Integration tests for listening, TLS, redirects, extra headers and the
// config file, through the real binary (built by TestMain in main_test.go).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// upgrade asks addr for a WebSocket and returns the response, closing the
// connection if it was accepted.
func upgrade(addr string, hdr http.Header) (*http.Response, error) {
	c, resp, err := dialWS(addr, "/", hdr)
	if c != nil {
		c.Close()
	}
	return resp, err
}

// upgrade101 asks addr for a WebSocket, fails unless the answer is a 101,
// and returns the 101's headers.
func upgrade101(t *testing.T, addr string) http.Header {
	t.Helper()
	resp, err := upgrade(addr, nil)
	if err != nil {
		t.Fatalf("upgrade at %s: %v", addr, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade at %s: %s, want 101", addr, resp.Status)
	}
	return resp.Header
}

// headers101 launches wsexec with args, as launch does, and returns the
// headers of its 101 to an upgrade, failing unless it is a 101.
func headers101(t *testing.T, args ...string) http.Header {
	t.Helper()
	return upgrade101(t, launch(t, args...).addr)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// shortTempDir is a temporary directory with a path short enough for a
// Unix socket (108 bytes on Linux; t.TempDir's can be longer).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func dialUnix(t *testing.T, path, target string) *wsproto.Conn {
	t.Helper()
	nc, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatalf("dial unix %s: %v", path, err)
	}
	c, resp, err := wstest.Handshake(nc, "localhost", target, nil)
	if err != nil || c == nil {
		nc.Close()
		t.Fatalf("handshake over %s: %v %v", path, resp, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnixSocketLifecycle(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(shortTempDir(t), "ws.sock")

	// A socket file nobody accepts on: stale, to be replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no stale socket to test with: %v", err)
	}

	s := launch(t, "--unixsocket="+sock, "cat")
	if s.addr != sock {
		t.Fatalf("listening addr %q, want the socket path %q", s.addr, sock)
	}
	if strings.Contains(s.logText(), "addr=127.0.0.1") || strings.Count(s.logText(), "msg=listening") != 1 {
		t.Fatalf("a Unix socket alone must be the only listener:\n%s", s.logText())
	}
	c := dialUnix(t, sock, "/")
	echo(t, c, "over a unix socket")
	c.Close()

	// A live socket is refused, and left alone.
	runExit(t, 1, "another server is listening", "--unixsocket="+sock, "cat")
	c = dialUnix(t, sock, "/")
	echo(t, c, "still served")
	c.Close()

	// Shutdown removes the file.
	if err := s.stop(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file left after shutdown: %v", err)
	}
}

func TestUnixSocketNotASocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortTempDir(t), "file")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	runExit(t, 1, "not a socket", "--unixsocket="+path, "cat")
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Fatalf("the file was touched: %v %q", err, b)
	}
}

func TestUnixSocketWithTCP(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(shortTempDir(t), "ws.sock")
	s := launch(t, "--port=0", "--address=127.0.0.1", "--uds="+sock, "cat")
	echo(t, dial(t, s.addr, "/", nil), "tcp")
	echo(t, dialUnix(t, sock, "/"), "unix")
}

// pki writes certificates for the TLS tests into a temporary directory.
type pki struct {
	t   *testing.T
	dir string
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the certificate, PEM
}

var serial atomic.Int64 // certificate serial numbers, shared by parallel tests

func (p *pki) key() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	return k
}

func (p *pki) write(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// ca makes a self-signed CA.
func (p *pki) ca(name string) *issuer {
	k := p.key()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		p.t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &issuer{cert: cert, key: k, file: p.write(name+".pem", "CERTIFICATE", der)}
}

// leaf makes a certificate signed by ca, for a server (127.0.0.1, ::1 and
// localhost) or a client, and returns its certificate and key files and
// the pair loaded.
func (p *pki) leaf(ca *issuer, name string, server bool) (certFile, keyFile string, pair tls.Certificate) {
	k := p.key()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		p.t.Fatal(err)
	}
	certFile = p.write(name+".pem", "CERTIFICATE", der)
	keyFile = p.write(name+".key", "PRIVATE KEY", kder)
	pair, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		p.t.Fatal(err)
	}
	return certFile, keyFile, pair
}

func (is *issuer) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(is.cert)
	return pool
}

// dialTLS opens a WebSocket over TLS with cfg.
func dialTLS(addr, target string, cfg *tls.Config) (*wsproto.Conn, *http.Response, error) {
	return dialTLSHeader(addr, target, cfg, nil)
}

// dialTLSHeader is dialTLS adding hdr to the request. Refused, it returns
// a nil Conn, the response with its body kept, and an error.
func dialTLSHeader(addr, target string, cfg *tls.Config, hdr http.Header) (*wsproto.Conn, *http.Response, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, nil, err
	}
	c, resp, err := wstest.Handshake(nc, addr, target, hdr)
	if c == nil {
		nc.Close()
		if err == nil {
			err = errors.New("refused: " + resp.Status)
		}
	}
	return c, resp, err
}

// tlsServer starts wsexec with TLS and extra args, serving cmd.
func tlsServer(t *testing.T, extra []string, cmd ...string) (*instance, *issuer, *pki) {
	t.Helper()
	p := &pki{t: t, dir: t.TempDir()}
	ca := p.ca("test-ca")
	cert, key, _ := p.leaf(ca, "server", true)
	args := append([]string{"--port=0", "--address=127.0.0.1", "--ssl", "--sslcert=" + cert, "--sslkey=" + key}, extra...)
	return launch(t, append(args, cmd...)...), ca, p
}

func TestTLSEchoAndEnvironment(t *testing.T) {
	t.Parallel()
	s, ca, _ := tlsServer(t, nil, "cat")
	if !strings.Contains(s.logText(), "url=wss://"+s.addr+"/") {
		t.Fatalf("listening line does not say wss://:\n%s", s.logText())
	}
	cfg := &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1"}
	c, _, err := dialTLS(s.addr, "/", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, "over TLS")
	st := c.NetConn().(*tls.Conn).ConnectionState()
	if st.Version < tls.VersionTLS12 || st.NegotiatedProtocol != "http/1.1" && st.NegotiatedProtocol != "" {
		t.Fatalf("version %x, ALPN %q", st.Version, st.NegotiatedProtocol)
	}

	// TLS 1.1 and older are refused.
	old := &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	if c, _, err := dialTLS(s.addr, "/", old); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 client was accepted")
	}
	// Plain WebSocket to the TLS port does not get through.
	if c, resp, err := dialWS(s.addr, "/", nil); err == nil && c != nil {
		c.Close()
		t.Fatalf("plain ws:// accepted on the TLS port: %v", resp.Status)
	}
}

func TestTLSHTTPSVariable(t *testing.T) {
	t.Parallel()
	s, ca, _ := tlsServer(t, nil, "../examples/bash/env.sh")
	c, _, err := dialTLS(s.addr, "/x?y=1", &tls.Config{RootCAs: ca.pool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := readEnv(t, c)
	if env["HTTPS"] != "on" || env["QUERY_STRING"] != "y=1" {
		t.Fatalf("HTTPS=%q QUERY_STRING=%q, want on and y=1", env["HTTPS"], env["QUERY_STRING"])
	}
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := &pki{t: t, dir: t.TempDir()}
	ca := p.ca("server-ca")
	cert, key, _ := p.leaf(ca, "server", true)
	clientCA := p.ca("client-ca")
	_, _, good := p.leaf(clientCA, "alice", false)
	otherCA := p.ca("other-ca")
	_, _, bad := p.leaf(otherCA, "mallory", false)
	s := launch(t, "--port=0", "--address=127.0.0.1", "--ssl", "--sslcert="+cert, "--sslkey="+key,
		"--sslca="+clientCA.file, "sh", "-c", `echo "$SSL_CLIENT_S_DN"; exec cat`)

	base := &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1"}
	accepted := base.Clone()
	accepted.Certificates = []tls.Certificate{good}
	c, _, err := dialTLS(s.addr, "/", accepted)
	if err != nil {
		t.Fatalf("client certificate from the CA: %v", err)
	}
	if got := readText(t, c); got != "CN=alice" {
		t.Errorf("SSL_CLIENT_S_DN = %q, want CN=alice", got)
	}
	echo(t, c, "mutual")
	c.Close()

	wrong := base.Clone()
	wrong.Certificates = []tls.Certificate{bad}
	for name, cfg := range map[string]*tls.Config{"no certificate": base, "another CA's certificate": wrong} {
		// Under TLS 1.3 the server checks the client's certificate after
		// the client's handshake is done, so the refusal may come with
		// the first read rather than from Dial: either fails the upgrade.
		c, resp, err := dialTLS(s.addr, "/", cfg)
		if err == nil {
			c.Close()
			t.Errorf("%s: accepted (%v)", name, resp.Status)
		}
	}
}

func TestTLSUsageErrors(t *testing.T) {
	t.Parallel()
	p := &pki{t: t, dir: t.TempDir()}
	ca := p.ca("ca")
	cert, key, _ := p.leaf(ca, "server", true)
	unreadable := filepath.Join(p.dir, "nothing.pem")
	garbage := filepath.Join(p.dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--port=0", "--address=127.0.0.1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ssl without cert", []string{"--ssl", "--sslkey=" + key}, "--sslcert"},
		{"ssl without key", []string{"--ssl", "--sslcert=" + cert}, "--sslkey"},
		{"cert without ssl", []string{"--sslcert=" + cert, "--sslkey=" + key}, "needs --ssl"},
		{"missing cert", []string{"--ssl", "--sslcert=" + unreadable, "--sslkey=" + key}, "--sslcert " + unreadable},
		{"missing key", []string{"--ssl", "--sslcert=" + cert, "--sslkey=" + unreadable}, "--sslkey " + unreadable},
		{"garbage cert", []string{"--ssl", "--sslcert=" + garbage, "--sslkey=" + key}, "--sslcert"},
		{"key of another cert", []string{"--ssl", "--sslcert=" + cert, "--sslkey=" + garbage}, "--sslkey"},
		{"missing ca", []string{"--ssl", "--sslcert=" + cert, "--sslkey=" + key, "--sslca=" + unreadable}, "--sslca"},
		{"garbage ca", []string{"--ssl", "--sslcert=" + cert, "--sslkey=" + key, "--sslca=" + garbage}, "--sslca"},
		{"bad redirport", []string{"--redirport=70000"}, "--redirport"},
		{"header without colon", []string{"--header=X-Nothing"}, "--header"},
		{"header bad name", []string{"--header=Bad Name: x"}, "not a token"},
		{"header reserved", []string{"--header-ws=Sec-WebSocket-Accept: x"}, "--header-ws"},
		{"header control char", []string{"--header-http=X-A: a\x01b"}, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append(append(append([]string{}, base...), tc.args...), "cat")...)
		})
	}
	t.Run("redirport without tcp", func(t *testing.T) {
		t.Parallel()
		runFail(t, "--redirport", "--unixsocket="+filepath.Join(shortTempDir(t), "s"), "--redirport=8081", "cat")
	})
}

func TestRedirectKeepsPathAndQuery(t *testing.T) {
	t.Parallel()
	redir := freePort(t)
	s, ca, _ := tlsServer(t, []string{"--redirport=" + strconv.Itoa(redir), "--header=X-All: yes"}, "cat")
	_, port, _ := net.SplitHostPort(s.addr)
	waitFor(t, 10*time.Second, "the redirect listener", func() bool {
		return strings.Contains(s.logText(), "msg=redirecting addr=127.0.0.1:"+strconv.Itoa(redir))
	})
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("http://localhost:" + strconv.Itoa(redir) + "/a/b?c=d&e=%20f")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "https://localhost:" + port + "/a/b?c=d&e=%20f"
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Fatalf("%s, Location %q; want 301 to %q", resp.Status, resp.Header.Get("Location"), want)
	}
	if resp.Header.Get("X-All") != "yes" {
		t.Errorf("--header missing on the redirect: %v", resp.Header)
	}
	// Following it reaches the TLS endpoint (a plain GET there: 426).
	follow := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.pool()},
	}}
	defer follow.CloseIdleConnections()
	resp, err = follow.Get("http://localhost:" + strconv.Itoa(redir) + "/a?b=c")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Request.URL.String() != "https://localhost:"+port+"/a?b=c" {
		t.Fatalf("after the redirect: %s at %s", resp.Status, resp.Request.URL)
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

func TestSingleDashFlags(t *testing.T) {
	t.Parallel()
	h := headers101(t, "-port=0", "-address", "127.0.0.1", "-header-ws=X-Dash: one", "cat")
	if got := h.Get("X-Dash"); got != "one" {
		t.Fatalf("single-dash flags: X-Dash %q, want one", got)
	}
}

func TestIPv6Loopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
	// --address repeated: both listen, on the same port (--port=0 picks
	// one per address, so each is read from its own log line).
	s := launch(t, "--port=0", "--address=[::1]", "--address", "127.0.0.1", "../examples/bash/env.sh")
	if !strings.HasPrefix(s.addr, "[::1]:") {
		t.Fatalf("listening on %q, want [::1]:port", s.addr)
	}
	env := readEnv(t, dial(t, s.addr, "/", nil))
	if env["REMOTE_ADDR"] != "::1" || env["SERVER_NAME"] != "::1" {
		t.Fatalf("REMOTE_ADDR=%q SERVER_NAME=%q, want ::1", env["REMOTE_ADDR"], env["SERVER_NAME"])
	}
	var v4 string
	waitFor(t, 10*time.Second, "the second listening line", func() bool {
		m := listeningRE.FindAllStringSubmatch(s.logText(), -1)
		if len(m) < 2 {
			return false
		}
		v4 = m[1][1]
		return true
	})
	if !strings.HasPrefix(v4, "127.0.0.1:") {
		t.Fatalf("second listener %q, want 127.0.0.1:port", v4)
	}
	if got := readEnv(t, dial(t, v4, "/", nil))["REMOTE_ADDR"]; got != "127.0.0.1" {
		t.Fatalf("over IPv4: REMOTE_ADDR=%q", got)
	}
}

func TestReverseLookup(t *testing.T) {
	t.Parallel()
	names, err := net.LookupAddr("127.0.0.1")
	if err != nil || len(names) == 0 {
		t.Skipf("127.0.0.1 has no reverse name here: %v", err)
	}
	want := strings.TrimSuffix(names[0], ".")
	s := startServer(t, "--reverselookup", "../examples/bash/env.sh")
	if got := readEnv(t, dial(t, s.addr, "/", nil))["REMOTE_HOST"]; got != want {
		t.Fatalf("REMOTE_HOST = %q, want %q", got, want)
	}
	plain := startServer(t, "../examples/bash/env.sh")
	if got := readEnv(t, dial(t, plain.addr, "/", nil))["REMOTE_HOST"]; got != "127.0.0.1" {
		t.Fatalf("without --reverselookup REMOTE_HOST = %q, want the address", got)
	}
}

func TestLicense(t *testing.T) {
	t.Parallel()
	out, _, err := runBin(t, "--license")
	want, rerr := os.ReadFile("../LICENSE")
	if err != nil || rerr != nil || out != string(want) || !strings.Contains(out, "MIT") {
		t.Fatalf("--license: %v %v %q", err, rerr, out)
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yml := filepath.Join(dir, "wsexec.yaml")
	writeFile(yml, "port: 0\naddress: [127.0.0.1]\nheader-ws: \"X-From: file\"\n"+
		"header-http:\n  - \"X-A: 1\"\n  - \"X-B: 2, 3\"\n")

	// Values from the file apply; a single value stands for a list of one,
	// and a comma in a list item is part of the header value.
	s := launch(t, "--config="+yml, "cat")
	if got := upgrade101(t, s.addr).Get("X-From"); got != "file" {
		t.Fatalf("file values: X-From %q, want file", got)
	}
	r, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.Header.Get("X-A") != "1" || len(r.Header.Values("X-B")) != 1 || r.Header.Get("X-B") != "2, 3" {
		t.Fatalf("a list in the file: %v", r.Header)
	}

	// The command line wins.
	h := headers101(t, "--config", yml, "--header-ws=X-From: command line", "cat")
	if got := h.Values("X-From"); !slices.Equal(got, []string{"command line"}) {
		t.Fatalf("command line over file: X-From %q, want [command line]", got)
	}

	// TOML, chosen by extension.
	tml := filepath.Join(dir, "wsexec.toml")
	writeFile(tml, "port = 0\naddress = [\"127.0.0.1\"]\nheader = \"X-Toml: yes\"\n")
	if got := headers101(t, "-config="+tml, "cat").Get("X-Toml"); got != "yes" {
		t.Fatalf("toml: X-Toml %q, want yes", got)
	}

	bad := filepath.Join(dir, "bad.yaml")
	writeFile(bad, "port: [0\n")
	badTOML := filepath.Join(dir, "bad.toml")
	writeFile(badTOML, "port = [0\n")
	wrongType := filepath.Join(dir, "type.toml")
	writeFile(wrongType, "port = \"eighty\"\n")
	wrongItem := filepath.Join(dir, "item.yaml")
	writeFile(wrongItem, "header: [\"X-A: 1\", 2]\n")
	ext := filepath.Join(dir, "wsexec.ini")
	writeFile(ext, "port=0\n")
	missing := filepath.Join(dir, "missing.yaml")
	for _, tc := range []struct{ file, want string }{
		{bad, "yaml: line 1"},
		{badTOML, "toml: line 1"},
		{wrongType, `key "port": want a whole number, not a string`},
		{wrongItem, `key "header", item 2: want a string, not a whole number`},
		{ext, `extension ".ini"`},
		{missing, "no such file"},
	} {
		runExitWants(t, 2, []string{"--config " + tc.file + ": ", tc.want}, "--config="+tc.file, "cat")
	}
}

// TestExampleConfigFile checks that docs/wsexec.example.yaml names only
// real flags, with values they accept: with it, the only complaint left is
// the missing program.
func TestExampleConfigFile(t *testing.T) {
	t.Parallel()
	runFail(t, "not found: /nonexistent/program", "--config=../docs/wsexec.example.yaml", "--port=0",
		"--address=127.0.0.1", "/nonexistent/program")
}

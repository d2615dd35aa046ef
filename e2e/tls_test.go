package e2e

// TLS: --ssl and its certificates, client certificates, --sameorigin
// over https, and --redirport.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

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

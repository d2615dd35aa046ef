//go:build !tiny

package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
)

// TLSSettings are the Config fields for TLS, which the tiny build leaves
// out (its TLSSettings has none).
type TLSSettings struct {
	// TLS, when set, is used on every listener (see TLSConfig).
	TLS *tls.Config
	// CertFile and KeyFile, when set, name the PEM files of TLS's
	// certificate chain and key: New loads them, Reload loads them again,
	// and each TLS handshake presents the pair last loaded (TLS's
	// Certificates are not used). They go together, and need TLS.
	CertFile, KeyFile string
}

// secure reports whether the listeners speak TLS.
func (s *Server) secure() bool { return s.cfg.TLS != nil }

// newCert checks cfg's TLS settings and loads CertFile and KeyFile, if
// given, into the certificate every TLS handshake presents; nil when they
// are not given.
func newCert(cfg *Config) (*certFiles, error) {
	if cfg.CertFile == "" && cfg.KeyFile == "" {
		return nil, nil
	}
	if cfg.TLS == nil || cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, errors.New("CertFile and KeyFile go together, with TLS")
	}
	cert := &certFiles{cert: cfg.CertFile, key: cfg.KeyFile}
	if err := cert.load(); err != nil {
		return nil, err
	}
	cfg.TLS = cfg.TLS.Clone() // the caller's is left as it is
	cfg.TLS.Certificates = nil
	cfg.TLS.GetCertificate = cert.get
	return cert, nil
}

// certFiles is the server's certificate when it comes from files
// (Config.CertFile and KeyFile): loaded by New and again by each Reload,
// and given to each TLS handshake by get. A pair that does not load leaves
// the one before it in place.
type certFiles struct {
	cert, key string
	cur       atomic.Pointer[tls.Certificate]
}

// load reads the pair; tls.X509KeyPair checks that the key is the
// certificate's, so a renewal caught half-written (a new certificate, the
// old key) is an error, not a broken server.
func (c *certFiles) load() error {
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("certificate %s, key %s: %w", c.cert, c.key, err)
	}
	c.cur.Store(&pair)
	return nil
}

// get is the tls.Config's GetCertificate.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

func (s *Server) wrapTLS(ln net.Listener) net.Listener {
	if s.cfg.TLS == nil {
		return ln
	}
	return tls.NewListener(ln, s.cfg.TLS)
}

// TLSConfig builds the server's TLS configuration from PEM data: the
// certificate chain and its key, and optionally the CAs whose client
// certificates are accepted. With CAs every client must present a
// certificate that verifies against them (mutual TLS). TLS 1.2 is the
// oldest version offered, and only HTTP/1.1 is negotiated: a WebSocket
// takes over an HTTP/1.1 connection (RFC 6455 §4; RFC 8441's HTTP/2 form
// is not supported).
func TLSConfig(certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"},
	}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("no PEM certificate found")
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

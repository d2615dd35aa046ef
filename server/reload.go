package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
)

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

// Reload reads again what the server can take on without a restart: the
// certificate and key files (Config.CertFile, KeyFile), which every TLS
// handshake from then on presents, and the password file
// (Config.BasicAuthFile), which every request from then on is checked
// against; connections already open are left as they are. A file that does
// not load leaves what the server had in its place, and the error says
// what could not be loaded; the others are loaded all the same. Reload may
// be called at any time, from any goroutine, before, during or after Run.
// main calls it on SIGHUP.
func (s *Server) Reload() (err error) {
	defer func() { s.metrics.reloaded(err) }()
	var errs []error
	if s.cert != nil {
		errs = append(errs, s.cert.load())
	}
	if s.basic != nil {
		errs = append(errs, s.basic.load())
	}
	return errors.Join(errs...)
}

package server

import (
	"errors"
)

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

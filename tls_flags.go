//go:build !tiny

package main

import (
	"crypto/x509"
	"os"

	"github.com/wsexec/wsexec/server"
)

// tlsFrom reads the TLS flags into cfg (--ssl is ssl); the files they name
// are read here, so that a bad one is a usage error before anything
// listens. The tiny build has no TLS (main_tiny.go).
func tlsFrom(c flagValues, cfg *server.Config, ssl bool) error {
	cert, key, ca := c.String("sslcert"), c.String("sslkey"), c.String("sslca")
	switch {
	case !ssl:
		for _, f := range []struct{ name, value string }{{"sslcert", cert}, {"sslkey", key}, {"sslca", ca}} {
			if f.value != "" {
				return usagef("--%s needs --ssl", f.name)
			}
		}
	case cert == "" || key == "":
		return usagef("--ssl needs both --sslcert=FILE and --sslkey=FILE")
	default:
		certPEM, err := readFlagFile("sslcert", cert)
		if err != nil {
			return err
		}
		keyPEM, err := readFlagFile("sslkey", key)
		if err != nil {
			return err
		}
		var caPEM []byte
		if ca != "" {
			if caPEM, err = readFlagFile("sslca", ca); err != nil {
				return err
			}
			if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
				return usagef("--sslca %s: no PEM certificate in it", ca)
			}
		}
		if cfg.TLS, err = server.TLSConfig(certPEM, keyPEM, caPEM); err != nil {
			return usagef("--sslcert %s, --sslkey %s: %v", cert, key, err)
		}
		// Read above so that a bad file is a usage error naming its flag;
		// the server reads them again at start and on SIGHUP (Reload).
		cfg.CertFile, cfg.KeyFile = cert, key
	}
	return nil
}

// readFlagFile reads the file a flag names; an error is a usage error
// naming the flag and the file.
func readFlagFile(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--%s %s: %v", flag, path, pathErr(err))
	}
	return b, nil
}

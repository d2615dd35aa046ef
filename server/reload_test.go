//go:build !tiny

package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a new self-signed certificate and its key, PEM.
func selfSigned(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReload replaces the certificate files step by step and reloads after
// each: a good pair is served from then on; a broken one is an error that
// names the files, and the pair before it is still served.
func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert1, key1 := selfSigned(t, 1)
	writeFile(t, certFile, cert1)
	writeFile(t, keyFile, key1)
	tlsCfg, err := TLSConfig(cert1, key1, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"},
		TLSSettings: TLSSettings{TLS: tlsCfg, CertFile: certFile, KeyFile: keyFile}})
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg.GetCertificate != nil || len(tlsCfg.Certificates) != 1 {
		t.Fatal("New changed the caller's tls.Config")
	}
	served := func() int64 {
		c, err := s.cfg.TLS.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber.Int64()
	}
	if got := served(); got != 1 {
		t.Fatalf("serial %d served after New, want 1", got)
	}

	cert2, key2 := selfSigned(t, 2)
	cert3, key3 := selfSigned(t, 3)
	steps := []struct {
		name       string
		cert, key  []byte // nil: the file is removed
		err        string // what the error says; "" for none
		wantServed int64
	}{
		{"renewed", cert2, key2, "", 2},
		{"new certificate, old key", cert3, key2, "private key does not match public key", 2},
		{"not PEM", []byte("renewing..."), key3, "failed to find any PEM data", 2},
		{"key file missing", cert3, nil, "no such file", 2},
		{"renewed again", cert3, key3, "", 3},
	}
	for _, st := range steps {
		for name, b := range map[string][]byte{certFile: st.cert, keyFile: st.key} {
			if b == nil {
				os.Remove(name)
				continue
			}
			writeFile(t, name, b)
		}
		err := s.Reload()
		switch {
		case st.err == "" && err != nil:
			t.Errorf("%s: Reload: %v", st.name, err)
		case st.err != "" && (err == nil || !strings.Contains(err.Error(), st.err) || !strings.Contains(err.Error(), certFile)):
			t.Errorf("%s: Reload: %v, want an error naming %s and saying %q", st.name, err, certFile, st.err)
		}
		if got := served(); got != st.wantServed {
			t.Errorf("%s: serial %d served, want %d", st.name, got, st.wantServed)
		}
	}
}

func TestReloadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, 1)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, certPEM)
	writeFile(t, keyFile, keyPEM)
	tlsCfg, err := TLSConfig(certPEM, keyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"}}
	tests := []struct {
		name              string
		tls               *tls.Config
		certFile, keyFile string
		err               string
	}{
		{"no TLS: nothing to reload", nil, "", "", ""},
		{"TLS from PEM only: nothing to reload", tlsCfg, "", "", ""},
		{"files without TLS", nil, certFile, keyFile, "with TLS"},
		{"certificate without key", tlsCfg, certFile, "", "go together"},
		{"missing file", tlsCfg, certFile, filepath.Join(dir, "none"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			cfg.TLS, cfg.CertFile, cfg.KeyFile = tc.tls, tc.certFile, tc.keyFile
			s, err := New(cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New: %v, want an error saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Reload(); err != nil {
				t.Fatalf("Reload with nothing to reload: %v", err)
			}
		})
	}
}

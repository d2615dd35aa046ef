//go:build tiny

package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestTinyRefuses: New refuses each Config field of what the tiny build
// leaves out, naming the field, and accepts the core without them.
func TestTinyRefuses(t *testing.T) {
	t.Parallel()
	base := func() Config {
		return Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"}}
	}
	if _, err := New(base()); err != nil {
		t.Fatalf("the core: %v", err)
	}
	sets := map[string]func(*Config){
		"StaticDir":      func(c *Config) { c.StaticDir = "." },
		"CGIDir":         func(c *Config) { c.CGIDir = "." },
		"DevConsole":     func(c *Config) { c.DevConsole = true },
		"HeaderHTTP":     func(c *Config) { c.HeaderHTTP = map[string][]string{"X-A": {"1"}} },
		"RedirPort":      func(c *Config) { c.RedirPort = 8081 },
		"MetricsAddr":    func(c *Config) { c.MetricsAddr = "127.0.0.1:0" },
		"Pty":            func(c *Config) { c.Pty = true },
		"Broadcast":      func(c *Config) { c.Broadcast = true },
		"BasicAuthFile":  func(c *Config) { c.BasicAuthFile = "htpasswd" },
		"AuthCommand":    func(c *Config) { c.AuthCommand, c.AuthPath = []string{"true"}, "/bin/true" },
		"TrustedProxies": func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} },
		"ReverseLookup":  func(c *Config) { c.ReverseLookup = true },
	}
	if len(sets) != len(lacks) {
		t.Fatalf("%d fields tested, %d lacking", len(sets), len(lacks))
	}
	for _, l := range lacks {
		set, ok := sets[l.Field]
		if !ok {
			t.Fatalf("no test for %s", l.Field)
		}
		cfg := base()
		set(&cfg)
		_, err := New(cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0] != l.Field {
			t.Errorf("%s set: New = %v, want a ConfigError naming it", l.Field, err)
		}
	}
}

// TestTinyPanicEndsTheConnection: a panic while a request is served ends
// that connection, logged, and not the server (net/http recovers its
// handlers' panics; serveRaw must do the same).
func TestTinyPanicEndsTheConnection(t *testing.T) {
	t.Parallel()
	var log lockedBuffer
	s, err := New(Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"},
		Logger: NewLogger(&log, false, LevelInfo)})
	if err != nil {
		t.Fatal(err)
	}
	s.rt = nil // routing now panics on a nil pointer
	client, server := net.Pipe()
	defer client.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serveRaw(server)
	}()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(client, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	if _, err := io.ReadAll(client); err != nil {
		t.Fatalf("the connection: %v, want it closed", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serveRaw did not return")
	}
	if !strings.Contains(log.String(), "level=ERROR msg=panic") {
		t.Fatalf("log:\n%s", log.String())
	}
}

// TestTinyShutdownClosesFreshConns: when Run returns, a connection that
// has not sent its request is closed with it, not left open until its
// header timeout.
func TestTinyShutdownClosesFreshConns(t *testing.T) {
	t.Parallel()
	var log lockedBuffer
	s, err := New(Config{Command: []string{"cat"}, Path: "/bin/cat", Addresses: []string{"127.0.0.1:0"},
		ReadHeaderTimeout: time.Minute, Logger: NewLogger(&log, false, LevelInfo)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if _, rest, ok := strings.Cut(log.String(), "msg=listening addr="); ok {
			addr, _, _ = strings.Cut(rest, " ")
		} else {
			runtime.Gosched()
		}
	}
	if addr == "" {
		t.Fatalf("no listening line:\n%s", log.String())
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Stop once the server has accepted it and waits for its request.
	for s.fresh.count() == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("the silent connection after Run returned: %v, want EOF", err)
	}
}

// TestTinyListenTCP: the tiny build listens on addresses without a DNS
// resolver, and says so for a host name.
func TestTinyListenTCP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, want, err string }{
		{addr: "127.0.0.1:0", want: "127.0.0.1"},
		{addr: "localhost:0", want: "127.0.0.1"},
		{addr: "LOCALHOST:0", want: "127.0.0.1"},
		{addr: "[::1]:0", want: "::1"},
		{addr: ":0", want: "every interface"},
		{addr: "example.invalid:0", err: "no DNS resolver"},
		{addr: "127.0.0.1:http", err: "the port is not a number"},
		{addr: "127.0.0.1:65536", err: "the port is not a number"},
		{addr: "127.0.0.1", err: "missing port"},
	} {
		ln, err := listenTCP(tc.addr)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error saying %q", tc.addr, err, tc.err)
			}
			if ln != nil {
				ln.Close()
			}
			continue
		}
		if err != nil {
			if tc.want == "::1" && strings.Contains(err.Error(), "cannot assign") {
				continue // no IPv6 loopback on this machine
			}
			t.Errorf("%s: %v", tc.addr, err)
			continue
		}
		got := ln.Addr().(*net.TCPAddr)
		ip := got.IP.String()
		if got.IP.IsUnspecified() {
			ip = "every interface"
		}
		if ip != tc.want || got.Port == 0 {
			t.Errorf("%s: listening on %v, want %s and a port", tc.addr, got, tc.want)
		}
		ln.Close()
	}
}

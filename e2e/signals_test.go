package e2e

import (
	"crypto/tls"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// hangup sends SIGHUP to s and waits until the log holds one more line
// holding want than before.
func hangup(t *testing.T, s *instance, want string) {
	t.Helper()
	n := strings.Count(s.logText(), want)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a "+want+" line", func() bool {
		select {
		case <-s.exited:
			t.Fatalf("wsexec exited: %v", s.err)
		default:
		}
		return strings.Count(s.logText(), want) > n
	})
}

// TestSignalsKeepServing: none of these signals stops the server or drops a
// connection. SIGHUP reloads (and says so); the others mean nothing to
// wsexec. Each is followed by a SIGHUP: once its reload is logged, the
// signal before it has been delivered too.
func TestSignalsKeepServing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "before")
	tests := []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGHUP", syscall.SIGHUP},
		{"SIGUSR1", syscall.SIGUSR1},
		{"SIGUSR2", syscall.SIGUSR2},
		{"SIGPIPE", syscall.SIGPIPE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sig != syscall.SIGHUP {
				if err := s.cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
			}
			hangup(t, s, "msg=reloaded signal=SIGHUP")
			echo(t, c, "still open after "+tc.name)
			echo(t, dial(t, s.addr, "/", nil), "new after "+tc.name)
			select {
			case <-s.exited:
				t.Fatalf("wsexec exited: %v", s.err)
			default:
			}
		})
	}
}

// TestClosedLogKeepsServing: with nothing reading its log (wsexec ... |
// head, a log collector gone), wsexec's log writes fail and it serves on,
// where a write to a stdout or stderr without a reader would have killed it
// with SIGPIPE; SIGTERM still ends it cleanly, with status 0. The log is on
// stdout by default, and on stderr with --logto=stderr.
func TestClosedLogKeepsServing(t *testing.T) {
	t.Parallel()
	for _, logTo := range []string{"stdout", "stderr"} {
		t.Run(logTo, func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close() // nobody reads the log
			addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
			_, port, _ := strings.Cut(addr, ":")
			cmd := exec.Command(binPath, "--port="+port, "--address=127.0.0.1", "--loglevel=debug", "--logto="+logTo, "cat")
			if logTo == "stdout" {
				cmd.Stdout = w
			} else {
				cmd.Stderr = w
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			exited := make(chan struct{})
			var waitErr error
			go func() { waitErr = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})

			var c *wsproto.Conn
			waitFor(t, 10*time.Second, "wsexec to serve", func() bool {
				select {
				case <-exited:
					t.Fatalf("wsexec exited with its log unread: %v", waitErr)
				default:
				}
				c, _, _ = dialWS(addr, "/", nil)
				return c != nil
			})
			defer c.Close()
			echo(t, c, "its connect line was written, and lost") // logged before the relay starts
			cmd.Process.Signal(syscall.SIGTERM)
			if ce := readClose(t, c); ce.Code != wsproto.CloseGoingAway {
				t.Fatalf("close %d %q, want 1001", ce.Code, ce.Reason)
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatal("wsexec did not exit within 20 s of SIGTERM")
			}
			if waitErr != nil {
				t.Fatalf("wsexec exited with %v after SIGTERM, want status 0", waitErr)
			}
		})
	}
}

// TestSIGHUPReloadsCertificate: a certificate renewed on disk is served to
// new connections after SIGHUP, and connections already open carry on. A
// broken pair (here a new certificate over the old key, as a renewal caught
// half-written leaves it) is refused with an error logged, and the
// certificate loaded before is still served.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	t.Parallel()
	s, ca, p := tlsServer(t, nil, "cat")
	certFile, keyFile := filepath.Join(p.dir, "server.pem"), filepath.Join(p.dir, "server.key")
	first, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: ca.pool(), ServerName: "127.0.0.1"}
	// dialServing opens a connection, checks which certificate the server
	// presented, and echoes on it.
	dialServing := func(want *big.Int) *wsproto.Conn {
		t.Helper()
		c, _, err := dialTLS(s.addr, "/", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if got := c.NetConn().(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(want) != 0 {
			t.Fatalf("the server presented serial %v, want %v", got, want)
		}
		echo(t, c, "hello")
		return c
	}
	old := dialServing(first.Leaf.SerialNumber)

	_, _, renewed := p.leaf(ca, "server", true) // the same files, a new certificate and key
	hangup(t, s, "msg=reloaded")
	mid := dialServing(renewed.Leaf.SerialNumber)
	echo(t, old, "still open")

	otherCert, _, _ := p.leaf(ca, "other", true)
	b, err := os.ReadFile(otherCert)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, b, 0o600); err != nil { // its key is not in keyFile
		t.Fatal(err)
	}
	hangup(t, s, `msg="reload failed"`)
	if log := s.logText(); !strings.Contains(log, "private key does not match public key") || !strings.Contains(log, certFile) {
		t.Fatalf("the reload error does not say what is wrong:\n%s", log)
	}
	dialServing(renewed.Leaf.SerialNumber)
	echo(t, old, "still open")
	echo(t, mid, "still open")
}

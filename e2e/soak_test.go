package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// TestSoak runs mixed traffic against one server for WSEXEC_SOAK (a
// duration, e.g. 5m; `make soak` sets it) and prints the server's fds,
// children and memory every 10 s, then checks they came back to idle.
// Without WSEXEC_SOAK it is skipped: it is not part of `make test`.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("WSEXEC_SOAK"))
	if err != nil {
		t.Skip("set WSEXEC_SOAK to a duration (make soak) to run the soak test")
	}
	s := startServer(t, "--loglevel=info", "--maxforks=64", "--closetimeoutms=500",
		"sh", "-c", `while IFS= read -r l; do case "$l" in exit*) exit ${l#exit };; big) head -c 300000 /dev/zero | tr '\0' b; echo;; *) echo "$l";; esac; done`)
	report := func(when string) {
		t.Logf("%s: fds %d, children %d, RSS %d KiB, peak %d KiB",
			when, fdCount(t, s.pid()), len(children(t, s.pid())), memKiB(t, s.pid(), "VmRSS"), memKiB(t, s.pid(), "VmHWM"))
	}

	// Each session does one of a few things a real client does.
	session := func(r *rand.Rand) error {
		c, resp, err := dialWS(s.addr, "/", nil)
		if err != nil {
			return err
		}
		if c == nil {
			if resp.StatusCode == 429 {
				return nil
			}
			return fmt.Errorf("status %s", resp.Status)
		}
		defer c.Close()
		c.NetConn().SetDeadline(time.Now().Add(30 * time.Second))
		send := func(msg string) error {
			if err := c.WriteMessage(wsproto.OpText, []byte(msg)); err != nil {
				return err
			}
			return c.Flush()
		}
		switch r.IntN(4) {
		case 0: // chat, then a clean close
			for i := range 1 + r.IntN(50) {
				msg := fmt.Sprintf("message %d %s", i, strings.Repeat("ü", r.IntN(100)))
				if err := send(msg); err != nil {
					return err
				}
				if _, p, err := c.ReadMessage(nil); err != nil || string(p) != msg {
					return fmt.Errorf("echo %q: %v", p, err)
				}
			}
			c.WriteClose(wsproto.CloseNormal, "")
			c.ReadMessage(nil)
		case 1: // a big line
			if err := send("big"); err != nil {
				return err
			}
			if _, p, err := c.ReadMessage(nil); err != nil || len(p) != 300000 {
				return fmt.Errorf("big line of %d bytes: %v", len(p), err)
			}
		case 2: // the program exits with a status
			if err := send(fmt.Sprintf("exit %d", r.IntN(3))); err != nil {
				return err
			}
			c.ReadMessage(nil)
		case 3: // the client vanishes
			send("gone")
			c.NetConn().(*net.TCPConn).SetLinger(0)
		}
		return nil
	}

	// Warm up (the first program starts what lives as long as the server,
	// such as procio's watcher), then take the idle values.
	if err := session(rand.New(rand.NewPCG(0, 0))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "no programs", func() bool { return len(children(t, s.pid())) == 0 })
	idleFDs, idleRSS := fdCount(t, s.pid()), memKiB(t, s.pid(), "VmRSS")
	report("idle")

	const workers = 16
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(stop) {
				if err := session(r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	tick := time.NewTicker(10 * time.Second)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-tick.C:
			report(time.Until(stop).Round(time.Second).String() + " left")
		case <-done:
			running = false
		}
	}
	tick.Stop()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitIdle(t, s, idleFDs)
	report("after")
	if rss := memKiB(t, s.pid(), "VmRSS"); rss > idleRSS+32<<10 {
		t.Errorf("RSS %d KiB after the soak, %d KiB idle", rss, idleRSS)
	}
}

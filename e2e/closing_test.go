package e2e

import (
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// TestClientStopsReading: a client whose program floods it and who stops
// reading must not hold its connection: after its close frame the server
// stops sending data, answers within --closetimeoutms (or gives up) and
// drops TCP; with --pingms, a client that never reads at all is dropped by
// the ping watchdog. Either way the program is stopped.
func TestClientStopsReading(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flag  string
		close bool // the client sends its close frame once the server is stalled
	}{
		{"close then silence", "--closetimeoutms=300", true},
		{"never reads, pings on", "--pingms=100", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tc.flag, "sh", "-c", "echo $$; exec yes")
			c := dial(t, s.addr, "/", nil)
			pid := readPID(t, c)
			if !tc.close {
				// The watchdog drops it once two intervals pass without a
				// pong, blocked or not.
				waitFor(t, 10*time.Second, "the server to drop the connection", func() bool {
					return !tcpEstablished(t, s.pid())
				})
				waitFor(t, 10*time.Second, "the program to be stopped", func() bool { return !alive(pid) })
				return
			}
			// Wait until the flood has filled the socket and the program has
			// been blocked writing for a while.
			waitBlocked(t, pid)
			if err := c.WriteClose(wsproto.CloseNormal, ""); err != nil {
				t.Fatal(err)
			}
			// Neither read nor close from here on.
			waitFor(t, 10*time.Second, "the server to drop the connection", func() bool {
				return !tcpEstablished(t, s.pid())
			})
			waitFor(t, 10*time.Second, "the program to be stopped", func() bool { return !alive(pid) })
		})
	}
}

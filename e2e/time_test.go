package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// timeArgs run examples/time as its README does, with a tick every 50 ms
// and every tick distinct (nanoseconds), so that two clients' ticks can be
// lined up.
var timeArgs = []string{"--staticdir=../examples/time", "--broadcast", "../examples/time/time.sh", "0.05", "%T.%N"}

var tickRE = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{9}$`)

// readTick reads one message and fails unless it is a tick.
func readTick(t *testing.T, c *wsproto.Conn) string {
	t.Helper()
	m := readText(t, c)
	if !tickRE.MatchString(m) {
		t.Fatalf("got %q, want a tick", m)
	}
	return m
}

// TestTimeFeed: examples/time's page comes from --staticdir; with
// --broadcast one time.sh serves every client the same ticks and is
// stopped when the last leaves; without, each client has its own.
func TestTimeFeed(t *testing.T) {
	t.Parallel()

	t.Run("page from --staticdir, program hidden", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, timeArgs...)
		page, err := os.ReadFile("../examples/time/index.html")
		if err != nil {
			t.Fatal(err)
		}
		if r := rawRequest(t, s.addr, "GET", "/", false); r.status != 200 || r.body != string(page) {
			t.Errorf("GET /: %d, the page served: %v", r.status, r.body == string(page))
		}
		if r := rawRequest(t, s.addr, "GET", "/time.sh", false); r.status != 404 {
			t.Errorf("GET /time.sh: %d, want 404 (the program's file is never served)", r.status)
		}
	})

	t.Run("--broadcast: one program, the same ticks", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, timeArgs...)
		a := dial(t, s.addr, "/", nil)
		defer a.Close()
		readTick(t, a)
		kids := children(t, s.pid())
		if len(kids) != 1 {
			t.Fatalf("%d programs for one client, want 1", len(kids))
		}
		b := dial(t, s.addr, "/", nil)
		defer b.Close()
		var bTicks []string
		for range 5 {
			bTicks = append(bTicks, readTick(t, b))
		}
		// a got every tick since it connected: find b's first among them,
		// then the next ones must be b's, in order.
		for i := 0; readTick(t, a) != bTicks[0]; i++ {
			if i == 1000 {
				t.Fatalf("a never got b's first tick %s", bTicks[0])
			}
		}
		for _, want := range bTicks[1:] {
			if got := readTick(t, a); got != want {
				t.Fatalf("a got %s where b got %s", got, want)
			}
		}
		if now := children(t, s.pid()); !slices.Equal(now, kids) {
			t.Fatalf("programs %v with two clients, want the one program %v", now, kids)
		}
		// a leaves: the program goes on for b.
		a.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
		a.WriteClose(wsproto.CloseNormal, "")
		readClose(t, a)
		waitFor(t, 5*time.Second, "a's disconnect", func() bool { return strings.Contains(s.logText(), "exit=running") })
		readTick(t, b)
		if !alive(kids[0]) {
			t.Fatal("the program stopped when one of two clients left")
		}
		// b, the last, leaves: the program is stopped.
		b.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
		b.WriteClose(wsproto.CloseNormal, "")
		readClose(t, b)
		waitFor(t, 5*time.Second, "the program to be stopped", func() bool {
			return !alive(kids[0]) && len(children(t, s.pid())) == 0
		})
	})

	t.Run("without --broadcast: one program each", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, slices.DeleteFunc(slices.Clone(timeArgs), func(a string) bool { return a == "--broadcast" })...)
		a := dial(t, s.addr, "/", nil)
		defer a.Close()
		b := dial(t, s.addr, "/", nil)
		defer b.Close()
		readTick(t, a)
		readTick(t, b)
		if n := len(children(t, s.pid())); n != 2 {
			t.Fatalf("%d programs for two clients, want 2", n)
		}
	})

	t.Run("chromium shows the ticks", func(t *testing.T) {
		t.Parallel()
		br := useChromium(t)
		s := startServer(t, timeArgs...)
		page := openPage(t, br, "http://"+s.addr+"/", `document.getElementById("status").textContent.startsWith("live")`)
		var ticks []string
		err := page.evaluate(jsWait+`
const seen = new Set();
await waitUntil(() => { seen.add(document.getElementById("time").textContent); return seen.size >= 3; }, 15000);
return Array.from(seen);`, &ticks)
		if err != nil {
			t.Fatal(err)
		}
		// The first text is the placeholder; the others are ticks.
		if ticks[0] != "--:--:--" && !tickRE.MatchString(ticks[0]) {
			t.Errorf("the page showed %q first", ticks[0])
		}
		for _, tick := range ticks[1:] {
			if !tickRE.MatchString(tick) {
				t.Errorf("the page showed %q, want ticks; all: %q", tick, ticks)
			}
		}
		// The page and a second viewer share one program.
		c := dial(t, s.addr, "/", nil)
		defer c.Close()
		readTick(t, c)
		if n := len(children(t, s.pid())); n != 1 {
			t.Fatalf("%d programs for the page and a client, want 1", n)
		}
	})
}

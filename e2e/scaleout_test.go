package e2e

// Scale-out as docs/deploy.md describes it: several wsexec --broadcast
// instances behind nginx, sharing one Redis channel through
// examples/broadcast/redis.sh. The test starts its own redis-server and
// nginx (Debian's packages, which .ci/run installs) on free loopback
// ports, each with its own configuration and data in a temporary
// directory, and stops them after. Missing, they skip the test, unless
// WSEXEC_REQUIRE_PEERS=1 (CI), where they fail it.

import (
	"fmt"
	"net"
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

// TestBroadcastScaleOut: two instances behind nginx's round robin, each
// client landing on one of them (nginx names it in X-Upstream). A message
// from a client on either instance reaches every client on both, once.
// When one instance dies, only its clients lose their connection; the
// others keep receiving, and the lost ones reconnect through nginx, which
// sends them to the instance still up, and receive again.
func TestBroadcastScaleOut(t *testing.T) {
	t.Parallel()
	redisServer := peerPath(t, "redis-server")
	redisCLI := peerPath(t, "redis-cli")

	const channel = "room"
	redisPort := startRedis(t, redisServer, redisCLI)
	feed := []string{"--broadcast", "../examples/broadcast/redis.sh", channel, "-p", strconv.Itoa(redisPort)}
	a, b := startServer(t, feed...), startServer(t, feed...)
	proxy := nginxInFront(t, a.addr, b.addr)

	// client is one connection through nginx and the instance behind it.
	type client struct {
		c  *wsproto.Conn
		on string
	}
	connect := func() client {
		t.Helper()
		c, resp, err := dialWS(proxy, "/", nil)
		if err != nil {
			t.Fatalf("dial through nginx: %v", err)
		}
		if c == nil {
			t.Fatalf("dial through nginx: status %s", resp.Status)
		}
		t.Cleanup(func() { c.Close() })
		// $upstream_addr lists every upstream tried, the one that
		// answered last.
		tried := strings.Split(resp.Header.Get("X-Upstream"), ", ")
		return client{c, tried[len(tried)-1]}
	}
	// every checks that each client gets msg next, sent by from.
	every := func(from client, msg string, clients []client) {
		t.Helper()
		write(t, from.c, wsproto.OpText, []byte(msg))
		for i, cl := range clients {
			if got := readText(t, cl.c); got != msg {
				t.Fatalf("client %d (on %s) got %q, want %q", i, cl.on, got, msg)
			}
		}
	}
	split := func(clients []client) (onA, onB []client) {
		for _, cl := range clients {
			switch cl.on {
			case a.addr:
				onA = append(onA, cl)
			case b.addr:
				onB = append(onB, cl)
			default:
				t.Fatalf("a client is on %q, neither instance (%s, %s)", cl.on, a.addr, b.addr)
			}
		}
		return onA, onB
	}

	var clients []client
	for range 6 {
		clients = append(clients, connect())
	}
	onA, onB := split(clients)
	if len(onA) != 3 || len(onB) != 3 {
		t.Fatalf("%d clients on one instance, %d on the other; want nginx's round robin to give 3 each", len(onA), len(onB))
	}
	// A message published before an instance's feed has subscribed would
	// not reach that instance.
	waitFor(t, 10*time.Second, "both feeds to subscribe", func() bool { return redisSubscribers(t, redisCLI, redisPort, channel) == 2 })
	// Quotes and backslashes: the feed's quoting for redis-cli.
	every(onA[0], `from a: "hi" \ all`, clients)
	every(onB[0], "from b", clients)

	// Instance a dies, its program's process group with it (an orphan
	// redis-cli would otherwise stay subscribed for a while).
	progs := children(t, a.pid())
	if len(progs) != 1 {
		t.Fatalf("instance a runs %d programs, want its one feed", len(progs))
	}
	a.cmd.Process.Kill()
	<-a.exited
	syscall.Kill(-progs[0], syscall.SIGKILL)

	for i, cl := range onA {
		cl.c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, p, err := cl.c.ReadMessage(nil); err == nil {
			t.Fatalf("client %d of the dead instance got %q, want its connection lost", i, p)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("client %d of the dead instance still connected after 10 s", i)
		}
	}
	every(onB[1], "b goes on", onB)
	reconnected := onB
	for range onA {
		cl := connect()
		if cl.on != b.addr {
			t.Fatalf("a reconnecting client reached %q, want the instance still up, %s", cl.on, b.addr)
		}
		reconnected = append(reconnected, cl)
	}
	every(reconnected[len(reconnected)-1], "back", reconnected)
}

// peerPath finds a program the test needs on PATH, or in /usr/sbin (where
// Debian puts nginx, and which a user's PATH may lack); missing, it skips
// the test or, with WSEXEC_REQUIRE_PEERS=1, fails it.
func peerPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if sbin, err2 := exec.LookPath(filepath.Join("/usr/sbin", name)); err2 == nil {
			return sbin
		}
	}
	requireClient(t, name, err)
	return p
}

// startPeer starts a server the test needs, its output in dir/NAME.out,
// waits until it accepts TCP connections on port, and stops it (SIGTERM,
// then SIGKILL after 10 s) when the test ends, showing its output if the
// test failed.
func startPeer(t *testing.T, dir string, port int, argv ...string) {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, filepath.Base(argv[0])+".out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	show := func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit within 10 s of SIGTERM", argv[0])
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", argv[0], show())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitFor(t, 10*time.Second, argv[0]+" to listen on "+addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited before listening:\n%s", argv[0], show())
		default:
		}
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		nc.Close()
		return true
	})
}

// startRedis runs redis-server on a free loopback port, its data in a
// temporary directory and none saved, and returns the port once it
// answers a PING.
func startRedis(t *testing.T, server, cli string) int {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	startPeer(t, dir, port, server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--save", "", "--appendonly", "no")
	if out, err := exec.Command(cli, "-p", strconv.Itoa(port), "PING").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "PONG" {
		t.Fatalf("redis PING: %q %v", out, err)
	}
	return port
}

// redisSubscribers is the number of subscribers of channel.
func redisSubscribers(t *testing.T, cli string, port int, channel string) int {
	t.Helper()
	out, err := exec.Command(cli, "-p", strconv.Itoa(port), "--raw", "PUBSUB", "NUMSUB", channel).Output()
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %v", err)
	}
	f := strings.Fields(string(out)) // the channel, then its count
	if len(f) != 2 {
		t.Fatalf("PUBSUB NUMSUB: %q", out)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %q", out)
	}
	return n
}

// nginxInFront runs nginx in front of upstreams, as docs/deploy.md sets
// it up, on a free loopback port (startNginx), and returns its address. It
// answers each upgrade with the upstreams it tried in X-Upstream. One
// worker, so that the round robin is one sequence.
func nginxInFront(t *testing.T, upstreams ...string) string {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "\t\tserver %s;\n", u)
	}
	startNginx(t, addr, fmt.Sprintf(`
	map $http_upgrade $connection_upgrade {
		default upgrade;
		'' close;
	}
	upstream wsexec {
%s	}
	server {
		listen %s;
		location / {
			proxy_pass http://wsexec;
			proxy_http_version 1.1;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection $connection_upgrade;
			proxy_buffering off;
			proxy_read_timeout 1h;
			add_header X-Upstream $upstream_addr always;
		}
	}
`, servers.String(), addr))
	return addr
}

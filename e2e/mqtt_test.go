package e2e

// MQTT over WebSocket (docs/mqtt.md): mosquitto listens on plain TCP only,
// wsexec bridges --binary --subprotocol=mqtt to it with
// examples/bridge/tcpbridge (or socat), mqtt.js in Node is the browser's
// side and mosquitto_pub/mosquitto_sub the TCP side. MQTT packets do not
// line up with WebSocket messages (MQTT 3.1.1 §6): binary mode passes the
// bytes as they come, whatever the cut.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// lineProc is a running peer whose stdout is read line by line.
type lineProc struct {
	name   string
	lines  chan string   // its stdout, a line at a time; closed at the end
	done   chan struct{} // closed once it is reaped
	err    error         // cmd.Wait's, once done is closed
	stderr bytes.Buffer  // read once done is closed
}

// startLines starts argv with env (nil: the test's own), its stdout lines
// on lines. A cleanup stops it (SIGTERM, then SIGKILL after 10 s), reaps
// it, and shows its stderr if the test failed.
func startLines(t *testing.T, env []string, argv ...string) *lineProc {
	t.Helper()
	p := &lineProc{name: filepath.Base(argv[0]), lines: make(chan string, 64), done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stderr = &p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20) // a 100 KiB payload in hex
	scan:
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			case <-stop: // no one reads any more
				break scan
			}
		}
		close(p.lines)
		p.err = cmd.Wait() // the rest of stdout, if any, is discarded by Wait
	}()
	t.Cleanup(func() {
		close(stop)
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not exit within 10 s of SIGTERM", p.name)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
		}
	})
	return p
}

// next returns the next line that starts with prefix, skipping others,
// and fails the test if none comes within 30 s.
func (p *lineProc) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("%s ended (%v) before a line starting %q:\n%s", p.name, p.err, prefix, p.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("%s printed no line starting %q within 30 s", p.name, prefix)
		}
	}
}

// mqttMessage is a message as a client saw it.
type mqttMessage struct {
	Topic  string `json:"topic"`
	QoS    int    `json:"qos"`
	Retain bool   `json:"retain"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

func digest(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

// mqttConnect is an MQTT 3.1.1 CONNECT packet (§3.1): clean session, a
// 60 s keep-alive, client id.
func mqttConnect(id string) []byte {
	vh := []byte{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 60, 0x00, byte(len(id))}
	vh = append(vh, id...)
	return append([]byte{0x10, byte(len(vh))}, vh...)
}

// mqttNode finds node with mqtt.js (npm mqtt) beside ws, as nodeWS finds
// ws, and returns the environment to run node with.
var mqttNode = sync.OnceValues(func() ([]string, error) {
	env, err := nodeWS()
	if err != nil {
		return nil, err
	}
	return env, probe(env, "node", "-e", "require('mqtt')")
})

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMQTTOverWebSocket runs one mosquitto for its subtests: mqtt.js in
// Node through tcpbridge and through socat, the dashboard page in
// Chromium, and a raw client whose packets straddle messages.
func TestMQTTOverWebSocket(t *testing.T) {
	t.Parallel()
	broker := peerPath(t, "mosquitto")
	pub, sub := peerPath(t, "mosquitto_pub"), peerPath(t, "mosquitto_sub")
	bridge := goBuild(t, "./examples/bridge/tcpbridge")

	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "mosquitto.conf")
	// One plain TCP listener on loopback (wsexec is the WebSocket side),
	// nothing kept on disk.
	err := os.WriteFile(conf, fmt.Appendf(nil, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n", port), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	startPeer(t, dir, port, broker, "-c", conf)
	brokerAddr := "127.0.0.1:" + strconv.Itoa(port)
	mq := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}

	// publish runs mosquitto_pub with args after the broker's address.
	publish := func(t *testing.T, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, pub, slices.Concat(mq, args)...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_pub %q: %v\n%s", args, err, out)
		}
	}

	bridges := []struct {
		name    string
		command func(t *testing.T) []string
	}{
		{"tcpbridge", func(*testing.T) []string { return []string{bridge, brokerAddr} }},
		{"socat", func(t *testing.T) []string { return []string{peerPath(t, "socat"), "STDIO", "TCP:" + brokerAddr} }},
	}
	for _, b := range bridges {
		t.Run("mqtt.js through "+b.name, func(t *testing.T) {
			t.Parallel()
			env, err := mqttNode()
			requireClient(t, "node with the mqtt package (mqtt.js)", err)
			s := startServer(t, append([]string{"--binary", "--subprotocol=mqtt"}, b.command(t)...)...)
			prefix := "wsexec/" + b.name

			// From the TCP side to the browser: a retained message first,
			// which the browser gets when it subscribes.
			down := map[string][]byte{
				"retained": []byte("retained for late subscribers"),
				"q0":       []byte("hello from mosquitto_pub, QoS 0"),
				"q1":       []byte("hello from mosquitto_pub, QoS 1"),
				"big":      make([]byte, 100<<10),
			}
			rand.Read(down["big"])
			bigFile := filepath.Join(t.TempDir(), "big")
			if err := os.WriteFile(bigFile, down["big"], 0o644); err != nil {
				t.Fatal(err)
			}
			publish(t, "-t", prefix+"/down/retained", "-q", "1", "-r", "-m", string(down["retained"]))

			// The TCP side's subscriber to what the browser publishes. A
			// retained message is delivered once the subscription holds:
			// it says when mosquitto_sub is ready.
			publish(t, "-t", prefix+"/up/ready", "-q", "1", "-r", "-m", "ready")
			up := startLines(t, nil, slices.Concat([]string{sub}, mq, []string{"-t", prefix + "/up/#", "-q", "1", "-F", "MSG %t %q %r %x"})...)
			up.next(t, "MSG "+prefix+"/up/ready ")

			client := startLines(t, env, "node", "testdata/clients/mqtt_client.js", "ws://"+s.addr+"/", prefix)
			var ev struct {
				Granted []int  `json:"granted"`
				Big     string `json:"big"`
			}
			if err := json.Unmarshal([]byte(client.next(t, `{"event":"subscribed"`)), &ev); err != nil || len(ev.Granted) != 1 || ev.Granted[0] != 1 {
				t.Fatalf("subscription granted %v (%v), want QoS 1", ev.Granted, err)
			}
			publish(t, "-t", prefix+"/down/q0", "-q", "0", "-m", string(down["q0"]))
			publish(t, "-t", prefix+"/down/q1", "-q", "1", "-m", string(down["q1"]))
			publish(t, "-t", prefix+"/down/big", "-q", "1", "-f", bigFile)
			if err := json.Unmarshal([]byte(client.next(t, `{"event":"published"`)), &ev); err != nil {
				t.Fatal(err)
			}

			// What mqtt.js received, in any order.
			want := map[string]mqttMessage{
				"retained": {QoS: 1, Retain: true},
				"q0":       {QoS: 0},
				"q1":       {QoS: 1},
				"big":      {QoS: 1},
			}
			for range want {
				var m mqttMessage
				if err := json.Unmarshal([]byte(client.next(t, `{"event":"message"`)), &m); err != nil {
					t.Fatal(err)
				}
				name := strings.TrimPrefix(m.Topic, prefix+"/down/")
				w, ok := want[name]
				w.Topic, w.Len, w.SHA256 = m.Topic, len(down[name]), digest(down[name])
				if !ok || m != w {
					t.Errorf("mqtt.js received %+v, want %+v", m, w)
				}
				delete(want, name)
			}
			client.next(t, `{"event":"closed"}`)
			<-client.done
			if client.err != nil {
				t.Fatalf("mqtt_client.js: %v", client.err)
			}

			// What mosquitto_sub received from mqtt.js, in the order sent:
			// topic, QoS, retain flag (0: a live message, retained or not),
			// payload in hex.
			sent := []struct {
				name, qos, payload string
			}{
				{"q0", "0", "hello from mqtt.js, QoS 0 ✓"},
				{"q1", "1", "hello from mqtt.js, QoS 1 ✓"},
				{"big", "1", ""}, // random, known by its digest
				{"retained", "1", "retained by mqtt.js"},
			}
			for _, m := range sent {
				f := strings.Fields(up.next(t, "MSG "))
				if len(f) != 5 {
					t.Fatalf("mosquitto_sub printed %q", f)
				}
				p, err := hex.DecodeString(f[4])
				if err != nil {
					t.Fatal(err)
				}
				same := string(p) == m.payload
				if m.name == "big" {
					same = len(p) == 100<<10 && digest(p) == ev.Big
				}
				if f[1] != prefix+"/up/"+m.name || f[2] != m.qos || f[3] != "0" || !same {
					t.Errorf("mosquitto_sub got %s QoS %s retain %s, %d bytes (as sent: %v); want %s/up/%s QoS %s retain 0",
						f[1], f[2], f[3], len(p), same, prefix, m.name, m.qos)
				}
			}
			// A subscriber that comes later gets the retained one.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			late, err := exec.CommandContext(ctx, sub, slices.Concat(mq, []string{"-t", prefix + "/up/retained", "-q", "1", "-C", "1", "-W", "10", "-F", "%r %q %p"})...).Output()
			if err != nil || string(late) != "1 1 retained by mqtt.js\n" {
				t.Errorf("a late subscriber got %q (%v), want the retained message, flagged", late, err)
			}
			noChildren(t, s)
			if log := s.logText(); !strings.Contains(log, "subprotocol=mqtt") {
				t.Errorf("no connection with subprotocol=mqtt in the log")
			}
		})
	}

	t.Run("the dashboard page in Chromium", func(t *testing.T) {
		// examples/bridge/mqtt/index.html, served by wsexec beside
		// mqtt.js's browser build, as docs/mqtt.md sets it up.
		t.Parallel()
		env, err := mqttNode()
		requireClient(t, "node with the mqtt package (mqtt.js)", err)
		b := useChromium(t)
		resolve := exec.Command("node", "-p", "require.resolve('mqtt/package.json')")
		resolve.Env = env
		pkg, err := resolve.Output()
		if err != nil {
			t.Fatalf("where mqtt.js is: %v", err)
		}
		www := t.TempDir()
		copyFile(t, "../examples/bridge/mqtt/index.html", filepath.Join(www, "index.html"))
		copyFile(t, filepath.Join(filepath.Dir(strings.TrimSpace(string(pkg))), "dist", "mqtt.min.js"), filepath.Join(www, "mqtt.min.js"))
		s := startServer(t, "--binary", "--subprotocol=mqtt", "--staticdir="+www, bridge, brokerAddr)

		publish(t, "-t", "sensors/temperature", "-q", "1", "-r", "-m", "21.5 °C")
		publish(t, "-t", "dashboard/ready", "-q", "1", "-r", "-m", "ready")
		up := startLines(t, nil, slices.Concat([]string{sub}, mq, []string{"-t", "dashboard/#", "-q", "1", "-F", "MSG %t %q %r %x"})...)
		up.next(t, "MSG dashboard/ready ")

		page := openPage(t, b, "http://"+s.addr+"/", `document.getElementById("status").textContent === "connected"`)
		shows := func(line string) {
			t.Helper()
			err := page.evaluate(jsWait+fmt.Sprintf(`await waitUntil(() => Array.from(document.querySelectorAll("#log li"), (li) => li.textContent).includes(%q), 15000);`, line), nil)
			if err != nil {
				t.Fatalf("the page does not show %q: %v", line, err)
			}
		}
		shows("sensors/temperature (retained): 21.5 °C")
		publish(t, "-t", "sensors/door", "-q", "0", "-m", "open")
		shows("sensors/door: open")

		if err := page.evaluate(`document.getElementById("payload").value = "hello from Chromium ✓";
document.querySelector("#publish button").click();`, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := up.next(t, "MSG dashboard/"), "MSG dashboard/hello 1 0 "+hex.EncodeToString([]byte("hello from Chromium ✓")); got != want {
			t.Fatalf("mosquitto_sub printed %q, want %q", got, want)
		}
		screenshot(t, page, "mqtt-dashboard")
	})

	t.Run("a CONNECT split across messages", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "--binary", "--subprotocol=mqtt", bridge, brokerAddr)
		c := dial(t, s.addr, "/", http.Header{"Sec-Websocket-Protocol": {"mqtt"}})
		connect := mqttConnect("wsexec-split")
		// The first message ends inside the protocol name; the second
		// holds the rest of CONNECT and a whole PINGREQ.
		write(t, c, wsproto.OpBinary, connect[:5])
		write(t, c, wsproto.OpBinary, append(connect[5:], 0xc0, 0x00))
		// CONNACK (no session present, accepted), then PINGRESP, in
		// however many messages.
		if got := readBytes(t, c, 6); !bytes.Equal(got, []byte{0x20, 0x02, 0x00, 0x00, 0xd0, 0x00}) {
			t.Fatalf("the broker answered % x, want CONNACK and PINGRESP", got)
		}
		// DISCONNECT: the broker closes the connection, and the client
		// gets 1000.
		write(t, c, wsproto.OpBinary, []byte{0xe0, 0x00})
		if rest, ce := readStream(t, c); len(rest) != 0 || ce.Code != wsproto.CloseNormal {
			t.Fatalf("% x, then close %d %q; want nothing, then 1000", rest, ce.Code, ce.Reason)
		}
		noChildren(t, s)
	})
}

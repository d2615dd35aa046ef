//go:build !tiny

package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestShutdownAfterProgramClose: a shutdown that comes after the program's
// close frame (1000) went out, while the server waits for the client's
// reply, sends no 1001 (RFC 6455 allows one close frame), so the access
// log must say 1000, the close the client got, not "going away".
func TestShutdownAfterProgramClose(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("true")
	if err != nil {
		t.Skipf("true not found: %v", err)
	}
	var logs lockedBuffer
	s, err := New(Config{
		Command:      []string{"true"},
		Path:         path,
		Addresses:    []string{"127.0.0.1:0"},
		CloseGrace:   100 * time.Millisecond,
		KillGrace:    100 * time.Millisecond,
		CloseTimeout: 10 * time.Second, // the client's reply comes well within it
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	// The handshake by hand: the client must read the server's close
	// without answering it (a wsproto.Conn answers at once).
	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := req.Write(nc); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}

	// The program has exited 0: its close frame, 1000 with no reason.
	frame := make([]byte, 4)
	if _, err := io.ReadFull(br, frame); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x88, 0x02, 0x03, 0xe8}; !bytes.Equal(frame, want) {
		t.Fatalf("frame % x, want the close 1000 % x", frame, want)
	}
	// Shutdown now: the connection's shutdown (goingAway) has started
	// when quitAll returns, and finds the close already sent.
	s.quitAll()
	// The client's reply: a masked close 1000 (a zero mask leaves the
	// payload as it is).
	if _, err := nc.Write([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	if n, _ := io.Copy(io.Discard, br); n != 0 {
		t.Errorf("%d bytes after the close frame, want none (no 1001 after the 1000)", n)
	}

	var line string
	waitFor(t, 10*time.Second, func() error {
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(l, "msg=disconnect") {
				line = l
			}
		}
		if line != "" {
			return nil
		}
		return fmt.Errorf("no disconnect line:\n%s", logs.String())
	})
	if !strings.Contains(line, "code=1000 ") {
		t.Fatalf("disconnect line %q, want code=1000: the program's close, which the client answered", line)
	}
}

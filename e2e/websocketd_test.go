package e2e

// A websocketd user's setup, run by wsexec unchanged.

import (
	"path/filepath"
	"testing"
)

// TestWebsocketdProgram runs a program written for websocketd, which
// routes on PATH_INFO and builds links from SCRIPT_NAME, as one COMMAND
// (SCRIPT_NAME=/, the whole path in PATH_INFO) and under --dir (the
// script's path, then the rest), and checks it answers as under websocketd.
func TestWebsocketdProgram(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("testdata/websocketd")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		target string
		want   []string
	}{
		{"one command", []string{filepath.Join(dir, "router.sh")}, "/rooms/lobby?x=1", []string{"room lobby", "link /time"}},
		{"one command, another route", []string{filepath.Join(dir, "router.sh")}, "/time", []string{"time", "link /time"}},
		{"--dir", []string{"--dir=" + dir}, "/router.sh/rooms/lobby", []string{"room lobby", "link /router.sh/time"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tc.args...)
			c := dial(t, s.addr, tc.target, nil)
			for _, want := range tc.want {
				if got := readText(t, c); got != want {
					t.Fatalf("%s: got %q, want %q", tc.target, got, want)
				}
			}
			if ce := readClose(t, c); ce.Code != 1000 {
				t.Fatalf("%s: close %d %q, want 1000: the program found no route", tc.target, ce.Code, ce.Reason)
			}
		})
	}
}

// TestWebsocketdSubprotocolHeader: websocketd users answered clients
// asking for a subprotocol with --header-ws="Sec-WebSocket-Protocol: NAME".
// wsexec reads that as --subprotocol=NAME: the command line starts (it
// refuses the handshake's other headers), a client offering NAME gets it,
// one offering none still connects, and the program sees the answer.
func TestWebsocketdSubprotocolHeader(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--header-ws=Sec-WebSocket-Protocol: chat", "--header=sec-websocket-protocol:chat"} {
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, flag, "sh", "-c", `echo "p=${WEBSOCKET_PROTOCOL-unset}"`)
			if got, env := protocolOf(t, s.addr, "chat"); got != "chat" || env != "p=chat" {
				t.Errorf("offering chat: answered %q, program saw %q", got, env)
			}
			if got, env := protocolOf(t, s.addr, ""); got != "" || env != "p=unset" {
				t.Errorf("offering none: answered %q, program saw %q", got, env)
			}
		})
	}
}

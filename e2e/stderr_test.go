package e2e

// --passstderr: both streams to the client as JSON messages.

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

func TestPassStderr(t *testing.T) {
	t.Parallel()
	// Each incoming line goes to stdout or stderr by its prefix; "bye"
	// writes a last stderr line and exits 3.
	script := `while IFS= read -r l; do
		case $l in
		out*) printf '%s\n' "$l" ;;
		err*) printf '%s\n' "$l" >&2 ;;
		bye) echo "last words" >&2; exit 3 ;;
		esac
	done`
	s := startServer(t, "--passstderr", "sh", "-c", script)
	c := dial(t, s.addr, "/", nil)
	tests := []struct{ send, want string }{
		{"out:hello", `{"stream":"stdout","data":"out:hello"}`},
		{"err:oops", `{"stream":"stderr","data":"err:oops"}`},
		{"out:tab\there \"quoted\" back\\slash é", `{"stream":"stdout","data":"out:tab\there \"quoted\" back\\slash é"}`},
		{"err:\x01ctl", `{"stream":"stderr","data":"err:\u0001ctl"}`},
		{"out:", `{"stream":"stdout","data":"out:"}`},
	}
	for _, tc := range tests {
		write(t, c, wsproto.OpText, []byte(tc.send))
		got := readText(t, c)
		if got != tc.want {
			t.Fatalf("sent %q: got %s, want %s", tc.send, got, tc.want)
		}
		var m struct{ Stream, Data string }
		if err := json.Unmarshal([]byte(got), &m); err != nil || m.Data != tc.send {
			t.Fatalf("%s does not decode to data %q: %v", got, tc.send, err)
		}
	}
	// A long stdout line is still one message holding one JSON object.
	long := "out:" + strings.Repeat("x", 40000)
	write(t, c, wsproto.OpText, []byte(long))
	if got := readText(t, c); got != `{"stream":"stdout","data":"`+long+`"}` {
		t.Fatalf("long line: got %d bytes %.60q...", len(got), got)
	}
	// stderr written just before exiting arrives before the close frame.
	write(t, c, wsproto.OpText, []byte("bye"))
	if got := readText(t, c); got != `{"stream":"stderr","data":"last words"}` {
		t.Fatalf("last stderr line: %s", got)
	}
	if ce := readClose(t, c); ce.Code != wsproto.CloseInternalError || ce.Reason != "exit status 3" {
		t.Fatalf("close %d %q", ce.Code, ce.Reason)
	}
	if !regexp.MustCompile(`msg=stderr .*line=err:oops`).MatchString(s.logText()) {
		t.Error("stderr lines are no longer logged")
	}
}

// TestPassStderrInterleaved has both streams written at once, with a long
// stdout line streamed in fragments among them: every message must be one
// whole JSON object, and each stream's lines must arrive complete and in
// order.
func TestPassStderrInterleaved(t *testing.T) {
	t.Parallel()
	const n = 500
	script := `(i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do echo "e$i" >&2; i=$((i+1)); done) &
		i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do echo "o$i"; [ $i = 100 ] && head -c 40000 /dev/zero | tr '\0' x && echo; i=$((i+1)); done
		wait`
	s := startServer(t, "--passstderr", "sh", "-c", script)
	c := dial(t, s.addr, "/", nil)
	c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
	next := map[string]int{}
	long := false
	for i := 0; i < 3*n; i++ {
		_, p, err := c.ReadMessage(nil)
		var ce *wsproto.CloseError
		if errors.As(err, &ce) {
			if ce.Code != wsproto.CloseNormal {
				t.Fatalf("close %d %q", ce.Code, ce.Reason)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Stream, Data string }
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("message %d is not JSON: %.80q: %v", i, p, err)
		}
		if m.Stream == "stdout" && len(m.Data) == 40000 {
			long = true
			continue
		}
		prefix := map[string]string{"stdout": "o", "stderr": "e"}[m.Stream]
		if want := prefix + strconv.Itoa(next[m.Stream]); m.Data != want {
			t.Fatalf("%s: got %q, want %q", m.Stream, m.Data, want)
		}
		next[m.Stream]++
	}
	if next["stdout"] != n || next["stderr"] != n || !long {
		t.Fatalf("got %d stdout lines, %d stderr lines, long line %v; want %d, %d, true", next["stdout"], next["stderr"], long, n, n)
	}
}

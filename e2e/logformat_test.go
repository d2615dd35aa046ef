package e2e

// --logformat=json: every log line one JSON object, each line about a
// connection carrying its id.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--logformat=json", "sh", "-c", "echo to-stderr >&2; exec cat")
	c := dial(t, s.addr, "/", nil)
	echo(t, c, "hi")
	c.WriteClose(wsproto.CloseNormal, "")
	readClose(t, c)
	waitFor(t, 10*time.Second, "the disconnect line", func() bool {
		return strings.Contains(s.logText(), `"msg":"disconnect"`)
	})
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	var recs []map[string]any
	for line := range strings.Lines(s.logText()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON object: %q: %v", line, err)
		}
		if msg, _ := rec["msg"].(string); rec["time"] == nil || rec["level"] == nil || msg == "" {
			t.Errorf("want time, level and msg: %q", line)
		}
		recs = append(recs, rec)
	}
	// The program's stderr line may come before the connect line (the
	// program starts before the 101): the id is taken first.
	var conn string
	seen := map[string]bool{}
	for _, rec := range recs {
		msg := rec["msg"].(string)
		seen[msg] = true
		if msg == "connect" {
			conn, _ = rec["conn"].(string)
			if conn == "" || rec["pid"] == nil {
				t.Errorf("connect without conn or pid: %v", rec)
			}
		}
	}
	for _, rec := range recs {
		if msg := rec["msg"].(string); msg == "disconnect" || msg == "stderr" {
			if got, _ := rec["conn"].(string); got != conn {
				t.Errorf("conn %q, want the connect line's %q: %v", got, conn, rec)
			}
		}
	}
	for _, msg := range []string{"listening", "connect", "stderr", "disconnect", "stopped"} {
		if !seen[msg] {
			t.Errorf("no %s line in the log:\n%s", msg, s.logText())
		}
	}
}

func TestLogFormatRefused(t *testing.T) {
	t.Parallel()
	runFail(t, `--logformat "xml": want text or json`, "--port=0", "--logformat=xml", "cat")
}

package e2e

// --framing=json and --framing=length through the real binary: cat echoes
// exact messages in both, and a program whose output breaks its framing
// gets a close code that says so.

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsexec/wsexec/internal/wstest"
	"github.com/wsexec/wsexec/wsproto"
)

// readMsg reads one message and returns its type and payload.
func readMsg(t *testing.T, c *wsproto.Conn) (wsproto.Opcode, []byte) {
	t.Helper()
	c.NetConn().SetReadDeadline(time.Now().Add(30 * time.Second))
	op, p, err := c.ReadMessage(nil)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return op, p
}

// sendMsg writes p as one message of type op, in frames of at most frag
// bytes (0: one frame), from a goroutine of its own: a message larger
// than the pipes comes back while it is still being written. The
// returned channel gives the write's error.
func sendMsg(c *wsproto.Conn, op wsproto.Opcode, p []byte, frag int) <-chan error {
	done := make(chan error, 1)
	go func() {
		c.NetConn().SetWriteDeadline(time.Now().Add(30 * time.Second))
		if frag == 0 {
			if err := c.WriteMessage(op, p); err != nil {
				done <- err
				return
			}
			done <- c.Flush()
			return
		}
		for len(p) > frag {
			if err := c.WriteFragment(op, p[:frag], false); err != nil {
				done <- err
				return
			}
			p = p[frag:]
		}
		if err := c.WriteFragment(op, p, true); err != nil {
			done <- err
			return
		}
		done <- c.Flush()
	}()
	return done
}

// TestFramingEchoThroughCat: in both exact framings cat is an echo server:
// text and binary, empty messages, newlines inside, every byte value, and
// messages of several MiB in one frame or in fragments, with and without
// compression, come back exactly as sent.
func TestFramingEchoThroughCat(t *testing.T) {
	t.Parallel()
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789 héllo wörld \"json\" \\ \n"), (5<<20)/35)
	bigBin := bytes.Repeat(every, (5<<20)/256)
	msgs := []struct {
		op   wsproto.Opcode
		p    []byte
		frag int
	}{
		{wsproto.OpText, []byte("hello"), 0},
		{wsproto.OpText, nil, 0},
		{wsproto.OpBinary, nil, 0},
		{wsproto.OpText, []byte("two\nlines\r\n\n"), 0},
		{wsproto.OpText, []byte(`{"type":"binary","data":"x"}`), 0},
		{wsproto.OpBinary, every, 0},
		{wsproto.OpText, []byte("é€😀 split in fragments"), 3},
		{wsproto.OpText, big, 0},
		{wsproto.OpBinary, bigBin, 0},
		{wsproto.OpText, big, 64 << 10},
		{wsproto.OpBinary, bigBin, 100 << 10},
	}
	for _, framing := range []string{"json", "length"} {
		for _, deflate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deflate=%v", framing, deflate), func(t *testing.T) {
				t.Parallel()
				s := startServer(t, "--framing="+framing, "cat")
				var hdr http.Header
				if deflate {
					hdr = wstest.DeflateHeader(wsproto.DeflateConfig{})
				}
				c := dial(t, s.addr, "/", hdr)
				for i, m := range msgs {
					if deflate && len(m.p) > 2<<20 {
						m.p = m.p[:2<<20] // compressing is slow under the race detector
					}
					werr := sendMsg(c, m.op, m.p, m.frag)
					op, p := readMsg(t, c)
					if err := <-werr; err != nil {
						t.Fatalf("message %d: write: %v", i, err)
					}
					if op != m.op || !bytes.Equal(p, m.p) {
						t.Fatalf("message %d (%v, %d bytes): echo %v, %d bytes %q", i, m.op, len(m.p), op, len(p), truncate(p))
					}
				}
				c.WriteClose(wsproto.CloseNormal, "")
				if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
					t.Fatalf("close %d %q, want 1000", ce.Code, ce.Reason)
				}
			})
		}
	}
}

// TestFramingRefusesInvalidText: a client's text message that is not UTF-8
// fails the connection (1007) before any of it reaches the program, in
// both exact framings.
func TestFramingRefusesInvalidText(t *testing.T) {
	t.Parallel()
	for _, framing := range []string{"json", "length"} {
		t.Run(framing, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--framing="+framing, "cat")
			c := dial(t, s.addr, "/", nil)
			c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.NetConn().Write(rawFrame(0x81, true, []byte("a\xffb"))); err != nil {
				t.Fatal(err)
			}
			if ce := readClose(t, c); ce.Code != wsproto.CloseInvalidPayload {
				t.Fatalf("close %d %q, want 1007", ce.Code, ce.Reason)
			}
		})
	}
}

// lengthHeader is a length-framing header as printf's octal escapes.
func lengthHeader(typ byte, n uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `\%03o`, typ)
	for i := 7; i >= 0; i-- {
		fmt.Fprintf(&b, `\%03o`, byte(n>>(8*i)))
	}
	return b.String()
}

// TestFramingBadOutput: output that breaks the framing ends the connection
// with 1011 and a reason that says what was wrong, logs a line saying so,
// and stops the program; the messages before it arrive whole, and the one
// it is in never does.
func TestFramingBadOutput(t *testing.T) {
	t.Parallel()
	okJSON := `{"type":"text","data":"ok"}\n`
	okLength := lengthHeader(1, 2) + "ok"
	tests := []struct {
		name    string
		framing string
		out     string // printf's format: the program's output, before it sleeps
		reason  string
	}{
		{"json: not JSON", "json", okJSON + `hello\n`, `bad output: 'h' where a message should begin: want '{'`},
		{"json: unknown type", "json", okJSON + `{"type":"blob","data":""}`, `bad output: unknown type "blob": want "text" or "binary"`},
		{"json: data before type", "json", okJSON + `{"data":"","type":"text"}`, `bad output: "data" before "type": the type must come first`},
		{"json: bad base64", "json", okJSON + `{"type":"binary","data":"AB!="}`, `bad output: invalid base64 in data`},
		{"json: invalid UTF-8", "json", okJSON + `{"type":"text","data":"a\377"}`, `bad output: invalid UTF-8 in a text message`},
		{"json: over --maxframesize", "json", okJSON + `{"type":"text","data":"0123456789abcdef0123456789abcdef0123456789"}`, `bad output: message over the limit of 32 bytes`},
		{"json: cut short", "json", okJSON + `{"type":"text","data":"abc`, `bad output: stdout ended inside a message`},
		{"length: unknown type", "length", okLength + lengthHeader(7, 0), `bad output: message type 7 in a header: want 1 (text) or 2 (binary)`},
		{"length: over --maxframesize", "length", okLength + lengthHeader(2, 33), `bad output: message of 33 bytes, over the limit of 32`},
		{"length: invalid UTF-8", "length", okLength + lengthHeader(1, 3) + `a\377b`, `bad output: invalid UTF-8 in a text message`},
		{"length: cut short", "length", okLength + lengthHeader(1, 10) + "abc", `bad output: stdout ended inside a message`},
		// 200,000 bytes are read and sent in fragments before the fault:
		// the close frame comes inside the message, which never ends.
		{"json: invalid UTF-8 after fragments", "json", okJSON + `{"type":"text","data":"%s\377"}`, `bad output: invalid UTF-8 in a text message`},
		{"length: invalid UTF-8 after fragments", "length", okLength + lengthHeader(1, 200001) + `%s\377`, `bad output: invalid UTF-8 in a text message`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A cut-short message ends with the program's stdout; the
			// others leave it running, for the server to stop.
			script := fmt.Sprintf(`printf '%s'; exec sleep 100`, tc.out)
			limit := "--maxframesize=32"
			if strings.Contains(tc.out, "%s") {
				script = fmt.Sprintf(`printf '%s' "$(head -c 200000 /dev/zero | tr '\0' a)"; exec sleep 100`, tc.out)
				limit = "--maxframesize=1000000"
			}
			if strings.HasSuffix(tc.name, "cut short") {
				script = fmt.Sprintf(`printf '%s'; exec sleep 100 >/dev/null`, tc.out)
			}
			s := startServer(t, "--framing="+tc.framing, limit, "sh", "-c", script)
			c := dial(t, s.addr, "/", nil)
			if op, p := readMsg(t, c); op != wsproto.OpText || string(p) != "ok" {
				t.Fatalf("first message %v %q, want the text ok", op, p)
			}
			c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
			_, p, err := c.ReadMessage(nil)
			ce, ok := err.(*wsproto.CloseError)
			if !ok {
				t.Fatalf("after ok: message %q, %v; want the close frame", truncate(p), err)
			}
			if ce.Code != wsproto.CloseInternalError || ce.Reason != tc.reason {
				t.Fatalf("close %d %q, want 1011 %q", ce.Code, ce.Reason, tc.reason)
			}
			reason := strings.TrimPrefix(tc.reason, "bad output: ")
			logged := regexp.MustCompile(`level=WARN msg="bad output" conn=\d+ .*offset=\d+ reason=` + regexp.QuoteMeta(fmt.Sprintf("%q", reason)))
			waitFor(t, 10*time.Second, "the bad output log line and the program's end", func() bool {
				return logged.MatchString(s.logText()) && len(children(t, s.pid())) == 0
			})
		})
	}
}

// TestFramingPassStderr: with --passstderr in an exact framing, each of
// the program's messages reaches the client whole as JSON tagged with its
// stream and type (binary data in base64), and stderr lines as text.
func TestFramingPassStderr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		framing string
		out     string // printf's format for stdout
	}{
		{"json", `{"type":"binary","data":"AAEC/w=="}\n{"type":"text","data":"two\\nlines"}\n`},
		{"length", lengthHeader(2, 4) + `\000\001\002\377` + lengthHeader(1, 9) + `two\nlines`},
	}
	want := []string{
		`{"stream":"stderr","type":"text","data":"oops"}`,
		`{"stream":"stdout","type":"binary","data":"AAEC/w=="}`,
		`{"stream":"stdout","type":"text","data":"two\nlines"}`,
	}
	for _, tc := range tests {
		t.Run(tc.framing, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--framing="+tc.framing, "--passstderr", "sh", "-c", fmt.Sprintf(`printf '%s'; echo oops >&2`, tc.out))
			c := dial(t, s.addr, "/", nil)
			var got []string
			for range want {
				op, p := readMsg(t, c)
				if op != wsproto.OpText {
					t.Fatalf("message %q: %v, want text", p, op)
				}
				got = append(got, string(p))
			}
			// The two pipes are read apart: only each stream's order is kept.
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("messages\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if ce := readClose(t, c); ce.Code != wsproto.CloseNormal {
				t.Fatalf("close %d %q, want 1000", ce.Code, ce.Reason)
			}
		})
	}
}

func TestFramingFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown framing", []string{"--framing=xml", "cat"}, `--framing "xml": want lines, binary, json or length`},
		{"binary with another framing", []string{"--binary", "--framing=json", "cat"}, "--binary is --framing=binary: it cannot be used with --framing=json"},
		{"passstderr with binary framing", []string{"--passstderr", "--framing=binary", "cat"}, "--passstderr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFail(t, tc.want, append([]string{"--port=0", "--address=127.0.0.1"}, tc.args...)...)
		})
	}
	// --binary is --framing=binary, and may say so twice.
	s := startServer(t, "--binary", "--framing=binary", "cat")
	c := dial(t, s.addr, "/", nil)
	write(t, c, wsproto.OpBinary, []byte("raw"))
	if op, p := readMsg(t, c); op != wsproto.OpBinary || string(p) != "raw" {
		t.Fatalf("echo %v %q, want binary raw", op, p)
	}
}

// goBuild builds the Go program pkg (a path from the module's root, such
// as ./examples/go/jsoninspect) in a temporary directory of t and returns
// the binary's path.
func goBuild(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Dir = ".." // the module's root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// TestFramingExamples drives each framing example through wsexec: every
// message is answered with its type and size, then echoed exactly.
func TestFramingExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		framing string
		needs   []string // programs the example runs
		program func(t *testing.T) string
	}{
		{"bash json", "json", []string{"bash", "jq", "base64"}, func(*testing.T) string { return "../examples/bash/json-inspect.sh" }},
		{"python json", "json", []string{"python3"}, func(*testing.T) string { return "../examples/python/json_inspect.py" }},
		{"python length", "length", []string{"python3"}, func(*testing.T) string { return "../examples/python/length_inspect.py" }},
		{"go json", "json", nil, func(t *testing.T) string { return goBuild(t, "./examples/go/jsoninspect") }},
		{"go length", "length", nil, func(t *testing.T) string { return goBuild(t, "./examples/go/lengthinspect") }},
	}
	sent := []struct {
		op wsproto.Opcode
		p  string
	}{{wsproto.OpText, "two\nlines é"}, {wsproto.OpBinary, "\x00\x01\x02\xff"}, {wsproto.OpText, ""}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, name := range tc.needs {
				if _, err := exec.LookPath(name); err != nil {
					t.Skipf("%s not found: %v", name, err)
				}
			}
			s := startServer(t, "--framing="+tc.framing, tc.program(t))
			c := dial(t, s.addr, "/", nil)
			for _, m := range sent {
				write(t, c, m.op, []byte(m.p))
				kind := map[wsproto.Opcode]string{wsproto.OpText: "text", wsproto.OpBinary: "binary"}[m.op]
				if op, p := readMsg(t, c); op != wsproto.OpText || string(p) != fmt.Sprintf("got %s, %d bytes", kind, len(m.p)) {
					t.Fatalf("answer to %v %q: %v %q", m.op, m.p, op, p)
				}
				if op, p := readMsg(t, c); op != m.op || string(p) != m.p {
					t.Fatalf("echo of %v %q: %v %q", m.op, m.p, op, p)
				}
			}
		})
	}
}

// TestViolationAnswersFirst: a client that breaks the protocol right after
// a message still gets the program's answer to it, then the close frame
// that says what it broke (Autobahn's cases 3.2, 4.x and 5.15 look for
// exactly that), in every framing.
func TestViolationAnswersFirst(t *testing.T) {
	t.Parallel()
	for _, framing := range []string{"lines", "json", "length"} {
		for _, tc := range []struct {
			name  string
			frame []byte
			code  uint16
		}{
			{"reserved bit", rawFrame(0xA1, true, []byte("x")), wsproto.CloseProtocolError},
			{"invalid UTF-8", rawFrame(0x81, true, []byte("a\xffb")), wsproto.CloseInvalidPayload},
			{"too big", rawFrame(0x82, true, make([]byte, 2000)), wsproto.CloseMessageTooBig},
		} {
			t.Run(framing+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := startServer(t, "--framing="+framing, "--maxframesize=1000", "cat")
				c := dial(t, s.addr, "/", nil)
				c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
				// One write: the violation is read before cat has answered.
				if _, err := c.NetConn().Write(append(rawFrame(0x81, true, []byte("hello")), tc.frame...)); err != nil {
					t.Fatal(err)
				}
				if got := readText(t, c); got != "hello" {
					t.Fatalf("answer %q, want hello", got)
				}
				if ce := readClose(t, c); ce.Code != tc.code {
					t.Fatalf("close %d %q, want %d", ce.Code, ce.Reason, tc.code)
				}
			})
		}
	}
}

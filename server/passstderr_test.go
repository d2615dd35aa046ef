package server

import (
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// TestTaggerEndsOpenStdout: a stdout line left open when the stdout codec
// returns is ended, and a stderr line waiting for it goes out (without
// endStdout it would wait for ever, and stopping the program with it).
// The client sees both as whole JSON messages, stdout's first.
func TestTaggerEndsOpenStdout(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	// net.Pipe has no buffer: the client reads as the server writes.
	b.SetDeadline(time.Now().Add(10 * time.Second))
	client := wsproto.NewConn(b, nil, wsproto.Config{Role: wsproto.Client})
	type message struct {
		op  wsproto.Opcode
		p   string
		err error
	}
	got := make(chan message, 2)
	go func() {
		for range 2 {
			op, p, err := client.ReadMessage(nil)
			got <- message{op, string(p), err}
			if err != nil {
				return
			}
		}
	}()

	tg := newTagger(true, false)
	stdout := tg.attach(&sink{ws: wsproto.NewConn(a, nil, wsproto.Config{}), m: new(metrics)})
	if err := stdout.WriteFragment(false, []byte("half a line"), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { tg.stderr([]byte("an error")); close(done) }()
	tg.endStdout()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		tg.detach()
		t.Fatal("the stderr line still waits for the stdout line to end")
	}
	for _, want := range []string{
		`{"stream":"stdout","data":"half a line"}`,
		`{"stream":"stderr","data":"an error"}`,
	} {
		m := <-got // bounded by the client's deadline
		if m.err != nil || m.op != wsproto.OpText || m.p != want {
			t.Fatalf("client read %v %q %v, want the text %s", m.op, m.p, m.err, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain <>&", "plain <>&"},
		{`"quoted" \back\`, `\"quoted\" \\back\\`},
		{"tab\tnl\ncr\r", `tab\tnl\ncr\r`},
		{"\x00\x01\x1f\x7f", `\u0000\u0001\u001f` + "\x7f"},
		{"é ✓ 🙂", "é ✓ 🙂"},
		{"bad \xff\xfe utf8 \xe2\x82", `bad \ufffd\ufffd utf8 \ufffd\ufffd`}, // each invalid byte
		{"\u2028\u2029", `\u2028\u2029`},                                     // valid JSON raw, but not valid JavaScript
	}
	for _, tc := range tests {
		if got := string(appendJSONString(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, got, tc.want)
		}
		var back string
		if err := json.Unmarshal([]byte(`"`+tc.want+`"`), &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", tc.in, tc.want, err)
		}
	}
}

// TestTaggerTyped: in an exact framing each message is tagged with its
// type, binary data in base64 however it is cut into fragments, stderr
// lines as text; and a message left open when the codec returns is never
// finished (that would pass part of it off as whole): stderr lines are
// then only logged.
func TestTaggerTyped(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	b.SetDeadline(time.Now().Add(10 * time.Second))
	client := wsproto.NewConn(b, nil, wsproto.Config{Role: wsproto.Client})
	want := []string{
		`{"stream":"stdout","type":"binary","data":"AAECAwQFBgc="}`,
		`{"stream":"stdout","type":"text","data":"a\nb"}`,
		`{"stream":"stdout","type":"binary","data":""}`,
		`{"stream":"stderr","type":"text","data":"an error"}`,
	}
	got := make(chan string, len(want))
	go func() {
		for range want {
			_, p, err := client.ReadMessage(nil)
			if err != nil {
				close(got)
				return
			}
			got <- string(p)
		}
	}()

	tg := newTagger(true, true)
	stdout := tg.attach(&sink{ws: wsproto.NewConn(a, nil, wsproto.Config{}), m: new(metrics)})
	for _, f := range []struct {
		bin bool
		p   string
		fin bool
	}{
		{true, "\x00", false}, {true, "\x01\x02\x03\x04", false}, {true, "", false}, {true, "\x05\x06\x07", true},
		{false, "a\n", false}, {false, "b", true},
		{true, "", true},
	} {
		if err := stdout.WriteFragment(f.bin, []byte(f.p), f.fin); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Flush()
	tg.stderr([]byte("an error"))
	for _, w := range want {
		if m, ok := <-got; !ok || m != w {
			t.Fatalf("client read %q (%v), want %s", m, ok, w)
		}
	}

	// Left open: not finished, and a stderr line does not wait for it.
	stdout.WriteFragment(true, []byte("part"), false)
	tg.endStdout()
	done := make(chan struct{})
	go func() { tg.stderr([]byte("after")); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		tg.detach()
		t.Fatal("a stderr line waits for a message that will never end")
	}
	if tg.open != true || !tg.gone {
		t.Fatalf("open %v, gone %v; want the message left open and stderr only logged", tg.open, tg.gone)
	}
}

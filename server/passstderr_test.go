package server

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// TestTaggerEndsOpenStdout: a stdout line left open when the stdout codec
// returns is ended, and a stderr line waiting for it goes out (without
// endStdout it would wait for ever, and stopping the program with it).
func TestTaggerEndsOpenStdout(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go io.Copy(io.Discard, b)
	tg := newTagger(true)
	stdout := tg.attach(&sink{ws: wsproto.NewConn(a, nil, wsproto.Config{})})
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
}

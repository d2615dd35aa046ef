package wsproto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestPreparedGolden: a prepared message is the frame WriteMessage would
// send, byte for byte (RFC 6455 §5.7), and its compressed variant the
// frame a Conn without context takeover sends, or the plain one where
// that Conn sends it plain (too short, or not shrunk by compressing).
func TestPreparedGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   *DeflateConfig
		op    Opcode
		p     string
		plain string
	}{
		{"5.7 unmasked text", nil, OpText, "Hello", "81 05 48 65 6c 6c 6f"},
		{"no compressor", nil, OpBinary, strings.Repeat("a", 64), "82 40 " + strings.Repeat("61 ", 63) + "61"},
		{"not shrunk", &DeflateConfig{Threshold: -1}, OpText, "Hello", "81 05 48 65 6c 6c 6f"},
		{"under the threshold", &DeflateConfig{}, OpText, "Hello Hello", ""},
		{"compressed", &DeflateConfig{}, OpText, jsonLine(3), ""},
		{"compressed binary", &DeflateConfig{Level: 9}, OpBinary, strings.Repeat("abc", 100), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := NewPreparer(tc.cfg)
			defer pr.Close()
			single, _ := newTestConn(Server, nil, Config{})
			if err := single.WriteMessage(tc.op, []byte(tc.p)); err != nil {
				t.Fatal(err)
			}
			single.Flush()
			want := single.nc.(*fakeConn)
			wantPlain, _ := want.written()
			if tc.plain != "" && hexBytes(wantPlain) != tc.plain {
				t.Fatalf("WriteMessage sent %s, want %s", hexBytes(wantPlain), tc.plain)
			}
			wantDeflated := wantPlain
			if tc.cfg != nil {
				p := DeflateParams{ServerNoContextTakeover: true, Level: tc.cfg.Level, Threshold: tc.cfg.Threshold}
				z, fc := deflateConn(Server, nil, p)
				z.WriteMessage(tc.op, []byte(tc.p))
				z.Flush()
				wantDeflated, _ = fc.written()
			}
			for range 2 { // the second message starts afresh: no context
				pm := pr.Prepare(tc.op, []byte(tc.p), true, true)
				if got := pm.frame(false); !bytes.Equal(got, wantPlain) {
					t.Errorf("plain %s, want %s", hexBytes(got), hexBytes(wantPlain))
				}
				if got := pm.frame(true); !bytes.Equal(got, wantDeflated) {
					t.Errorf("compressed %s, want %s", hexBytes(got), hexBytes(wantDeflated))
				}
				pm.Shared(0)
			}
			if tc.name == "compressed" && len(wantDeflated) >= len(wantPlain) {
				t.Fatalf("the compressed case went out plain")
			}
		})
	}
}

func hexBytes(b []byte) string {
	s := make([]string, len(b))
	for i, c := range b {
		s[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(s, " ")
}

// TestPreparedRoundTrip writes the same prepared messages, whole and in
// fragments with pings between, to a Conn that compresses without context
// takeover, one that keeps it, and one without the extension: each reads
// back every message, and the compressing one got them compressed.
func TestPreparedRoundTrip(t *testing.T) {
	msgs := []struct {
		op    Opcode
		parts []string
	}{
		{OpText, []string{"hi"}},
		{OpText, []string{jsonLine(1)}},
		{OpBinary, []string{strings.Repeat("abcdefgh", 5000)}},
		{OpText, []string{strings.Repeat("κόσμε ", 3000), strings.Repeat("x", 70000), "", "end"}},
		{OpText, []string{""}},
		{OpText, []string{"a", "b"}},
		{OpText, []string{jsonLine(2)}},
	}
	pr := NewPreparer(&DeflateConfig{})
	defer pr.Close()
	conns := map[string]*DeflateParams{
		"nocontext": {ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		"takeover":  {},
		"plain":     nil,
	}
	type side struct {
		c  *Conn
		fc *fakeConn
	}
	sides := map[string]side{}
	for name, p := range conns {
		c, fc := newTestConn(Server, nil, Config{Deflate: p})
		sides[name] = side{c, fc}
	}
	var want []string
	for _, m := range msgs {
		var whole string
		for i, part := range m.parts {
			pm := pr.Prepare(m.op, []byte(part), i == len(m.parts)-1, true)
			for _, s := range sides {
				if err := s.c.WritePrepared([]*PreparedMessage{pm}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					if err := s.c.WritePing([]byte("p")); err != nil {
						t.Fatal(err)
					}
				}
			}
			pm.Shared(0)
			whole += part
		}
		want = append(want, m.op.String()+":"+whole)
	}
	raw := 0
	for _, w := range want {
		raw += len(w)
	}
	for name, s := range sides {
		t.Run(name, func(t *testing.T) {
			wire, _ := s.fc.written()
			r, _ := newTestConn(Client, wire, Config{Deflate: conns[name], MaxMessageSize: 4 << 20})
			readBack(t, r, want)
			compressed := len(wire) < raw/4
			if compressed != (name == "nocontext") {
				t.Errorf("%d bytes on the wire for %d of messages", len(wire), raw)
			}
		})
	}
}

// TestPreparedCoalesces: frames written together leave in one write.
func TestPreparedCoalesces(t *testing.T) {
	pr := NewPreparer(nil)
	c, fc := newTestConn(Server, nil, Config{WriteBufferSize: 4096})
	var pms []*PreparedMessage
	for i := range 50 {
		pms = append(pms, pr.Prepare(OpText, []byte(fmt.Sprint("line ", i)), true, false))
	}
	if err := c.WritePrepared(pms); err != nil {
		t.Fatal(err)
	}
	for _, pm := range pms {
		pm.Shared(0)
	}
	wire, writes := fc.written()
	if writes != 1 {
		t.Fatalf("%d writes for 50 short frames, want 1", writes)
	}
	if n := len(parseFrames(t, wire)); n != 50 {
		t.Fatalf("%d frames, want 50", n)
	}
}

// TestPreparedRefs: a prepared message is reused only once every holder
// has let go, whichever comes first: Shared or the queues' Releases.
func TestPreparedRefs(t *testing.T) {
	pr := NewPreparer(nil)
	pm := pr.Prepare(OpText, []byte("kept"), true, false)
	pm.Release() // a queue that took it wrote it before Shared
	pm.Shared(3)
	pm.Release()
	if got := string(pm.frame(false)[2:]); got != "kept" {
		t.Fatalf("payload %q while a queue holds it", got)
	}
	pm.Release()
	if n := pm.refs.Load(); n != 0 {
		t.Fatalf("%d references after the last release, want 0", n)
	}
}

// TestPreparedClosing: WritePrepared is a data write: none after a close,
// and none in the client role.
func TestPreparedClosing(t *testing.T) {
	pr := NewPreparer(nil)
	pm := pr.Prepare(OpText, []byte("x"), true, false)
	defer pm.Shared(0)
	c, _ := newTestConn(Server, nil, Config{})
	c.WriteClose(CloseNormal, "")
	if err := c.WritePrepared([]*PreparedMessage{pm}); !errors.Is(err, ErrCloseSent) {
		t.Fatalf("after close: %v, want ErrCloseSent", err)
	}
	cc, _ := newTestConn(Client, nil, Config{})
	if err := cc.WritePrepared([]*PreparedMessage{pm}); err == nil {
		t.Fatal("a client wrote a prepared (unmasked) frame")
	}
}

// TestPreparedZeroAllocs: preparing a message, compressed or not, and
// writing it allocate nothing in steady state.
func TestPreparedZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, n := range []int{64, 4096, 70000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := bytes.Repeat([]byte("abc "), n/4)
			pr := NewPreparer(&DeflateConfig{})
			defer pr.Close()
			plain := NewConn(discardConn{}, nil, Config{})
			z := NewConn(discardConn{}, nil, Config{Deflate: &DeflateParams{ServerNoContextTakeover: true}})
			batch := make([]*PreparedMessage, 1)
			allocs := testing.AllocsPerRun(100, func() {
				pm := pr.Prepare(OpText, p, true, true)
				batch[0] = pm
				if err := plain.WritePrepared(batch); err != nil {
					t.Fatal(err)
				}
				if err := z.WritePrepared(batch); err != nil {
					t.Fatal(err)
				}
				pm.Shared(0)
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per message, want 0", allocs)
			}
		})
	}
}

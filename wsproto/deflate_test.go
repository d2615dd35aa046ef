package wsproto

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Parameters for tests: context takeover both ways, and none.
var (
	takeover  = DeflateParams{Threshold: -1}
	noContext = DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, Threshold: -1}
)

// deflateConn is newTestConn with permessage-deflate agreed as p.
func deflateConn(role Role, input []byte, p DeflateParams) (*Conn, *fakeConn) {
	return newTestConn(role, input, Config{Deflate: &p, MaxMessageSize: 1 << 20})
}

// masked re-encodes unmasked frames as a client sends them, RSV bits kept.
func masked(t testing.TB, wire []byte) []byte {
	var out []byte
	for _, f := range parseFrames(t, wire) {
		f.h.Masked, f.h.Mask = true, testKey
		out = append(out, rawFrame(f.h, f.p)...)
	}
	return out
}

// deflateGolden are the examples of RFC 7692 §7.2.3, as a server sends
// them, with the messages they carry.
var deflateGolden = []struct {
	name   string
	params DeflateParams
	wire   string
	msgs   []string
}{
	{"7.2.3.1 one compressed block", takeover,
		"c1 07 f2 48 cd c9 c9 07 00", []string{"text:Hello"}},
	{"7.2.3.1 as a binary message", takeover,
		"c2 07 f2 48 cd c9 c9 07 00", []string{"binary:Hello"}},
	{"7.2.3.1 fragmented", takeover,
		"41 03 f2 48 cd 80 04 c9 c9 07 00", []string{"text:Hello"}},
	{"7.2.3.2 sharing the LZ77 window", takeover,
		"c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00", []string{"text:Hello", "text:Hello"}},
	{"7.2.3.2 without sharing it", noContext,
		"c1 07 f2 48 cd c9 c9 07 00 c1 07 f2 48 cd c9 c9 07 00", []string{"text:Hello", "text:Hello"}},
	{"7.2.3.3 uncompressed DEFLATE block", takeover,
		"c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00", []string{"text:Hello"}},
	{"7.2.3.4 BFINAL set", takeover,
		"c1 08 f3 48 cd c9 c9 07 00 00", []string{"text:Hello"}},
	{"7.2.3.4 BFINAL then the shared window", takeover,
		"c1 08 f3 48 cd c9 c9 07 00 00 c1 05 f2 00 11 00 00", []string{"text:Hello", "text:Hello"}},
	{"7.2.3.5 two DEFLATE blocks in one message", takeover,
		"c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00", []string{"text:Hello"}},
	{"empty message", takeover,
		"c1 01 00", []string{"text:"}},
	{"uncompressed message on a compressed connection", takeover,
		"81 05 48 65 6c 6c 6f", []string{"text:Hello"}},
}

// TestDeflateGoldenRead reads each RFC 7692 example as a client (as sent)
// and as a server (masked).
func TestDeflateGoldenRead(t *testing.T) {
	for _, tc := range deflateGolden {
		t.Run(tc.name, func(t *testing.T) {
			wire := unhex(tc.wire)
			for _, role := range []Role{Client, Server} {
				in := wire
				if role == Server {
					in = masked(t, wire)
				}
				c, _ := deflateConn(role, in, tc.params)
				msgs, err := readAll(c)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("role %v: ends with %v", role, err)
				}
				if !slices.Equal(msgs, tc.msgs) {
					t.Fatalf("role %v: read %q, want %q", role, msgs, tc.msgs)
				}
			}
		})
	}
}

// TestDeflateGoldenWrite writes "Hello" as a server and compares with the
// RFC's bytes where compress/flate makes the same choices: level 6 makes
// §7.2.3.1's fixed-Huffman block, level 1 §7.2.3.3's stored block; the
// second "Hello" with context takeover is a back-reference (compress/flate
// encodes it differently from §7.2.3.2, so it is checked by reading it
// back and by its length), and without takeover it repeats the first
// (streamed, since WriteMessage would then send "Hello" uncompressed: it
// does not shrink).
func TestDeflateGoldenWrite(t *testing.T) {
	tests := []struct {
		name   string
		params DeflateParams
		stream bool // write with NextWriter: compressed even when it does not pay
		check  func(t *testing.T, frames []wireFrame)
	}{
		{"level 6 takeover", DeflateParams{Level: 6, Threshold: -1}, false, func(t *testing.T, f []wireFrame) {
			wantFrame(t, f[0], "c1 07 f2 48 cd c9 c9 07 00")
			if f[1].h.Length >= f[0].h.Length || f[1].h.Rsv != rsv1 {
				t.Errorf("second Hello %x: want a shorter compressed frame", f[1].p)
			}
		}},
		{"level 6 no context", DeflateParams{Level: 6, Threshold: -1, ServerNoContextTakeover: true}, true, func(t *testing.T, f []wireFrame) {
			wantFrame(t, f[0], "c1 07 f2 48 cd c9 c9 07 00")
			wantFrame(t, f[1], "c1 07 f2 48 cd c9 c9 07 00")
		}},
		{"level 1 stored block", DeflateParams{Level: 1, Threshold: -1, ServerNoContextTakeover: true}, true, func(t *testing.T, f []wireFrame) {
			wantFrame(t, f[0], "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00")
		}},
		{"no context, compressing does not pay", DeflateParams{Level: 6, Threshold: -1, ServerNoContextTakeover: true}, false, func(t *testing.T, f []wireFrame) {
			wantFrame(t, f[0], "81 05 48 65 6c 6c 6f")
			wantFrame(t, f[1], "81 05 48 65 6c 6c 6f")
		}},
		{"under the threshold", DeflateParams{Threshold: 6}, false, func(t *testing.T, f []wireFrame) {
			wantFrame(t, f[0], "81 05 48 65 6c 6c 6f")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fc := deflateConn(Server, nil, tc.params)
			for range 2 {
				if !tc.stream {
					if err := c.WriteMessage(OpText, []byte("Hello")); err != nil {
						t.Fatal(err)
					}
					continue
				}
				w := c.NextWriter(OpText)
				if _, err := w.Write([]byte("Hello")); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			wire, _ := fc.written()
			frames := parseFrames(t, wire)
			if len(frames) != 2 {
				t.Fatalf("%d frames: % x", len(frames), wire)
			}
			tc.check(t, frames)
			r, _ := deflateConn(Client, wire, tc.params)
			if msgs, _ := readAll(r); fmt.Sprint(msgs) != "[text:Hello text:Hello]" {
				t.Fatalf("read back %q", msgs)
			}
		})
	}
}

func wantFrame(t *testing.T, f wireFrame, want string) {
	t.Helper()
	got := rawFrame(f.h, f.p)
	if !bytes.Equal(got, unhex(want)) {
		t.Errorf("frame % x, want %s", got, want)
	}
}

// TestDeflateRoundTrip sends messages of many shapes each way, whole,
// fragmented and streamed, with pings between fragments, and checks they
// arrive intact and that RSV1 is only on first frames.
func TestDeflateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	payloads := map[string][]byte{
		"empty":      nil,
		"tiny":       []byte("hi"),
		"json":       []byte(jsonLine(1)),
		"repetitive": bytes.Repeat([]byte("abcdefgh"), 40000),
		"random":     random(100000),
		"text 1MB":   []byte(strings.Repeat("κόσμε ", 1<<20/11)),
	}
	for _, mode := range []struct {
		name string
		p    DeflateParams
	}{{"takeover", takeover}, {"nocontext", noContext}, {"threshold", DeflateParams{}},
		{"history", DeflateParams{History: 4 << 10, Threshold: -1}}} {
		for _, writer := range []Role{Server, Client} {
			t.Run(fmt.Sprint(mode.name, "/", writer), func(t *testing.T) {
				w, fc := deflateConn(writer, nil, mode.p)
				var want, names []string
				raw := 0
				for name, p := range payloads {
					op := OpBinary
					if utf8.Valid(p) {
						op = OpText
					}
					if err := w.WriteMessage(op, p); err != nil {
						t.Fatal(name, err)
					}
					// The same, streamed in pieces with a ping between.
					mw := w.NextWriter(op)
					for i := 0; i < len(p); i += 7000 {
						if _, err := mw.Write(p[i:min(i+7000, len(p))]); err != nil {
							t.Fatal(err)
						}
						if i == 0 {
							if err := w.WritePing([]byte("x")); err != nil {
								t.Fatal(err)
							}
						}
					}
					if err := mw.Close(); err != nil {
						t.Fatal(err)
					}
					want = append(want, op.String()+":"+string(p), op.String()+":"+string(p))
					names = append(names, name, name)
					raw += 2 * len(p)
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				wire, _ := fc.written()
				open := false
				var compressed []bool // per message: RSV1 on its first frame
				for _, f := range parseFrames(t, wire) {
					if f.h.Rsv != 0 && (open || f.h.Op.IsControl()) {
						t.Fatalf("RSV1 on %v frame inside a message", f.h.Op)
					}
					if !f.h.Op.IsControl() {
						if !open {
							compressed = append(compressed, f.h.Rsv != 0)
						}
						open = !f.h.Fin
					}
				}
				// The large, compressible messages are above every mode's
				// threshold: each must go out compressed, whole or
				// streamed, and the stream as a whole must shrink (the
				// random 100 kB are most of what is left).
				if len(compressed) != len(names) {
					t.Fatalf("%d messages on the wire, want %d", len(compressed), len(names))
				}
				for i, name := range names {
					if (name == "repetitive" || name == "text 1MB") && !compressed[i] {
						t.Errorf("message %d (%s, %s) went out uncompressed", i, name, []string{"whole", "streamed"}[i%2])
					}
				}
				if len(wire) > raw/4 {
					t.Errorf("%d bytes on the wire for %d bytes of messages, want under a quarter", len(wire), raw)
				}
				reader := Server
				if writer == Server {
					reader = Client
				}
				r, _ := newTestConn(reader, wire, Config{Deflate: &mode.p, MaxMessageSize: 4 << 20})
				readBack(t, r, want)
			})
		}
	}
}

// jsonLine is a typical line a monitoring program prints, about 200 bytes.
func jsonLine(i int) string {
	return fmt.Sprintf(`{"time":"2026-12-01T21:%02d:%02d.%03dZ","host":"board-07","cpu":%d.%d,"load":[%d.%02d,%d.%02d,%d.%02d],"mem_free":%d,"temp_c":%d.%d,"net":{"rx":%d,"tx":%d},"disk":{"used":%d,"free":%d},"status":"ok"}`,
		i/60%60, i%60, i*37%1000, i*7%100, i%10, i%4, i*13%100, i%3, i*17%100, i%2, i*19%100,
		180000+i*113%5000, 40+i%20, i%10, 1000000+i*7919, 500000+i*104729, 3000000+i*31, 12000000-i*31)
}

// TestDeflateViolations: what a compressed connection refuses, and why.
func TestDeflateViolations(t *testing.T) {
	bomb := deflateBytes(t, make([]byte, 2<<20)) // 2 MiB of zeros in a few KB
	tests := []struct {
		name  string
		cfg   Config
		input []byte
		code  uint16
	}{
		{"RSV1 without the extension", Config{}, unhex("c1 07 f2 48 cd c9 c9 07 00"), CloseProtocolError},
		{"RSV1 on a continuation", Config{Deflate: &takeover}, unhex("41 03 f2 48 cd c0 04 c9 c9 07 00"), CloseProtocolError},
		{"RSV1 on a ping", Config{Deflate: &takeover}, unhex("c9 00"), CloseProtocolError},
		{"RSV2 with deflate", Config{Deflate: &takeover}, unhex("a1 01 00"), CloseProtocolError},
		{"garbage", Config{Deflate: &takeover}, unhex("c1 04 ff ff ff ff"), CloseProtocolError},
		{"reserved block type", Config{Deflate: &takeover}, unhex("c1 01 07"), CloseProtocolError},
		{"truncated stream", Config{Deflate: &takeover}, unhex("c1 03 f2 48 cd"), CloseProtocolError},
		{"invalid UTF-8 once inflated", Config{Deflate: &takeover},
			compressedFrame(OpText, deflateBytes(t, []byte("ok \xed\xa0\x80"))), CloseInvalidPayload},
		{"bomb over the limit", Config{Deflate: &takeover, MaxMessageSize: 1 << 20},
			compressedFrame(OpBinary, bomb), CloseMessageTooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fc := newTestConn(Client, tc.input, tc.cfg)
			_, err := readAll(c)
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Remote || ce.Code != tc.code {
				t.Fatalf("got %v, want close %d", err, tc.code)
			}
			out, _ := fc.written()
			frames := parseFrames(t, out)
			if len(frames) == 0 || closeFrameCode(t, frames[len(frames)-1]) != tc.code {
				t.Fatalf("close frame not sent: % x", out)
			}
		})
	}
}

// deflateBytes compresses p as a sender would, tail removed.
func deflateBytes(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(p)
	fw.Flush()
	return bytes.TrimSuffix(b.Bytes(), deflateTail[:])
}

// compressedFrame is an unmasked final frame with RSV1 carrying p.
func compressedFrame(op Opcode, p []byte) []byte {
	return rawFrame(Header{Fin: true, Rsv: rsv1, Op: op, Length: int64(len(p))}, p)
}

// TestDeflateBombAllocation: a message inflating past the limit fails
// having allocated about the limit, not the bomb's size, whole or
// streamed.
func TestDeflateBombAllocation(t *testing.T) {
	const limit = 64 << 10
	wire := compressedFrame(OpBinary, deflateBytes(t, make([]byte, 16<<20)))
	if len(wire) > 128<<10 {
		t.Fatalf("bomb of %d bytes", len(wire))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, _ := newTestConn(Client, wire, Config{Deflate: &takeover, MaxMessageSize: limit})
	_, p, err := c.ReadMessage(nil)
	runtime.ReadMemStats(&after)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CloseMessageTooBig || cap(p) > 2*limit {
		t.Fatalf("ReadMessage: %v, cap %d; want 1009", err, cap(p))
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte limit", grew, limit)
	}
	// Streaming through NextReader fails the same way.
	c, _ = newTestConn(Client, wire, Config{Deflate: &takeover, MaxMessageSize: limit})
	_, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if !errors.As(err, &ce) || ce.Code != CloseMessageTooBig || n > limit {
		t.Fatalf("streamed %d bytes, %v; want 1009 within the limit", n, err)
	}
}

// TestDeflateDiscardKeepsWindow: a message the caller does not read to the
// end is still inflated, so the next one, which refers back to it,
// inflates right.
func TestDeflateDiscardKeepsWindow(t *testing.T) {
	w, fc := deflateConn(Server, nil, takeover)
	long := strings.Repeat("the quick brown fox ", 500)
	for _, m := range []string{long, long} {
		if err := w.WriteMessage(OpText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	wire, _ := fc.written()
	r, _ := deflateConn(Client, wire, takeover)
	_, mr, err := r.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mr.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	_, p, err := r.ReadMessage(nil)
	if err != nil || string(p) != long {
		t.Fatalf("second message %.30q, %v", p, err)
	}
}

// TestNegotiateDeflate is the server's negotiation table (RFC 7692 §5, §7).
func TestNegotiateDeflate(t *testing.T) {
	pmd := func(params ...string) Extension {
		e := Extension{Name: DeflateName}
		for _, p := range params {
			name, value, _ := strings.Cut(p, "=")
			e.Params = append(e.Params, ExtensionParam{Name: name, Value: value})
		}
		return e
	}
	tests := []struct {
		name   string
		offers []Extension
		cfg    DeflateConfig
		answer string // "" for declined
		params DeflateParams
	}{
		{"plain offer", []Extension{pmd()}, DeflateConfig{}, "permessage-deflate", DeflateParams{}},
		{"client_max_window_bits without value", []Extension{pmd("client_max_window_bits")}, DeflateConfig{},
			"permessage-deflate", DeflateParams{}},
		{"client_max_window_bits=10", []Extension{pmd("client_max_window_bits=10")}, DeflateConfig{},
			"permessage-deflate", DeflateParams{}},
		{"server_no_context_takeover", []Extension{pmd("server_no_context_takeover")}, DeflateConfig{},
			"permessage-deflate; server_no_context_takeover", DeflateParams{ServerNoContextTakeover: true}},
		{"client_no_context_takeover taken up", []Extension{pmd("client_no_context_takeover")}, DeflateConfig{},
			"permessage-deflate; client_no_context_takeover", DeflateParams{ClientNoContextTakeover: true}},
		{"server_max_window_bits=15", []Extension{pmd("server_max_window_bits=15")}, DeflateConfig{},
			"permessage-deflate; server_max_window_bits=15", DeflateParams{ServerMaxWindowBits: 15}},
		{"server_max_window_bits=10 echoed", []Extension{pmd("server_max_window_bits=10")}, DeflateConfig{},
			"permessage-deflate; server_max_window_bits=10", DeflateParams{ServerMaxWindowBits: 10}},
		{"server_max_window_bits=8, first offer taken",
			[]Extension{pmd("server_max_window_bits=8", "client_max_window_bits"), pmd("client_max_window_bits")},
			DeflateConfig{}, "permessage-deflate; server_max_window_bits=8", DeflateParams{ServerMaxWindowBits: 8}},
		{"Autobahn 13.5: no context, window 9", []Extension{pmd("server_no_context_takeover", "server_max_window_bits=9", "client_max_window_bits")},
			DeflateConfig{}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
			DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9}},
		{"no context mode", []Extension{pmd("client_max_window_bits")}, DeflateConfig{NoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"everything", []Extension{pmd("server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits=15", "client_max_window_bits=15")},
			DeflateConfig{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15",
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15}},
		{"local level and threshold kept", []Extension{pmd()}, DeflateConfig{Level: 6, Threshold: 100},
			"permessage-deflate", DeflateParams{Level: 6, Threshold: 100}},
		{"other extensions skipped", []Extension{{Name: "x-webkit-deflate-frame"}, pmd()}, DeflateConfig{}, "permessage-deflate", DeflateParams{}},
		{"unknown parameter", []Extension{pmd("mux")}, DeflateConfig{}, "", DeflateParams{}},
		{"parameter twice", []Extension{pmd("server_no_context_takeover", "server_no_context_takeover")}, DeflateConfig{}, "", DeflateParams{}},
		{"value on a flag", []Extension{pmd("server_no_context_takeover=1")}, DeflateConfig{}, "", DeflateParams{}},
		{"server_max_window_bits without value", []Extension{pmd("server_max_window_bits")}, DeflateConfig{}, "", DeflateParams{}},
		{"window 16", []Extension{pmd("client_max_window_bits=16")}, DeflateConfig{}, "", DeflateParams{}},
		{"window 7", []Extension{pmd("client_max_window_bits=7")}, DeflateConfig{}, "", DeflateParams{}},
		{"window with leading zero", []Extension{pmd("server_max_window_bits=015")}, DeflateConfig{}, "", DeflateParams{}},
		{"window not a number", []Extension{pmd("client_max_window_bits=a")}, DeflateConfig{}, "", DeflateParams{}},
		{"window past 64 bits", []Extension{pmd("client_max_window_bits=18446744073709551616")}, DeflateConfig{}, "", DeflateParams{}},
		{"window of the largest int", []Extension{pmd("server_max_window_bits=9223372036854775807")}, DeflateConfig{}, "", DeflateParams{}},
		{"no deflate offered", []Extension{{Name: "foo"}}, DeflateConfig{}, "", DeflateParams{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer, ok := NegotiateDeflate(tc.offers, tc.cfg)
			if ok != (tc.answer != "") {
				t.Fatalf("accepted %v, want %v", ok, tc.answer != "")
			}
			if !ok {
				return
			}
			if got := formatExt(*answer); got != tc.answer {
				t.Errorf("answer %q, want %q", got, tc.answer)
			}
			// The server reads its own answer back to its Conn's
			// parameters, with cfg's local choices.
			params, err := DeflateAnswer([]Extension{*answer}, tc.cfg)
			if err != nil || params == nil || *params != tc.params {
				t.Fatalf("server's DeflateAnswer = %+v, %v; want %+v", params, err, tc.params)
			}
			// Every answered parameter is one the client allowed (RFC 7692
			// §7.1: server_max_window_bits only if offered; the
			// no_context_takeover ones may always be answered).
			for _, p := range answer.Params {
				if p.Name == paramServerMaxWindow || p.Name == paramClientMaxWindow {
					if !offered(tc.offers, p.Name) {
						t.Errorf("answered %s, not offered", p.Name)
					}
				}
			}
			// The client reads the answer back to the same agreement.
			got, err := DeflateAnswer([]Extension{*answer}, DeflateConfig{Level: tc.cfg.Level, Threshold: tc.cfg.Threshold})
			if err != nil || got == nil || *got != tc.params {
				t.Errorf("client's DeflateAnswer = %+v, %v; want %+v", got, err, tc.params)
			}
		})
	}
}

// offered reports whether a permessage-deflate offer among offers has a
// parameter called name.
func offered(offers []Extension, name string) bool {
	for _, o := range offers {
		if o.Name != DeflateName {
			continue
		}
		for _, p := range o.Params {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func formatExt(e Extension) string {
	s := e.Name
	for _, p := range e.Params {
		s += "; " + p.Name
		if p.Value != "" {
			s += "=" + p.Value
		}
	}
	return s
}

// TestDeflateAnswerClient: what a client refuses in a server's answer.
func TestDeflateAnswerClient(t *testing.T) {
	tests := []struct {
		name string
		ext  Extension
		ok   bool
	}{
		{"plain", Extension{Name: DeflateName}, true},
		{"client window 15", Extension{Name: DeflateName, Params: []ExtensionParam{{Name: paramClientMaxWindow, Value: "15"}}}, true},
		{"client window 9: compressed without back-references", Extension{Name: DeflateName, Params: []ExtensionParam{{Name: paramClientMaxWindow, Value: "9"}}}, true},
		{"server window 9: fine to inflate", Extension{Name: DeflateName, Params: []ExtensionParam{{Name: paramServerMaxWindow, Value: "9"}}}, true},
		{"client window without value", Extension{Name: DeflateName, Params: []ExtensionParam{{Name: paramClientMaxWindow}}}, false},
		{"unknown", Extension{Name: DeflateName, Params: []ExtensionParam{{Name: "x"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DeflateAnswer([]Extension{{Name: "other"}, tc.ext}, DeflateConfig{})
			if (err == nil) != tc.ok || (tc.ok && p == nil) {
				t.Fatalf("DeflateAnswer = %+v, %v; want ok %v", p, err, tc.ok)
			}
		})
	}
	if p, err := DeflateAnswer([]Extension{{Name: "other"}}, DeflateConfig{}); p != nil || err != nil {
		t.Fatalf("no deflate answered: %+v, %v", p, err)
	}
	if got := DeflateOffer(DeflateConfig{NoContextTakeover: true}); !reflect.DeepEqual(got.Params, []ExtensionParam{
		{Name: paramServerNoContext}, {Name: paramClientNoContext}, {Name: paramClientMaxWindow}}) {
		t.Fatalf("DeflateOffer = %+v", got)
	}
}

// TestDeflateHistory: with History, a compressor given back to the pool
// (as the idle timer does) is replaced by one primed with the text sent so
// far, so the stream stays readable with context takeover and a message
// after the pause still refers back to the earlier ones.
func TestDeflateHistory(t *testing.T) {
	p := DeflateParams{History: 4 << 10}
	w, fc := deflateConn(Server, nil, p)
	nc, ncFC := deflateConn(Server, nil, noContext)
	var sizes, alone []int
	var want []string
	for i := range 40 {
		line := []byte(jsonLine(i))
		if i%10 == 0 {
			w.releaseCompressor()
			if w.wz.z != nil {
				t.Fatal("compressor kept after release")
			}
		}
		for _, c := range []*Conn{w, nc} {
			if err := c.WriteMessage(OpText, line); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		wire, _ := fc.written()
		ncWire, _ := ncFC.written()
		sizes = append(sizes, len(wire)-sum(sizes))
		alone = append(alone, len(ncWire)-sum(alone))
		want = append(want, "text:"+string(line))
	}
	for _, i := range []int{10, 20, 30} { // first messages after a release
		if sizes[i]*2 > alone[i] {
			t.Errorf("message %d after a release: %d bytes, compressed alone %d: history not used", i, sizes[i], alone[i])
		}
	}
	wire, _ := fc.written()
	r, _ := newTestConn(Client, wire, Config{Deflate: &p})
	got, err := readAll(r)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read back %d messages, want %d, or they differ", len(got), len(want))
	}
	t.Logf("bytes per message after a release: %d, %d, %d (compressed alone: %d)", sizes[10], sizes[20], sizes[30], alone[10])
}

// TestDeflateIdleRelease: the idle timer gives the compressor back.
func TestDeflateIdleRelease(t *testing.T) {
	t.Parallel()
	w, _ := deflateConn(Server, nil, DeflateParams{History: 4 << 10})
	if err := w.WriteMessage(OpText, []byte(jsonLine(1))); err != nil {
		t.Fatal(err)
	}
	held := func() bool {
		w.wmu.Lock()
		defer w.wmu.Unlock()
		return w.wz.z != nil
	}
	if !held() {
		t.Fatal("no compressor held right after a message")
	}
	deadline := time.Now().Add(deflateIdle + 5*time.Second)
	for held() {
		if time.Now().After(deadline) {
			t.Fatalf("compressor still held %v after the message", deflateIdle+5*time.Second)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TestDeflateReadMessageReusesBuffer: a compressed message that fits the
// caller's buffer exactly is read into it, not into a new one.
func TestDeflateReadMessageReusesBuffer(t *testing.T) {
	t.Parallel()
	line := []byte(jsonLine(3))
	w, fc := deflateConn(Client, nil, takeover)
	if err := w.WriteMessage(OpText, line); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	wire, _ := fc.written()
	r, _ := deflateConn(Server, wire, takeover)
	buf := make([]byte, 0, len(line))
	_, p, err := r.ReadMessage(buf)
	if err != nil || string(p) != string(line) {
		t.Fatalf("read %q, %v", p, err)
	}
	if cap(p) != cap(buf) || &p[0] != &buf[:1][0] {
		t.Fatalf("message of %d bytes read into a new buffer of %d, not the caller's of %d", len(p), cap(p), cap(buf))
	}
}

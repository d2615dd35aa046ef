package procio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func TestLineCodecRead(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("abcdefgh", 3) // 3×bufSize
	tests := []struct {
		name    string
		bufSize int
		chunks  []string // one per Read
		want    []string
	}{
		{"empty input", 8, nil, nil},
		{"one line", 0, []string{"hello\n"}, []string{"msg(hello)", "flush"}},
		{"CRLF", 0, []string{"a\r\nb\r\n"}, []string{"msg(a)", "msg(b)", "flush"}},
		{"lone CR kept", 0, []string{"a\rb\n"}, []string{"msg(a\rb)", "flush"}},
		{"empty lines", 0, []string{"\n\r\n\n"}, []string{"msg()", "msg()", "msg()", "flush"}},
		{"final line without newline", 0, []string{"a\nlast"},
			[]string{"msg(a)", "flush", "msg(last)", "flush"}},
		{"final CR dropped", 0, []string{"last\r"}, []string{"msg(last)", "flush"}},
		{"many lines in one read, one flush", 0, []string{"1\n2\n3\n4\n5\n"},
			[]string{"msg(1)", "msg(2)", "msg(3)", "msg(4)", "msg(5)", "flush"}},
		{"quiet program: flush after each read", 0, []string{"a\n", "b\n"},
			[]string{"msg(a)", "flush", "msg(b)", "flush"}},
		{"line across reads", 0, []string{"ab", "cd\n"}, []string{"msg(abcd)", "flush"}},
		{"line of 3×bufSize streamed", 8, []string{long + "\n"},
			[]string{"frag(abcdefgh)", "flush", "frag(abcdefgh)", "flush", "frag(abcdefgh)", "flush", "msg()", "flush"}},
		{"long line then short ones", 8, []string{"0123456789\nab\ncd\n"},
			[]string{"frag(01234567)", "flush", "msg(89)", "msg(ab)", "flush", "msg(cd)", "flush"}},
		{"long line ended by EOF", 8, []string{"0123456789"},
			[]string{"frag(01234567)", "flush", "msg(89)", "flush"}},
		{"CR at fragment boundary before LF", 8, []string{"abcdefg\r\n"},
			[]string{"frag(abcdefg)", "flush", "msg()", "flush"}},
		{"CR at fragment boundary before data", 8, []string{"abcdefg\rxy\n"},
			[]string{"frag(abcdefg)", "flush", "msg(\rxy)", "flush"}},
		{"rune split at fragment boundary", 8, []string{"abcdef€\n"},
			[]string{"frag(abcdef)", "flush", "msg(€)", "flush"}},
		{"4-byte rune split at fragment boundary", 8, []string{"abcde😀!\n"},
			[]string{"frag(abcde)", "flush", "msg(😀!)", "flush"}},
		{"invalid byte", 0, []string{"a\xffb\n"}, []string{"msg(a\uFFFDb)", "flush"}},
		{"truncated sequence is one U+FFFD", 0, []string{"\xe2\x82A\n"}, []string{"msg(\uFFFDA)", "flush"}},
		{"surrogate is three U+FFFD", 0, []string{"\xed\xa0\x80\n"}, []string{"msg(\uFFFD\uFFFD\uFFFD)", "flush"}},
		{"overlong is two U+FFFD", 0, []string{"\xc0\xaf\n"}, []string{"msg(\uFFFD\uFFFD)", "flush"}},
		{"incomplete rune at EOF", 0, []string{"ok\xf0\x9f\x98"}, []string{"msg(ok\uFFFD)", "flush"}},
		{"invalid bytes at fragment boundary are replaced", 8, []string{"abcdef\xff\xfe", "\n"},
			[]string{"frag(abcdef\uFFFD\uFFFD)", "flush", "msg()", "flush"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &recordSink{}
			err := NewLineCodec(tc.bufSize).ReadMessages(ReaderOutput(&chunksReader{slices.Clone(tc.chunks)}), sink)
			if err != nil {
				t.Fatalf("ReadMessages: %v", err)
			}
			if !slices.Equal(sink.events, tc.want) {
				t.Errorf("events\n got %q\nwant %q", sink.events, tc.want)
			}
		})
	}
}

// Messages do not depend on how the output is cut into reads: a reader that
// returns one byte at a time splits every rune and every CRLF.
func TestLineCodecOneByteReads(t *testing.T) {
	t.Parallel()
	in := "héllo wörld €uro 😀\r\n\xffbad\xe2\x82\nlast\xf0\x9f"
	want := []string{"héllo wörld €uro 😀", "\uFFFDbad\uFFFD", "last\uFFFD"}
	for _, bufSize := range []int{4, 5, 7, 8, 16, 0} {
		sink := &recordSink{}
		r := iotest.OneByteReader(strings.NewReader(in))
		if err := NewLineCodec(bufSize).ReadMessages(ReaderOutput(r), sink); err != nil {
			t.Fatalf("bufSize %d: %v", bufSize, err)
		}
		if !slices.Equal(sink.msgs, want) {
			t.Errorf("bufSize %d: messages %q, want %q", bufSize, sink.msgs, want)
		}
		for _, e := range sink.events {
			if !utf8.ValidString(e) {
				t.Errorf("bufSize %d: invalid UTF-8 in fragment %q", bufSize, e)
			}
		}
	}
}

func TestLineCodecWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		bufSize int
		msg     string
		writes  []string
	}{
		{"short message, one write", 0, "hello", []string{"hello\n"}},
		{"empty message", 0, "", []string{"\n"}},
		{"fills the buffer", 8, "12345678", []string{"12345678\n"}},
		{"longer than the buffer", 8, "123456789abcdefgXY", []string{"12345678", "9abcdefg", "XY\n"}},
		{"one more than the buffer", 8, "123456789", []string{"12345678", "9\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &writeRecorder{}
			msg := iotest.HalfReader(strings.NewReader(tc.msg))
			if err := NewLineCodec(tc.bufSize).WriteMessage(w, Message{Reader: msg}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w.writes, tc.writes) {
				t.Errorf("writes %q, want %q", w.writes, tc.writes)
			}
		})
	}
}

type writeRecorder struct{ writes []string }

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestCodecErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	codecs := []struct {
		name  string
		codec Codec
	}{{"line", NewLineCodec(8)}, {"binary", NewBinaryCodec(8)}}
	for _, c := range codecs {
		t.Run(c.name+"/read error", func(t *testing.T) {
			err := c.codec.ReadMessages(ReaderOutput(iotest.ErrReader(boom)), &discardSink{})
			if !errors.Is(err, boom) {
				t.Errorf("ReadMessages: %v, want %v", err, boom)
			}
		})
		t.Run(c.name+"/sink error", func(t *testing.T) {
			err := c.codec.ReadMessages(ReaderOutput(strings.NewReader("x\n")), errSink{boom})
			if err != boom {
				t.Errorf("ReadMessages: %v, want %v as it is", err, boom)
			}
		})
		t.Run(c.name+"/empty reads", func(t *testing.T) {
			err := c.codec.ReadMessages(ReaderOutput(emptyReader{}), &discardSink{})
			if !errors.Is(err, io.ErrNoProgress) {
				t.Errorf("ReadMessages: %v, want io.ErrNoProgress", err)
			}
		})
		t.Run(c.name+"/message read error", func(t *testing.T) {
			err := c.codec.WriteMessage(io.Discard, Message{Reader: iotest.ErrReader(boom)})
			if !errors.Is(err, boom) {
				t.Errorf("WriteMessage: %v, want %v", err, boom)
			}
		})
		t.Run(c.name+"/stdin write error", func(t *testing.T) {
			err := c.codec.WriteMessage(errWriter{boom}, Message{Reader: strings.NewReader("x")})
			if !errors.Is(err, boom) {
				t.Errorf("WriteMessage: %v, want %v", err, boom)
			}
		})
	}
}

type errSink struct{ err error }

func (s errSink) WriteFragment(bool, []byte, bool) error { return s.err }
func (s errSink) Flush() error                           { return s.err }

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestBinaryCodec(t *testing.T) {
	t.Parallel()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	var stdin bytes.Buffer
	if err := NewBinaryCodec(0).WriteMessage(&stdin, Message{Reader: bytes.NewReader(all)}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdin.Bytes(), all) {
		t.Errorf("stdin got %q", stdin.Bytes())
	}
	sink := &recordSink{}
	if err := NewBinaryCodec(100).ReadMessages(ReaderOutput(&chunkReader{all, 1000}), sink); err != nil {
		t.Fatal(err)
	}
	want := []string{"bin(" + string(all[:100]) + ")", "flush", "bin(" + string(all[100:200]) + ")", "flush",
		"bin(" + string(all[200:]) + ")", "flush"}
	if !slices.Equal(sink.events, want) {
		t.Errorf("events %q, want %q", sink.events, want)
	}
}

// The codecs allocate nothing per message once their buffers exist; the line
// codec's U+FFFD buffer is made once, the first time it is needed. Under the
// race detector the buffer pools drop buffers at random, so a call may make
// its buffer anew (2 allocations) — still nothing per message: one per
// message would be at least 100 here.
func TestCodecAllocs(t *testing.T) {
	limit := 0.0
	if raceEnabled {
		limit = 2
	}
	lines := bytes.Repeat([]byte("a short line of output\n"), 100)
	invalid := bytes.Repeat([]byte("bad \xff\xe2\x82 line\r\n"), 100)
	msg := []byte("an incoming message")
	var jsonOut, lengthOut []byte
	for range 50 {
		jsonOut = append(jsonOut, jsonText(`a short line of output\n\u00e9`)+jsonBin("YmluYXJ5IGRhdGE=")...)
		lengthOut = append(lengthOut, lengthFrame(LengthText, "a short line of output\n")+lengthFrame(LengthBinary, "\x00\xff binary")...)
	}
	tests := []struct {
		name   string
		codec  Codec
		read   []byte
		binary bool // the written message's type
	}{
		{"line", NewLineCodec(64), lines, false},
		{"line invalid UTF-8", NewLineCodec(64), invalid, false},
		{"binary", NewBinaryCodec(64), lines, true},
		{"json", NewJSONCodec(64, 0), jsonOut, false},
		{"json binary", NewJSONCodec(64, 0), jsonOut, true},
		{"length", NewLengthCodec(64, 0), lengthOut, false},
		{"length binary", NewLengthCodec(64, 0), lengthOut, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, sink := bytes.NewReader(nil), &discardSink{}
			out := ReaderOutput(r)
			read := func() {
				r.Reset(tc.read)
				if err := tc.codec.ReadMessages(out, sink); err != nil {
					t.Fatal(err)
				}
			}
			read() // makes the buffers
			if n := testing.AllocsPerRun(50, read); n > limit {
				t.Errorf("ReadMessages: %v allocations per 100 lines or messages", n)
			}
			write := func() {
				r.Reset(msg)
				if err := tc.codec.WriteMessage(io.Discard, Message{Reader: r, Binary: tc.binary}); err != nil {
					t.Fatal(err)
				}
			}
			write()
			if n := testing.AllocsPerRun(50, write); n > limit {
				t.Errorf("WriteMessage: %v allocations per message", n)
			}
		})
	}
}

// whatwgDecode is the WHATWG Encoding Standard's UTF-8 decoder, written as the
// standard states it, to check the codec against.
func whatwgDecode(p []byte) string {
	var out []rune
	var cp rune
	need, seen := 0, 0
	lo, hi := byte(0x80), byte(0xBF)
	for i := 0; i < len(p); {
		b := p[i]
		if need == 0 {
			i++
			switch {
			case b <= 0x7F:
				out = append(out, rune(b))
			case b >= 0xC2 && b <= 0xDF:
				need, cp = 1, rune(b&0x1F)
			case b >= 0xE0 && b <= 0xEF:
				if b == 0xE0 {
					lo = 0xA0
				}
				if b == 0xED {
					hi = 0x9F
				}
				need, cp = 2, rune(b&0xF)
			case b >= 0xF0 && b <= 0xF4:
				if b == 0xF0 {
					lo = 0x90
				}
				if b == 0xF4 {
					hi = 0x8F
				}
				need, cp = 3, rune(b&0x7)
			default:
				out = append(out, utf8.RuneError)
			}
			continue
		}
		if b < lo || b > hi {
			// Error; the byte is processed again as a fresh start.
			need, seen, cp = 0, 0, 0
			lo, hi = 0x80, 0xBF
			out = append(out, utf8.RuneError)
			continue
		}
		i++
		lo, hi = 0x80, 0xBF
		cp = cp<<6 | rune(b&0x3F)
		if seen++; seen == need {
			out = append(out, cp)
			need, seen, cp = 0, 0, 0
		}
	}
	if need != 0 {
		out = append(out, utf8.RuneError)
	}
	return string(out)
}

// FuzzLineCodec checks that, however the output is cut into reads and
// whatever the buffer size (any int: 0 and negative for the default, the
// largest int for none to speak of), the messages are the output's lines
// decoded as TextDecoder would, and every fragment is valid UTF-8 on its
// own.
func FuzzLineCodec(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), 8, uint8(3))
	f.Add([]byte("a\r\n\r\n\nlast"), 4, uint8(1))
	f.Add([]byte("héllo €uro 😀\n"), 5, uint8(1))
	f.Add([]byte("\xff\xe2\x82A\xed\xa0\x80\xc0\xaf\xf0\x9f\x98\n"), 4, uint8(2))
	f.Add([]byte("abcdefg\r\nabcdefg\rx\n"), 8, uint8(255))
	f.Add(bytes.Repeat([]byte("ü"), 40), 7, uint8(9))
	f.Add([]byte("no limit\n\xff\n"), 0, uint8(4))
	f.Add([]byte("no limit\n\xff\n"), -1, uint8(4))
	f.Add([]byte("no limit\n\xff\n"), math.MaxInt, uint8(4))
	f.Add([]byte("just over\n"), MaxBufferSize+1, uint8(200))
	f.Fuzz(func(t *testing.T, out []byte, bufSize int, chunk uint8) {
		size := bufferSize(bufSize)
		sink := &recordSink{}
		r := &chunkReader{out, max(int(chunk), 1)}
		if err := NewLineCodec(bufSize).ReadMessages(ReaderOutput(r), sink); err != nil {
			t.Fatal(err)
		}
		var want []string
		if len(out) > 0 {
			lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
			for _, line := range lines {
				want = append(want, whatwgDecode(dropCR(line)))
			}
		}
		if !slices.Equal(sink.msgs, want) {
			t.Fatalf("messages %q, want %q", sink.msgs, want)
		}
		for _, e := range sink.events {
			if !utf8.ValidString(e) {
				t.Fatalf("invalid UTF-8 in %q", e)
			}
			if len(e) > len("frag()")+3*size {
				t.Fatalf("fragment longer than 3×%d: %q", size, e)
			}
		}
	})
}

// scriptedPipe is a stdout that never has more output ready right now
// (readAhead finds nothing) and counts the reads made while idle.
type scriptedPipe struct {
	chunks      []string
	waits, read int
}

func (p *scriptedPipe) readIdle(ib *idleBuf, _ bool) (int, error) {
	p.waits++
	return p.Read(ib.get())
}

func (p *scriptedPipe) readAhead([]byte) (int, bool, error) { return 0, false, nil }

func (p *scriptedPipe) Read(b []byte) (int, error) {
	if p.read == len(p.chunks) {
		return 0, io.EOF
	}
	n := copy(b, p.chunks[p.read])
	p.read++
	return n, nil
}

// aheadPipe is a stdout whose chunks marked with a leading '+' are already
// there when the codec looks ahead (readAhead), and whose EOF always is.
type aheadPipe struct {
	chunks []string
	read   int
}

func (p *aheadPipe) Read(b []byte) (int, error) {
	if p.read == len(p.chunks) {
		return 0, io.EOF
	}
	n := copy(b, strings.TrimPrefix(p.chunks[p.read], "+"))
	p.read++
	return n, nil
}

func (p *aheadPipe) readIdle(ib *idleBuf, _ bool) (int, error) { return p.Read(ib.get()) }

func (p *aheadPipe) readAhead(b []byte) (int, bool, error) {
	if p.read < len(p.chunks) && !strings.HasPrefix(p.chunks[p.read], "+") {
		return 0, false, nil
	}
	n, err := p.Read(b)
	return n, true, err
}

// TestCodecsReadAhead: output already waiting joins the current flush, and
// the last message is flushed when looking ahead finds EOF.
func TestCodecsReadAhead(t *testing.T) {
	t.Parallel()
	chunks := []string{"a\n", "+b\n", "+c\n", "d\n"}
	for name, tc := range map[string]struct {
		c    Codec
		want []string
	}{
		"line":   {NewLineCodec(0), []string{"msg(a)", "msg(b)", "msg(c)", "flush", "msg(d)", "flush"}},
		"binary": {NewBinaryCodec(0), []string{"bin(a\n)", "bin(b\n)", "bin(c\n)", "flush", "bin(d\n)", "flush"}},
	} {
		sink := &recordSink{}
		if err := tc.c.ReadMessages(&aheadPipe{chunks: slices.Clone(chunks)}, sink); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(sink.events, tc.want) {
			t.Errorf("%s: events %q, want %q", name, sink.events, tc.want)
		}
	}
}

// TestCodecsWaitWhenQuiet: after a read that filled the buffer, a quiet
// pipe is waited on (without a buffer held) rather than read at once.
func TestCodecsWaitWhenQuiet(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Codec{"line": NewLineCodec(MinBufferSize), "binary": NewBinaryCodec(MinBufferSize)} {
		p := &scriptedPipe{chunks: []string{"abc\n", "de\n"}}
		if err := c.ReadMessages(p, errSink{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.waits != len(p.chunks)+1 { // before each chunk and before EOF
			t.Errorf("%s: %d waits for %d reads, want one before each", name, p.waits, len(p.chunks)+1)
		}
	}
}

// quietPipe is a stdout that goes quiet (ErrQuiet) before each chunk
// marked with a leading '|', once, as a Process's pipe does after
// Config.Quiet without output.
type quietPipe struct {
	chunks  []string
	read    int  // chunks[:read] have been read whole
	off     int  // and chunks[read][:off]
	quieted bool // the quiet before chunks[read] was reported
	quiets  int
}

func (p *quietPipe) readAhead([]byte) (int, bool, error) { return 0, false, nil }

func (p *quietPipe) readIdle(ib *idleBuf, quietOK bool) (int, error) {
	if quietOK && p.read < len(p.chunks) && p.off == 0 && strings.HasPrefix(p.chunks[p.read], "|") && !p.quieted {
		p.quieted = true
		p.quiets++
		return 0, ErrQuiet
	}
	return p.Read(ib.get())
}

func (p *quietPipe) Read(b []byte) (int, error) {
	if p.read == len(p.chunks) {
		return 0, io.EOF
	}
	if p.off == 0 {
		p.chunks[p.read] = strings.TrimPrefix(p.chunks[p.read], "|")
	}
	n := copy(b, p.chunks[p.read][p.off:])
	if p.off += n; p.off == len(p.chunks[p.read]) {
		p.read, p.off, p.quieted = p.read+1, 0, false
	}
	return n, nil
}

// TestCodecsReturnWhenQuiet: ReadMessages returns ErrQuiet when stdout goes
// quiet between messages, and a later call carries on; in the middle of a
// line (a fragment sent, its end not yet) it keeps waiting instead.
func TestCodecsReturnWhenQuiet(t *testing.T) {
	t.Parallel()
	p := &quietPipe{chunks: []string{"one\n", "|two\n", "thre", "|e\n", "|four"}}
	sink := &recordSink{}
	c := NewLineCodec(MinBufferSize)
	calls := 0
	for {
		calls++
		err := c.ReadMessages(p, sink)
		if err == nil {
			break
		}
		if err != ErrQuiet || calls > 10 {
			t.Fatalf("call %d: %v", calls, err)
		}
	}
	want := []string{"one", "two", "three", "four"}
	if !slices.Equal(sink.msgs, want) {
		t.Fatalf("messages %q, want %q", sink.msgs, want)
	}
	// Quiet before "two" and before "four"; not inside "three", whose
	// first four bytes filled the buffer and went out as a fragment
	// before the pipe went quiet.
	if p.quiets != 2 || calls != 3 {
		t.Fatalf("%d quiets and %d calls, want 2 and 3", p.quiets, calls)
	}

	b := &quietPipe{chunks: []string{"ab", "|cd"}}
	bc := NewBinaryCodec(MinBufferSize)
	if err := bc.ReadMessages(b, errSink{}); err != ErrQuiet {
		t.Fatalf("binary: %v, want ErrQuiet", err)
	}
	if err := bc.ReadMessages(b, errSink{}); err != nil || b.read != 2 {
		t.Fatalf("binary: %v after %d reads, want EOF after 2", err, b.read)
	}
}

// TestCodecBufferSizeExtremes: a buffer size up to the largest int is
// lowered to MaxBufferSize, and a negative one means the default; the
// codecs then work as with any size. The largest int once overflowed the
// one byte more the stdin buffer takes, and the pool's make panicked.
func TestCodecBufferSizeExtremes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bufSize, want int
	}{
		{math.MaxInt, MaxBufferSize},
		{math.MaxInt - 1, MaxBufferSize},
		{MaxBufferSize + 1, MaxBufferSize},
		{MaxBufferSize, MaxBufferSize},
		{-1, DefaultBufferSize},
		{math.MinInt, DefaultBufferSize},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.bufSize), func(t *testing.T) {
			t.Parallel()
			if got := bufferSize(tc.bufSize); got != tc.want {
				t.Fatalf("bufferSize(%d) = %d, want %d", tc.bufSize, got, tc.want)
			}
			for name, cc := range map[string]struct {
				c     Codec
				stdin string
				msgs  []string
			}{
				"line":   {NewLineCodec(tc.bufSize), "hello\n", []string{"a", "b"}},
				"binary": {NewBinaryCodec(tc.bufSize), "hello", []string{"a\nb\n"}},
				"json":   {NewJSONCodec(tc.bufSize, 0), jsonText("hello"), []string{"a", "b"}},
				"length": {NewLengthCodec(tc.bufSize, 0), lengthFrame(LengthText, "hello"), []string{"a", "b"}},
			} {
				out := map[string]string{"json": jsonText("a") + jsonText("b"), "length": lengthFrame(LengthText, "a") + lengthFrame(LengthText, "b")}[name]
				if out == "" {
					out = "a\nb\n"
				}
				var stdin bytes.Buffer
				if err := cc.c.WriteMessage(&stdin, Message{Reader: strings.NewReader("hello")}); err != nil || stdin.String() != cc.stdin {
					t.Fatalf("%s: stdin %q, %v; want %q", name, stdin.String(), err, cc.stdin)
				}
				sink := &recordSink{}
				if err := cc.c.ReadMessages(ReaderOutput(strings.NewReader(out)), sink); err != nil || !slices.Equal(sink.msgs, cc.msgs) {
					t.Fatalf("%s: messages %q, %v; want %q", name, sink.msgs, err, cc.msgs)
				}
			}
		})
	}
}

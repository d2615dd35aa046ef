package procio

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// msg is a message as the framing tests name it: its type and payload.
type msg struct {
	bin bool
	p   string
}

func (m msg) String() string {
	if m.bin {
		return fmt.Sprintf("bin(%q)", m.p)
	}
	return fmt.Sprintf("text(%q)", m.p)
}

// msgsOf lists the whole messages a recordSink got.
func msgsOf(s *recordSink) []msg {
	out := make([]msg, len(s.msgs))
	for i := range s.msgs {
		out[i] = msg{s.bins[i], s.msgs[i]}
	}
	return out
}

// exactCodecs are the framings that carry exact messages, made with a
// buffer size and a message limit.
var exactCodecs = []struct {
	name string
	new  func(bufSize int, max int64) Codec
}{
	{"json", NewJSONCodec},
	{"length", NewLengthCodec},
}

// lengthFrame is one message in the length framing.
func lengthFrame(typ byte, p string) string {
	h := make([]byte, LengthHeaderSize)
	h[0] = typ
	binary.BigEndian.PutUint64(h[1:], uint64(len(p)))
	return string(h) + p
}

// readAll runs codec over out, cut into reads of chunk bytes.
func readFramed(codec Codec, out []byte, chunk int) (*recordSink, error) {
	sink := &recordSink{}
	err := codec.ReadMessages(ReaderOutput(&chunkReader{out, chunk}), sink)
	return sink, err
}

// TestExactRoundTrip: messages written to stdin by a framing and read back
// from it as stdout (cat's echo) come out exact, whatever the buffer size
// and however stdout is cut into reads.
func TestExactRoundTrip(t *testing.T) {
	t.Parallel()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	long := strings.Repeat("héllo wörld 😀 \"q\" \\ \n\t", 5000)
	msgs := []msg{
		{false, "hello"}, {false, ""}, {true, ""}, {false, "two\nlines\n"}, {true, string(all)},
		{false, "\x00\x01\x1f\x7f \"\\/ é € 😀 \u2028"}, {true, "a"}, {true, "ab"}, {true, "abc"},
		{false, long}, {true, long + "\xff"},
	}
	for _, cc := range exactCodecs {
		for _, bufSize := range []int{MinBufferSize, 7, 100, 0} {
			var stdin bytes.Buffer
			for _, m := range msgs {
				// HalfReader: the message arrives in pieces, as from a socket.
				r := iotest.HalfReader(strings.NewReader(m.p))
				if err := cc.new(bufSize, 0).WriteMessage(&stdin, Message{Reader: r, Binary: m.bin}); err != nil {
					t.Fatalf("%s/%d: WriteMessage: %v", cc.name, bufSize, err)
				}
			}
			for _, chunk := range []int{1, 3, 4096, 1 << 20} {
				sink, err := readFramed(cc.new(bufSize, 0), stdin.Bytes(), chunk)
				if err != nil {
					t.Fatalf("%s/%d/%d: ReadMessages: %v", cc.name, bufSize, chunk, err)
				}
				if got := msgsOf(sink); !slices.Equal(got, msgs) {
					t.Fatalf("%s/%d/%d: got %d messages, want %d; first %v", cc.name, bufSize, chunk, len(got), len(msgs), got[:min(len(got), 3)])
				}
				for _, e := range sink.events {
					if strings.HasPrefix(e, "frag(") && !utf8.ValidString(e) {
						t.Fatalf("%s/%d/%d: a text fragment is not UTF-8 on its own: %q", cc.name, bufSize, chunk, e)
					}
				}
			}
		}
	}
}

func TestJSONCodecWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  msg
		want string
	}{
		{"text", msg{false, "hi"}, `{"type":"text","data":"hi"}` + "\n"},
		{"empty text", msg{false, ""}, `{"type":"text","data":""}` + "\n"},
		{"empty binary", msg{true, ""}, `{"type":"binary","data":""}` + "\n"},
		{"escapes", msg{false, "\"\\\n\r\t\b\f\x00\x1f/é\u2028"},
			`{"type":"text","data":"\"\\\n\r\t\b\f\u0000\u001f/é` + "\u2028" + `"}` + "\n"},
		{"binary, each padding", msg{true, "\xff"}, `{"type":"binary","data":"/w=="}` + "\n"},
		{"binary, 2 bytes", msg{true, "ab"}, `{"type":"binary","data":"YWI="}` + "\n"},
		{"binary, 3 bytes", msg{true, "abc"}, `{"type":"binary","data":"YWJj"}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &writeRecorder{}
			m := Message{Reader: iotest.OneByteReader(strings.NewReader(tc.msg.p)), Binary: tc.msg.bin}
			if err := NewJSONCodec(0, 0).WriteMessage(w, m); err != nil {
				t.Fatal(err)
			}
			if len(w.writes) != 1 || w.writes[0] != tc.want {
				t.Fatalf("writes %q, want one: %q", w.writes, tc.want)
			}
		})
	}
	// A message longer than the buffer goes out in several writes that
	// make one line, which any JSON parser reads back.
	for _, bin := range []bool{false, true} {
		p := strings.Repeat("a\"b\\c\nd\x01 €", 3000)
		var stdin bytes.Buffer
		w := &writeRecorder{}
		if err := NewJSONCodec(1000, 0).WriteMessage(io.MultiWriter(&stdin, w), Message{Reader: strings.NewReader(p), Binary: bin}); err != nil {
			t.Fatal(err)
		}
		var obj struct{ Type, Data string }
		if err := json.Unmarshal(stdin.Bytes(), &obj); err != nil {
			t.Fatalf("binary %v: not JSON: %v", bin, err)
		}
		if bytes.Count(stdin.Bytes(), []byte("\n")) != 1 || len(w.writes) < 2 {
			t.Fatalf("binary %v: %d newlines in %d writes, want 1 in several", bin, bytes.Count(stdin.Bytes(), []byte("\n")), len(w.writes))
		}
		got := obj.Data
		if bin {
			b, err := base64.StdEncoding.DecodeString(obj.Data)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if got != p || obj.Type != map[bool]string{false: "text", true: "binary"}[bin] {
			t.Fatalf("binary %v: read back %q of %d bytes, want %d", bin, obj.Type, len(got), len(p))
		}
	}
}

func TestLengthCodecWrite(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 100)
	tests := []struct {
		name    string
		bufSize int
		msg     Message
		writes  []string
	}{
		{"text, size known", 0, Message{Reader: strings.NewReader("hi"), Size: 2, SizeKnown: true},
			[]string{lengthFrame(LengthText, "hi")}},
		{"binary, size unknown", 0, Message{Reader: strings.NewReader("hi"), Binary: true},
			[]string{lengthFrame(LengthBinary, "hi")}},
		{"empty", 0, Message{Reader: strings.NewReader(""), SizeKnown: true},
			[]string{lengthFrame(LengthText, "")}},
		{"empty, size unknown", 0, Message{Reader: strings.NewReader("")},
			[]string{lengthFrame(LengthText, "")}},
		{"size known, longer than the buffer: streamed", 16, Message{Reader: strings.NewReader(big), Size: 100, SizeKnown: true},
			[]string{lengthFrame(LengthText, big)[:LengthHeaderSize+16], big[16:41], big[41:66], big[66:91], big[91:]}},
		{"size unknown, longer than the buffer: held whole", 16, Message{Reader: strings.NewReader(big)},
			[]string{lengthFrame(LengthText, big)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &writeRecorder{}
			tc.msg.Reader = iotest.HalfReader(tc.msg.Reader)
			if err := NewLengthCodec(tc.bufSize, 0).WriteMessage(w, tc.msg); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w.writes, tc.writes) {
				t.Errorf("writes %q, want %q", w.writes, tc.writes)
			}
		})
	}
	// A size that the payload does not match is an error (the header
	// has gone out: the program sees the message cut or run on).
	for _, size := range []int64{1, 3} {
		err := NewLengthCodec(0, 0).WriteMessage(io.Discard, Message{Reader: strings.NewReader("hi"), Size: size, SizeKnown: true})
		if err == nil {
			t.Errorf("size %d for 2 bytes: no error", size)
		}
	}
}

// jsonText and jsonBin are a message's line in the json framing.
func jsonText(p string) string { return `{"type":"text","data":"` + p + `"}` + "\n" }
func jsonBin(p string) string  { return `{"type":"binary","data":"` + p + `"}` + "\n" }

func TestJSONCodecRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		out  string
		want []msg
		err  string // in the FramingError's reason; "" for none
	}{
		{"one line", jsonText("hi"), []msg{{false, "hi"}}, ""},
		{"empty messages", jsonText("") + jsonBin(""), []msg{{false, ""}, {true, ""}}, ""},
		{"pretty-printed", "{\n  \"type\": \"text\",\n  \"data\": \"a\\nb\"\n}\n\n", []msg{{false, "a\nb"}}, ""},
		{"objects back to back", `{"type":"text","data":"a"}{"type":"binary","data":"Yg=="}`, []msg{{false, "a"}, {true, "b"}}, ""},
		{"every escape", jsonText(`\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00`), []msg{{false, "\"\\/\b\f\n\r\té€😀"}}, ""},
		{"raw UTF-8", jsonText("é€😀"), []msg{{false, "é€😀"}}, ""},
		{"escaped names and type", `{"\u0074ype":"te\u0078t","dat\u0061":"x"}`, []msg{{false, "x"}}, ""},
		{"escaped slash in base64", jsonBin(`\/w==`), []msg{{true, "\xff"}}, ""},
		{"escaped base64", jsonBin(`\u0059\u0057\u004a\u006a`), []msg{{true, "abc"}}, ""},
		{"every padding", jsonBin("YQ==") + jsonBin("YWI=") + jsonBin("YWJj"), []msg{{true, "a"}, {true, "ab"}, {true, "abc"}}, ""},
		{"a message before a fault goes out", jsonText("ok") + "oops", []msg{{false, "ok"}}, `'o' where a message should begin`},

		{"not an object", "hello\n", nil, `'h' where a message should begin: want '{'`},
		{"empty object", "{}", nil, "empty object"},
		{"data first", `{"data":"x","type":"text"}`, nil, `"data" before "type"`},
		{"type twice", `{"type":"text","type":"text","data":""}`, nil, `"type" given twice`},
		{"unknown type", `{"type":"txt","data":""}`, nil, `unknown type "txt"`},
		{"unknown member", `{"type":"text","id":"1","data":""}`, nil, `unknown member "id"`},
		{"long unknown member", `{"type":"text","identifier":"1","data":""}`, nil, `unknown member: want`},
		{"member after data", `{"type":"text","data":"x","id":"1"}`, nil, `a member after "data"`},
		{"no data", `{"type":"text"}`, nil, `no "data" member`},
		{"no colon", `{"type" "text"}`, nil, `want ':'`},
		{"type not a string", `{"type":1,"data":""}`, nil, "where a string should begin"},
		{"data not a string", `{"type":"text","data":null}`, nil, "where a string should begin"},
		{"trailing comma", `{"type":"text",}`, nil, "where a member's name should begin"},
		{"garbage after a value", `{"type":"text" x`, nil, "want ',' or '}'"},
		{"invalid escape", jsonText(`\q`), nil, `invalid escape \q`},
		{"bad hex", jsonText(`\u12g4`), nil, `'g' in a \u escape`},
		{"lone high surrogate", jsonText(`\ud800`), nil, `lone surrogate \ud800`},
		{"high surrogate then text", jsonText(`\ud800x`), nil, `lone surrogate \ud800`},
		{"high surrogate then another escape", jsonText(`\ud800\n`), nil, `lone surrogate \ud800`},
		{"two high surrogates", jsonText(`\ud800\ud800`), nil, `lone surrogate \ud800`},
		{"lone low surrogate", jsonText(`\udc00`), nil, `lone surrogate \udc00`},
		{"invalid UTF-8", jsonText("a\xffb"), nil, "invalid UTF-8 in a text message"},
		{"truncated rune", jsonText("a\xe2\x82"), nil, "invalid UTF-8 in a text message"},
		{"raw newline in a string", jsonText("a\nb"), nil, `control character '\n' in a string`},
		{"base64 cut short", jsonBin("YQ="), nil, "not a multiple of 4"},
		{"invalid base64", jsonBin("Y!=="), nil, "invalid base64"},
		{"non-ASCII escape in base64", jsonBin(`YW\u00e9=`), nil, "invalid base64"},
		{"data after padding", jsonBin("YQ==YQ=="), nil, "base64"},
		{"escaped data after padding", jsonBin(`YQ==\u0059`), nil, "goes on after its base64 padding"},
		{"padding inside a quad", jsonBin("Y=Q="), nil, "invalid base64"},
		{"output ends inside an object", `{"type":"text","data":"abc`, nil, "stdout ended inside a message"},
		{"output ends after the data", `{"type":"text","data":"abc"`, nil, "stdout ended inside a message"},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 2, 5, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, chunk), func(t *testing.T) {
				t.Parallel()
				sink, err := readFramed(NewJSONCodec(0, 0), []byte(tc.out), chunk)
				checkRead(t, sink, err, tc.want, tc.err)
			})
		}
	}
}

// checkRead checks the messages a codec passed on whole, and its error: a
// *FramingError whose reason holds wantErr, or nil if wantErr is "".
func checkRead(t *testing.T, sink *recordSink, err error, want []msg, wantErr string) {
	t.Helper()
	if got := msgsOf(sink); !slices.Equal(got, want) {
		t.Errorf("messages %v, want %v", got, want)
	}
	var fe *FramingError
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("error %v, want none", err)
	case wantErr != "" && !errors.As(err, &fe):
		t.Errorf("error %v, want a FramingError %q", err, wantErr)
	case wantErr != "" && !strings.Contains(fe.Reason, wantErr):
		t.Errorf("reason %q, want it to hold %q", fe.Reason, wantErr)
	}
}

func TestLengthCodecRead(t *testing.T) {
	t.Parallel()
	hdr := func(typ byte, n uint64) string {
		h := make([]byte, LengthHeaderSize)
		h[0] = typ
		binary.BigEndian.PutUint64(h[1:], n)
		return string(h)
	}
	tests := []struct {
		name string
		out  string
		want []msg
		err  string
	}{
		{"text and binary", lengthFrame(LengthText, "hi\n") + lengthFrame(LengthBinary, "\x00\xff"), []msg{{false, "hi\n"}, {true, "\x00\xff"}}, ""},
		{"empty messages", lengthFrame(LengthText, "") + lengthFrame(LengthBinary, ""), []msg{{false, ""}, {true, ""}}, ""},
		{"runes", lengthFrame(LengthText, "é€😀"), []msg{{false, "é€😀"}}, ""},
		{"binary is not checked", lengthFrame(LengthBinary, "\xff\xfe"), []msg{{true, "\xff\xfe"}}, ""},
		{"a message before a fault goes out", lengthFrame(LengthText, "ok") + hdr(3, 0), []msg{{false, "ok"}}, "message type 3"},

		{"type 0", hdr(0, 0), nil, "message type 0 in a header: want 1 (text) or 2 (binary)"},
		{"type 9", hdr(9, 1) + "x", nil, "message type 9"},
		{"over the limit", hdr(LengthBinary, 101), nil, "message of 101 bytes, over the limit of 100"},
		{"over any limit", hdr(LengthBinary, math.MaxUint64), nil, "over the limit"},
		{"invalid UTF-8", lengthFrame(LengthText, "ab\xffc"), nil, "invalid UTF-8 in a text message"},
		{"truncated rune at the end", lengthFrame(LengthText, "ab\xe2\x82"), nil, "invalid UTF-8 in a text message"},
		{"ends inside a header", hdr(LengthText, 5)[:4], nil, "stdout ended inside a message"},
		{"ends inside a payload", hdr(LengthText, 5) + "abc", nil, "stdout ended inside a message"},
		{"ends inside a rune", hdr(LengthText, 5) + "ab\xe2", nil, "stdout ended inside a message"},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 2, 5, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, chunk), func(t *testing.T) {
				t.Parallel()
				sink, err := readFramed(NewLengthCodec(0, 100), []byte(tc.out), chunk)
				checkRead(t, sink, err, tc.want, tc.err)
			})
		}
	}
}

// TestFramingErrorOffset: the error says where in stdout the fault is.
func TestFramingErrorOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		codec Codec
		out   string
		at    int64
	}{
		{"json: not an object", NewJSONCodec(0, 0), jsonText("ok") + "  x", int64(len(jsonText("ok")) + 2)},
		{"json: bad escape", NewJSONCodec(0, 0), `{"type":"text","data":"ab\q"}`, 26},
		{"length: header", NewLengthCodec(0, 0), lengthFrame(LengthText, "ok") + "\x07\x00\x00\x00\x00\x00\x00\x00\x00", int64(LengthHeaderSize + 2)},
		{"length: UTF-8", NewLengthCodec(0, 0), lengthFrame(LengthText, "abc\xff"), int64(LengthHeaderSize + 3)},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 1 << 20} {
			_, err := readFramed(tc.codec, []byte(tc.out), chunk)
			var fe *FramingError
			if !errors.As(err, &fe) || fe.Offset != tc.at {
				t.Errorf("%s/%d: %v, want a FramingError at byte %d", tc.name, chunk, err, tc.at)
			}
			tc.codec = map[bool]Codec{true: NewJSONCodec(0, 0), false: NewLengthCodec(0, 0)}[strings.HasPrefix(tc.name, "json")]
		}
	}
}

// TestFramingNoPartialAsWhole: a message whose fault is found after some
// of it went out never gets its last fragment, and the fragments sent are
// valid UTF-8 of the message's start.
func TestFramingNoPartialAsWhole(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	for _, tc := range []struct {
		name  string
		codec Codec
		out   string
	}{
		{"json", NewJSONCodec(16, 0), jsonText(long + "\xff")},
		{"length", NewLengthCodec(16, 0), lengthFrame(LengthText, long+"\xff")},
		{"json, over the limit", NewJSONCodec(16, 150), jsonText(long)},
	} {
		sink, err := readFramed(tc.codec, []byte(tc.out), 7)
		var fe *FramingError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: %v, want a FramingError", tc.name, err)
		}
		if len(sink.msgs) != 0 || len(sink.cur) == 0 || !strings.HasPrefix(long, string(sink.cur)) {
			t.Errorf("%s: %d messages, %q sent; want none whole and some of the start", tc.name, len(sink.msgs), sink.cur)
		}
		for _, e := range sink.events {
			if !utf8.ValidString(e) || strings.HasPrefix(e, "msg(") {
				t.Errorf("%s: event %q", tc.name, e)
			}
		}
	}
}

// TestExactCodecsQuiet: the exact codecs give up their goroutine only
// between messages, and carry on where they stopped.
func TestExactCodecsQuiet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		codec  Codec
		chunks []string
	}{
		{"json", NewJSONCodec(0, 0), []string{jsonText("one"), "|" + `{"type":"text",`, "|" + `"data":"two"}`, "|" + jsonText("three")}},
		{"length", NewLengthCodec(0, 0), []string{lengthFrame(LengthText, "one"), "|" + lengthFrame(LengthText, "two")[:4], "|" + lengthFrame(LengthText, "two")[4:], "|" + lengthFrame(LengthText, "three")}},
	} {
		p := &quietPipe{chunks: tc.chunks}
		sink := &recordSink{}
		calls := 0
		for {
			calls++
			err := tc.codec.ReadMessages(p, sink)
			if err == nil {
				break
			}
			if err != ErrQuiet || calls > 10 {
				t.Fatalf("%s: call %d: %v", tc.name, calls, err)
			}
		}
		if want := []string{"one", "two", "three"}; !slices.Equal(sink.msgs, want) {
			t.Errorf("%s: messages %q, want %q", tc.name, sink.msgs, want)
		}
		// Quiet before the second message and before the third, not
		// inside the second.
		if p.quiets != 2 {
			t.Errorf("%s: %d quiets, want 2", tc.name, p.quiets)
		}
	}
}

// TestExactCodecsFlush: messages of one read leave in one flush, and what
// is already waiting joins it.
func TestExactCodecsFlush(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		codec  Codec
		chunks []string
	}{
		{"json", NewJSONCodec(0, 0), []string{jsonText("a") + jsonText("b"), "+" + jsonText("c"), jsonText("d")}},
		{"length", NewLengthCodec(0, 0), []string{lengthFrame(LengthText, "a") + lengthFrame(LengthText, "b"), "+" + lengthFrame(LengthText, "c"), lengthFrame(LengthText, "d")}},
	} {
		sink := &recordSink{}
		if err := tc.codec.ReadMessages(&aheadPipe{chunks: tc.chunks}, sink); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if want := []string{"msg(a)", "msg(b)", "msg(c)", "flush", "msg(d)", "flush"}; !slices.Equal(sink.events, want) {
			t.Errorf("%s: events %q, want %q", tc.name, sink.events, want)
		}
	}
}

// TestExactCodecErrors: read, sink and stdin errors come back as they are.
func TestExactCodecErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, cc := range exactCodecs {
		c := cc.new(8, 0)
		if err := c.ReadMessages(ReaderOutput(iotest.ErrReader(boom)), &discardSink{}); !errors.Is(err, boom) {
			t.Errorf("%s: read error: %v", cc.name, err)
		}
		out := map[string]string{"json": jsonText("x"), "length": lengthFrame(LengthText, "x")}[cc.name]
		if err := cc.new(8, 0).ReadMessages(ReaderOutput(strings.NewReader(out)), errSink{boom}); err != boom {
			t.Errorf("%s: sink error: %v", cc.name, err)
		}
		if err := cc.new(8, 0).ReadMessages(ReaderOutput(emptyReader{}), &discardSink{}); !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("%s: empty reads: %v", cc.name, err)
		}
		if err := c.WriteMessage(io.Discard, Message{Reader: iotest.ErrReader(boom)}); !errors.Is(err, boom) {
			t.Errorf("%s: message read error: %v", cc.name, err)
		}
		if err := c.WriteMessage(errWriter{boom}, Message{Reader: strings.NewReader("x")}); !errors.Is(err, boom) {
			t.Errorf("%s: stdin error: %v", cc.name, err)
		}
	}
}

// FuzzJSONCodec checks the json framing both ways. Messages made from the
// input come back exact through stdin and stdout however stdout is cut;
// and the input read as stdout never panics, fails only with a
// FramingError, passes on only valid text, and what it accepts
// encoding/json reads as the same messages.
func FuzzJSONCodec(f *testing.F) {
	f.Add([]byte(jsonText("hi")+jsonBin("/w==")), 16, uint8(3))
	f.Add([]byte("{\n \"type\" : \"text\" ,\n \"data\" : \"\\ud83d\\ude00\\n\"\n}"), 4, uint8(1))
	f.Add([]byte(jsonText(`\ud800`)+jsonBin("YQ=")), 0, uint8(7))
	f.Add([]byte(`{"type":"binary","data":"\/\u0077=="}{"type":"text","data":""}`), 5, uint8(2))
	f.Add([]byte(jsonText("a\xe2\x82\xac\xff")), 8, uint8(5))
	f.Fuzz(func(t *testing.T, out []byte, bufSize int, chunk uint8) {
		bufSize %= 4096 // each size has its pools; the extremes are TestCodecBufferSizeExtremes's
		roundTrip(t, NewJSONCodec(bufSize, 0), NewJSONCodec(bufSize, 0), out, max(int(chunk), 1))
		sink, err := readFramed(NewJSONCodec(bufSize, 1000), out, max(int(chunk), 1))
		checkFuzzRead(t, sink, err, 1000)
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for i, m := range msgsOf(sink) {
			var obj struct{ Type, Data string }
			if err := dec.Decode(&obj); err != nil {
				t.Fatalf("message %d accepted, but encoding/json: %v", i, err)
			}
			data := obj.Data
			if obj.Type == "binary" {
				b, err := base64.StdEncoding.DecodeString(obj.Data)
				if err != nil {
					t.Fatalf("message %d accepted, but its base64: %v", i, err)
				}
				data = string(b)
			}
			if (obj.Type == "binary") != m.bin || data != m.p {
				t.Fatalf("message %d: %v, encoding/json reads %s %q", i, m, obj.Type, data)
			}
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("accepted, but encoding/json finds more: %v", err)
		}
	})
}

// FuzzLengthCodec checks the length framing both ways, as FuzzJSONCodec
// does; the input read as stdout must give exactly what a plain reading of
// the format gives.
func FuzzLengthCodec(f *testing.F) {
	f.Add([]byte(lengthFrame(LengthText, "hi")+lengthFrame(LengthBinary, "\xff")), 16, uint8(3))
	f.Add([]byte(lengthFrame(LengthText, "é€😀")+lengthFrame(LengthText, "")), 4, uint8(1))
	f.Add([]byte(lengthFrame(LengthText, "a\xff")+"\x03"), 0, uint8(7))
	f.Add([]byte(lengthFrame(LengthBinary, strings.Repeat("x", 2000))), 0, uint8(2))
	f.Fuzz(func(t *testing.T, out []byte, bufSize int, chunk uint8) {
		bufSize %= 4096 // each size has its pools; the extremes are TestCodecBufferSizeExtremes's
		roundTrip(t, NewLengthCodec(bufSize, 0), NewLengthCodec(bufSize, 0), out, max(int(chunk), 1))
		sink, err := readFramed(NewLengthCodec(bufSize, 1000), out, max(int(chunk), 1))
		checkFuzzRead(t, sink, err, 1000)
		want, ok := parseLength(out, 1000)
		if got := msgsOf(sink); !slices.Equal(got, want) || ok != (err == nil) {
			t.Fatalf("got %v, %v; a plain reading gives %v, ok %v", got, err, want, ok)
		}
	})
}

// parseLength reads the length framing plainly: the whole messages, and
// whether all of p is valid.
func parseLength(p []byte, max uint64) ([]msg, bool) {
	var out []msg
	for len(p) > 0 {
		if len(p) < LengthHeaderSize || (p[0] != LengthText && p[0] != LengthBinary) {
			return out, false
		}
		n := binary.BigEndian.Uint64(p[1:LengthHeaderSize])
		if n > max || n > uint64(len(p)-LengthHeaderSize) {
			return out, false
		}
		body := p[LengthHeaderSize : LengthHeaderSize+int(n)]
		if p[0] == LengthText && !utf8.Valid(body) {
			return out, false
		}
		out = append(out, msg{p[0] == LengthBinary, string(body)})
		p = p[LengthHeaderSize+int(n):]
	}
	return out, true
}

// roundTrip writes messages made from data (split at 0xfe; a first byte
// of 0xfd makes one binary, text is made valid UTF-8) through w and reads
// them back through r, cut into reads of chunk bytes.
func roundTrip(t *testing.T, w, r Codec, data []byte, chunk int) {
	t.Helper()
	var want []msg
	var stdin bytes.Buffer
	for _, part := range bytes.Split(data, []byte{0xfe}) {
		m := msg{len(part) > 0 && part[0] == 0xfd, string(part)}
		if !m.bin {
			m.p = strings.ToValidUTF8(m.p, "\uFFFD")
		}
		want = append(want, m)
		if err := w.WriteMessage(&stdin, Message{Reader: iotest.HalfReader(strings.NewReader(m.p)), Binary: m.bin}); err != nil {
			t.Fatalf("WriteMessage: %v", err)
		}
	}
	sink, err := readFramed(r, stdin.Bytes(), chunk)
	if err != nil {
		t.Fatalf("reading back %q: %v", stdin.Bytes(), err)
	}
	if got := msgsOf(sink); !slices.Equal(got, want) {
		t.Fatalf("round trip: got %v, want %v", got, want)
	}
}

// checkFuzzRead checks what a codec passed on from arbitrary output.
func checkFuzzRead(t *testing.T, sink *recordSink, err error, max int) {
	t.Helper()
	var fe *FramingError
	if err != nil && !errors.As(err, &fe) {
		t.Fatalf("error %v, want a FramingError", err)
	}
	for i, m := range msgsOf(sink) {
		if !m.bin && !utf8.ValidString(m.p) || len(m.p) > max {
			t.Fatalf("message %d: %v, invalid or over %d bytes", i, m, max)
		}
	}
	for _, e := range sink.events {
		if strings.HasPrefix(e, "frag(") && !utf8.ValidString(e) {
			t.Fatalf("text fragment %q not UTF-8", e)
		}
	}
}

// idlePipe is a stdout whose reads of an empty pipe give the buffer back,
// as a Process's do, and which records, at each such wait, whether the
// json codec still held its decoded-payload buffer.
type idlePipe struct {
	chunks []string
	codec  *jsonCodec
	held   []bool
}

func (p *idlePipe) Read(b []byte) (int, error) {
	if len(p.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.chunks[0])
	p.chunks = p.chunks[1:]
	return n, nil
}

func (p *idlePipe) readIdle(ib *idleBuf, _ bool) (int, error) {
	ib.release() // the pipe is empty: wait holding nothing
	p.held = append(p.held, p.codec.dec.bp != nil)
	return p.Read(ib.get())
}

func (p *idlePipe) readAhead([]byte) (int, bool, error) { return 0, false, nil }

// TestJSONCodecIdleBuffers: the json codec's second buffer, for the
// decoded payload, is let go with the read buffer whenever the codec waits
// for output, even in the middle of a message.
func TestJSONCodecIdleBuffers(t *testing.T) {
	t.Parallel()
	c := NewJSONCodec(0, 0).(*jsonCodec)
	p := &idlePipe{chunks: []string{`{"type":"text","data":"abc`, `def"}`, jsonText("x")}, codec: c}
	sink := &recordSink{}
	if err := c.ReadMessages(p, sink); err != nil {
		t.Fatal(err)
	}
	if want := []string{"abcdef", "x"}; !slices.Equal(sink.msgs, want) {
		t.Fatalf("messages %q, want %q", sink.msgs, want)
	}
	if len(p.held) != 4 || slices.Contains(p.held, true) {
		t.Fatalf("decode buffer held at the waits: %v; want 4 waits holding none", p.held)
	}
	if c.out.bp != nil || c.dec.bp != nil {
		t.Fatal("buffers held after ReadMessages returned")
	}
}

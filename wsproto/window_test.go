package wsproto

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// farInflater inflates a permessage-deflate stream message by message, as
// a peer keeping its window does, and records the farthest back any
// back-reference reaches: compress/flate's reader does not say, and a
// reference past the window agreed is what a peer with that window cannot
// follow (zlib fails it as "invalid distance too far back"). It is a plain
// DEFLATE decoder (RFC 1951), written for this check only.
type farInflater struct {
	out []byte // everything inflated so far, the window's source
	far int    // the longest distance seen
}

// message inflates one message's payload (its 00 00 ff ff removed, RFC
// 7692 §7.2.2) and returns its text.
func (z *farInflater) message(p []byte) ([]byte, error) {
	br := &bitReader{b: append(slices.Clip(p), inflateTail[:]...)}
	start := len(z.out)
	for {
		final, err := br.bits(1)
		if err != nil {
			return nil, err
		}
		kind, err := br.bits(2)
		if err != nil {
			return nil, err
		}
		switch kind {
		case 0:
			err = z.stored(br)
		case 1:
			err = z.codes(br, &fixedLit, &fixedDist)
		case 2:
			var lit, dist huffman
			if lit, dist, err = dynamicTables(br); err == nil {
				err = z.codes(br, &lit, &dist)
			}
		default:
			err = errors.New("block type 3")
		}
		if err != nil {
			return nil, err
		}
		if final == 1 {
			return z.out[start:], nil
		}
	}
}

func (z *farInflater) stored(br *bitReader) error {
	br.n, br.pos = 0, br.pos+min(br.n, 1) // to the next byte
	if br.pos+4 > len(br.b) {
		return io.ErrUnexpectedEOF
	}
	n := int(br.b[br.pos]) | int(br.b[br.pos+1])<<8
	if ^n&0xffff != int(br.b[br.pos+2])|int(br.b[br.pos+3])<<8 {
		return errors.New("stored length check")
	}
	br.pos += 4
	if br.pos+n > len(br.b) {
		return io.ErrUnexpectedEOF
	}
	z.out = append(z.out, br.b[br.pos:br.pos+n]...)
	br.pos += n
	return nil
}

// RFC 1951 §3.2.5: bases and extra bits of lengths and distances.
var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func (z *farInflater) codes(br *bitReader, lit, dist *huffman) error {
	for range len(br.b) * 8 { // each symbol takes a bit at least
		sym, err := br.decode(lit)
		switch {
		case err != nil:
			return err
		case sym < 256:
			z.out = append(z.out, byte(sym))
			continue
		case sym == 256:
			return nil
		case sym > 285:
			return errors.New("bad length code")
		}
		extra, err := br.bits(lenExtra[sym-257])
		if err != nil {
			return err
		}
		n := lenBase[sym-257] + extra
		ds, err := br.decode(dist)
		if err != nil || ds > 29 {
			return errors.New("bad distance code")
		}
		if extra, err = br.bits(distExtra[ds]); err != nil {
			return err
		}
		d := distBase[ds] + extra
		if d > len(z.out) {
			return errors.New("distance before the start")
		}
		z.far = max(z.far, d)
		for range n {
			z.out = append(z.out, z.out[len(z.out)-d])
		}
	}
	return errors.New("no end of block")
}

// bitReader reads a DEFLATE stream's bits, least significant first.
type bitReader struct {
	b   []byte
	pos int // the byte being read
	n   int // bits of it used
}

func (br *bitReader) bits(n int) (int, error) {
	v := 0
	for i := range n {
		if br.pos >= len(br.b) {
			return 0, io.ErrUnexpectedEOF
		}
		v |= int(br.b[br.pos]>>br.n&1) << i
		if br.n++; br.n == 8 {
			br.n, br.pos = 0, br.pos+1
		}
	}
	return v, nil
}

// huffman is a canonical code (RFC 1951 §3.2.2): how many codes of each
// length, and the symbols in code order.
type huffman struct {
	count [16]int
	syms  []int
}

func newHuffman(lengths []int) huffman {
	var h huffman
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.syms = make([]int, len(lengths))
	for sym, l := range lengths {
		if l != 0 {
			h.syms[offs[l]] = sym
			offs[l]++
		}
	}
	return h
}

func (br *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := br.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-first < count {
			return h.syms[index+code-first], nil
		}
		index, first = index+count, first+count
		first, code = first<<1, code<<1
	}
	return 0, errors.New("bad code")
}

// The fixed codes (RFC 1951 §3.2.6).
var fixedLit, fixedDist = func() (huffman, huffman) {
	lit := make([]int, 288)
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	dist := make([]int, 30)
	for i := range dist {
		dist[i] = 5
	}
	return newHuffman(lit), newHuffman(dist)
}()

// dynamicTables reads a dynamic block's codes (RFC 1951 §3.2.7).
func dynamicTables(br *bitReader) (lit, dist huffman, err error) {
	var hlit, hdist, hclen int
	for _, f := range []struct {
		v         *int
		bits, add int
	}{{&hlit, 5, 257}, {&hdist, 5, 1}, {&hclen, 4, 4}} {
		n, err := br.bits(f.bits)
		if err != nil {
			return lit, dist, err
		}
		*f.v = n + f.add
	}
	order := [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	clens := make([]int, 19)
	for i := range hclen {
		if clens[order[i]], err = br.bits(3); err != nil {
			return lit, dist, err
		}
	}
	clh := newHuffman(clens)
	lengths := make([]int, 0, hlit+hdist)
	for len(lengths) < hlit+hdist {
		sym, err := br.decode(&clh)
		if err != nil {
			return lit, dist, err
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		prev, repeat := 0, 0
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return lit, dist, errors.New("repeat with nothing before")
			}
			prev = lengths[len(lengths)-1]
			repeat, err = br.bits(2)
			repeat += 3
		case 17:
			repeat, err = br.bits(3)
			repeat += 3
		default:
			repeat, err = br.bits(7)
			repeat += 11
		}
		if err != nil || len(lengths)+repeat > hlit+hdist {
			return lit, dist, errors.New("bad code lengths")
		}
		for range repeat {
			lengths = append(lengths, prev)
		}
	}
	return newHuffman(lengths[:hlit]), newHuffman(lengths[hlit:]), nil
}

// TestDeflateSmallWindow: a side whose own window was agreed below 15
// bits never refers back past it, in any message, with or without
// context takeover asked, as server or as client; the stream inflates to
// the messages (with compress/flate too). The messages repeat text within
// a message and across messages at every distance, so a compressor with
// the full window would reach past a small one: the case of 15 bits shows
// it does, and that the check sees it.
func TestDeflateSmallWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	block := make([]byte, 20000)
	for i := range block {
		block[i] = 'a' + byte(rng.IntN(26))
	}
	var msgs [][]byte
	for i := range 50 {
		msgs = append(msgs, []byte(jsonLine(i)))
	}
	msgs = append(msgs,
		bytes.Repeat(block[:300], 4),                        // repeats 300 bytes apart
		append(slices.Clone(block[:5000]), block[:5000]...), // 5000 apart
		block,
		block, // the previous message again
		bytes.Repeat([]byte("x"), 100<<10))
	for _, tc := range []struct {
		role    Role
		bits    int
		context bool
	}{
		{Server, 8, true}, {Server, 9, true}, {Server, 9, false}, {Server, 12, true},
		{Server, 14, true}, {Client, 9, true}, {Client, 14, false},
		{Server, 15, true}, {Server, 0, true}, // the full window, for contrast
	} {
		t.Run([]string{"server", "client"}[tc.role]+"/"+strconv.Itoa(tc.bits)+"/context="+strconv.FormatBool(tc.context), func(t *testing.T) {
			p := DeflateParams{Threshold: -1, ServerNoContextTakeover: !tc.context, ClientNoContextTakeover: !tc.context}
			if tc.role == Server {
				p.ServerMaxWindowBits = tc.bits
			} else {
				p.ClientMaxWindowBits = tc.bits
			}
			w, fc := deflateConn(tc.role, nil, p)
			var want []string
			for _, m := range msgs {
				if err := w.WriteMessage(OpText, m); err != nil {
					t.Fatal(err)
				}
				want = append(want, "text:"+string(m))
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			wire, _ := fc.written()
			z := &farInflater{}
			var payload []byte
			i := 0
			for _, f := range parseFrames(t, wire) {
				if f.h.Rsv&rsv1 == 0 && f.h.Op != OpContinuation {
					t.Fatalf("message %d sent uncompressed", i)
				}
				payload = append(payload, f.p...)
				if !f.h.Fin {
					continue
				}
				got, err := z.message(payload)
				if err != nil || !bytes.Equal(got, msgs[i]) {
					t.Fatalf("message %d: inflated %d bytes, %v; want %d bytes", i, len(got), err, len(msgs[i]))
				}
				if !tc.context {
					z.out = z.out[:0]
				}
				payload, i = payload[:0], i+1
			}
			window := 1 << 15
			if tc.bits != 0 {
				window = 1 << tc.bits
			}
			switch {
			case z.far > window:
				t.Errorf("a back-reference reaches %d bytes back, past the %d-byte window", z.far, window)
			case window == 1<<15 && z.far <= 1<<14:
				t.Errorf("farthest back-reference %d bytes: the full window should reach further", z.far)
			}
			peer := Client
			if tc.role == Client {
				peer = Server
				wire = masked(t, wire)
			}
			r, _ := newTestConn(peer, wire, Config{Deflate: &p, MaxMessageSize: 1 << 20})
			got, err := readAll(r)
			if !errors.Is(err, io.EOF) || !slices.Equal(got, want) {
				t.Fatalf("compress/flate read back %d messages (%v), want %d, or they differ", len(got), err, len(want))
			}
			t.Logf("%d wire bytes, farthest reference %d", len(wire), z.far)
		})
	}
}

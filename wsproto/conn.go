package wsproto

import (
	"bufio"
	"encoding/binary"
	"math"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsexec/wsexec/internal/bufpool"
)

// Role says which end of the connection a Conn is. RFC 6455 §5.1: a client
// masks every frame it sends and a server masks none; each rejects frames
// that break this rule.
type Role uint8

const (
	// Server reads masked frames and writes unmasked ones.
	Server Role = iota
	// Client writes masked frames and reads unmasked ones; it exists for
	// tests and benchmarks.
	Client
)

// Defaults for a zero Config.
const (
	DefaultMaxMessageSize = 16 << 20
	DefaultCloseTimeout   = 5 * time.Second
	defaultBufferSize     = 4096
)

// NoLimit, as Config.MaxMessageSize, accepts messages of every length RFC
// 6455 §5.2 allows.
const NoLimit int64 = math.MaxInt64

// Config holds the settings of a Conn. Its zero value works: server role
// and the defaults below.
type Config struct {
	Role Role
	// MaxMessageSize is the inbound message limit in bytes, summed over the
	// fragments; a larger message fails the connection with
	// CloseMessageTooBig (1009) as soon as a frame header announces it.
	// 0 means DefaultMaxMessageSize; NoLimit (math.MaxInt64) means none,
	// and sizes counted against it saturate rather than wrap (addSat).
	MaxMessageSize int64
	// CloseTimeout bounds the wait for the peer's close frame after ours
	// (as a read deadline) and each control frame write (as a write
	// deadline). 0 means DefaultCloseTimeout.
	CloseTimeout time.Duration
	// WriteBufferSize is the size of the write buffer; 0 means 4096. Frames
	// accumulate there until Flush, a control frame, or a full buffer. The
	// buffer comes from a pool shared by every Conn of that size and goes
	// back once a flush empties it, so an idle Conn holds none.
	WriteBufferSize int
	// OnPong, if set, is called by the reading goroutine for each pong it
	// reads, solicited or not: a keepalive uses it to see that the peer
	// is alive. It must not block.
	OnPong func()
	// DeferClose leaves the close frame of a protocol violation by the
	// peer to the owner: the reader returns the *CloseError (Remote false)
	// without sending it, data writes go on, and the owner sends it with
	// WriteClose once it has written what was due before it. A server
	// relaying a program's output uses it so that the answers to the
	// peer's earlier messages are not cut off by the close; it must bound
	// that wait. The peer's own close is answered at once either way.
	DeferClose bool
	// Deflate, if not nil, holds the negotiated permessage-deflate
	// parameters (RFC 7692; see NegotiateDeflate and DeflateAnswer): the
	// Conn then inflates messages that arrive compressed and compresses
	// the messages it sends. nil means no extension.
	Deflate *DeflateParams
}

// Conn is one WebSocket connection after the opening handshake: RFC 6455
// framing, control frames and the closing handshake over a net.Conn.
//
// One goroutine reads (NextReader, ReadMessage) and one goroutine writes
// data (WriteMessage, WriteFragment, NextWriter, Flush), and they may be
// different; WritePing, WriteClose and CloseSent may be called from any
// goroutine. The owner of the Conn closes it with Close; the Conn never
// closes the network connection by itself.
//
// Deadlines: data writes have none (a peer that does not read holds the
// writer back) until WriteCloseNow, which the reader calls to answer the
// peer's close or to fail the connection: then no new data frame starts,
// and the write under way gets the close timeout. Each control frame write sets a write deadline of
// CloseTimeout; after a ping or pong it is cleared again, after the close
// frame it stays. WriteClose sets a read deadline of CloseTimeout. An owner
// that aborts a blocked write by setting its own deadline should do so
// after the reader has stopped, or repeat it, since a pong clears it.
type Conn struct {
	nc           net.Conn
	br           *bufio.Reader
	role         Role
	maxMessage   int64
	closeTimeout time.Duration

	// Read side, owned by the reading goroutine.
	r          readState
	onPong     func() // Config.OnPong
	deferClose bool   // Config.DeferClose

	// Write side. A sync.Mutex rather than a single writer goroutine fed
	// by a channel: the data writer already owns the socket between its
	// calls, so the only other writers are the rare control frames (the
	// reader's pong and close replies, WritePing, WriteClose), which need
	// just exclusion at frame boundaries. A mutex gives that with no extra
	// goroutine per connection, no copy of the payload into a queue, and
	// errors returned to the caller that caused them. A control frame
	// therefore waits for the one data frame being written, if any; when
	// that write is stuck on a peer that does not read, the reader stops
	// reading too, which is the back-pressure wanted, and the owner's
	// deadlines or Close end it.
	wmu       sync.Mutex
	wb        writeBuf            // the frames not yet sent (bufpool.go)
	wHeader   [MaxHeaderSize]byte // scratch for encoding headers
	wFrag     bool                // a data message is open: its next frame is a continuation
	closeSent atomic.Bool         // this side's close frame went out; set under wmu
	closing   atomic.Bool         // WriteCloseNow was called: no more data frames
	aborted   atomic.Bool         // AbortWrites was called; set without wmu
	maskRand  *mrand.ChaCha8      // masking keys (client role only), RFC 6455 §10.3
	mw        messageWriter
	wz        *deflater // permessage-deflate, nil without it
}

// NewConn wraps an established WebSocket connection. Frames are read from
// br (which may already hold bytes the client sent right after its
// handshake), never from nc directly; br nil means a new 4 KiB
// bufio.Reader over nc. Writes go to nc through a buffer of cfg.WriteBufferSize.
func NewConn(nc net.Conn, br *bufio.Reader, cfg Config) *Conn {
	if br == nil {
		br = bufio.NewReaderSize(nc, defaultBufferSize)
	}
	wsize := cfg.WriteBufferSize
	if wsize <= 0 {
		wsize = defaultBufferSize
	}
	c := &Conn{
		nc:           nc,
		br:           br,
		role:         cfg.Role,
		maxMessage:   cfg.MaxMessageSize,
		closeTimeout: cfg.CloseTimeout,
		wb:           writeBuf{pool: bufpool.For(wsize)},
		onPong:       cfg.OnPong,
		deferClose:   cfg.DeferClose,
	}
	if c.maxMessage <= 0 {
		c.maxMessage = DefaultMaxMessageSize
	}
	if c.closeTimeout <= 0 {
		c.closeTimeout = DefaultCloseTimeout
	}
	if c.role == Client {
		// §5.3: masking keys must be unpredictable. A ChaCha8 stream
		// gives that without a system call per frame, seeded from the
		// runtime's generator (ChaCha8 keyed from the system's entropy
		// at start; math/rand/v2's top-level functions), which is as
		// unpredictable as crypto/rand without linking Go's FIPS 140
		// module, 200 KB of the tiny build, into every binary.
		var seed [32]byte
		for i := 0; i < len(seed); i += 8 {
			binary.LittleEndian.PutUint64(seed[i:], mrand.Uint64())
		}
		c.maskRand = mrand.NewChaCha8(seed)
	}
	c.mw.c = c
	c.r.mr.c = c
	if cfg.Deflate != nil {
		c.r.rsvOK = rsv1
		c.r.z = newInflater(c, cfg.Deflate)
		c.wz = newDeflater(cfg.Deflate, c.role)
	}
	return c
}

// NetConn returns the underlying connection, for deadlines and addresses.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the underlying connection at once, without a closing
// handshake: call WriteClose first (and wait for the peer's close with
// NextReader) for a clean close. RFC 6455 §7.1.1: the server should be the
// first to close the TCP connection.
func (c *Conn) Close() error { return c.nc.Close() }

// CloseSent reports whether this side's close frame has been sent.
func (c *Conn) CloseSent() bool { return c.closeSent.Load() }

// addSat returns a+b for a and b not negative, or math.MaxInt64 where the
// sum does not fit. A limit can be math.MaxInt64 (no limit), so "one byte
// past the limit" and a size that grows towards it are added this way:
// wrapping round to a negative number would turn no limit into a panic or
// a read that never ends.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

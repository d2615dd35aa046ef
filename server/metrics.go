package server

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Metrics (Config.MetricsAddr) count what the server does, for Prometheus
// to scrape at /metrics on a listener of their own, in the text
// exposition format (version 0.0.4). docs/flags.md lists them.
//
// They observe without getting in the way: every count is an atomic, and
// the message counts, which change with every message, are kept per
// goroutine in a tally and added to the server's once per batch (a socket
// read's worth of client messages, a flush of program output), so a
// message costs neither a lock nor an atomic operation nor an allocation.
// The format is written here rather than by a client library: the set is
// fixed and small, and only main may import outside the standard library
// (docs/design.md).
//
// Every count is kept whether or not metrics are served: keeping them is
// cheaper than asking at each one.
type metrics struct {
	connsOpen  atomic.Int64
	connsTotal atomic.Uint64
	handshake  histogram // request to 101 sent, including the program's start
	connection histogram // request to the socket's close

	refusals    [600]atomic.Uint64 // by HTTP status
	refused1013 atomic.Uint64      // --maxforks-mode=1013: the upgrade, then close code 1013

	progsRunning atomic.Int64
	progsStarted atomic.Uint64
	progsExited  [3]atomic.Uint64 // by exit class

	msgs, bytes [2]atomic.Uint64 // by direction
	drops       atomic.Uint64    // broadcast clients dropped for falling behind (1008)
	reloads     [2]atomic.Uint64 // Reload: succeeded, failed
}

// Directions of the message counts.
const (
	dirIn  = iota // from clients to programs
	dirOut        // from programs to clients
)

var dirNames = [2]string{"in", "out"}

// Exit classes of the programs' exit counts.
const (
	exitZero = iota
	exitNonzero
	exitSignal
)

var exitNames = [3]string{"0", "nonzero", "signal"}

// The buckets of the duration histograms, in seconds: a handshake takes
// about a millisecond on loopback (most of it starting the program); a
// connection lasts from an instant to days.
var (
	handshakeBuckets  = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
	connectionBuckets = []float64{0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600}
)

// init gives the histograms their buckets; the rest of a zero metrics
// is ready.
func (m *metrics) init() {
	m.handshake.init(handshakeBuckets)
	m.connection.init(connectionBuckets)
}

// connected counts a connection upgraded after handshake, the time since
// its request came.
func (m *metrics) connected(handshake time.Duration) {
	m.connsOpen.Add(1)
	m.connsTotal.Add(1)
	m.handshake.observe(handshake)
}

// disconnected counts the end of a connection that lasted d.
func (m *metrics) disconnected(d time.Duration) {
	m.connsOpen.Add(-1)
	m.connection.observe(d)
}

// refused counts a request refused with an HTTP status.
func (m *metrics) refused(status int) {
	if status >= 0 && status < len(m.refusals) {
		m.refusals[status].Add(1)
	}
}

// starting counts a program about to start; started says whether it
// did. Running goes up first, so that a program reaped at once (exited)
// never brings it below 0.
func (m *metrics) starting() { m.progsRunning.Add(1) }

func (m *metrics) started(ok bool) {
	if ok {
		m.progsStarted.Add(1)
	} else {
		m.progsRunning.Add(-1)
	}
}

// exited is procio.Config.Exited: a program reaped.
func (m *metrics) exited(state *os.ProcessState) {
	m.progsRunning.Add(-1)
	m.progsExited[exitClass(state)].Add(1)
}

func exitClass(state *os.ProcessState) int {
	switch {
	case state == nil: // not reaped: never so once procio calls Exited
		return exitNonzero
	case state.Success():
		return exitZero
	case state.Exited():
		return exitNonzero
	}
	return exitSignal
}

// reloaded counts a Reload and whether it failed.
func (m *metrics) reloaded(err error) {
	if err != nil {
		m.reloads[1].Add(1)
	} else {
		m.reloads[0].Add(1)
	}
}

// tally counts messages and their payload bytes one way for one
// goroutine, which adds them to the server's counts with publish, once per
// batch.
type tally struct{ msgs, bytes uint64 }

func (t *tally) add(n int, fin bool) {
	t.bytes += uint64(n)
	if fin {
		t.msgs++
	}
}

func (t *tally) publish(m *metrics, dir int) {
	if t.msgs == 0 && t.bytes == 0 {
		return
	}
	m.msgs[dir].Add(t.msgs)
	m.bytes[dir].Add(t.bytes)
	*t = tally{}
}

// histogram counts durations in buckets. counts[i] is the number of
// observations in bucket i alone (le bounds[i], above bounds[i-1]), the
// last one past every bound; writeTo adds them up as the format wants.
type histogram struct {
	bounds []float64 // seconds, ascending
	counts []atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (h *histogram) init(bounds []float64) {
	h.bounds = bounds
	h.counts = make([]atomic.Uint64, len(bounds)+1)
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(h.bounds) && s > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// writeTo writes every metric, each family with its HELP and TYPE lines.
func (m *metrics) writeTo(w io.Writer) {
	p := promWriter{w: w}
	p.family("wsexec_connections_open", "gauge", "WebSocket connections open.")
	p.sample("wsexec_connections_open", "", m.connsOpen.Load())
	p.family("wsexec_connections_total", "counter", "WebSocket connections upgraded.")
	p.sample("wsexec_connections_total", "", m.connsTotal.Load())
	p.histogram("wsexec_handshake_duration_seconds", "Time from a WebSocket request to its 101 response, the program's start included.", &m.handshake)
	p.histogram("wsexec_connection_duration_seconds", "Time from a WebSocket request to the connection's end.", &m.connection)

	p.family("wsexec_refusals_total", "counter", "Requests refused, by HTTP status (code 1013: upgraded and closed at once, --maxforks-mode=1013).")
	for status := range m.refusals {
		if n := m.refusals[status].Load(); n > 0 {
			p.sample("wsexec_refusals_total", `code="`+strconv.Itoa(status)+`"`, n)
		}
	}
	if n := m.refused1013.Load(); n > 0 {
		p.sample("wsexec_refusals_total", `code="1013"`, n)
	}

	p.family("wsexec_programs_running", "gauge", "Programs running (one per connection, or one per endpoint with --broadcast).")
	p.sample("wsexec_programs_running", "", m.progsRunning.Load())
	p.family("wsexec_programs_started_total", "counter", "Programs started.")
	p.sample("wsexec_programs_started_total", "", m.progsStarted.Load())
	p.family("wsexec_programs_exited_total", "counter", "Programs reaped, by how they ended: exit status 0, another status, or a signal.")
	for i, name := range exitNames {
		p.sample("wsexec_programs_exited_total", `status="`+name+`"`, m.progsExited[i].Load())
	}

	p.family("wsexec_messages_total", "counter", "Data messages, by direction: in, from clients to programs; out, from programs to clients.")
	for i, name := range dirNames {
		p.sample("wsexec_messages_total", `direction="`+name+`"`, m.msgs[i].Load())
	}
	p.family("wsexec_message_bytes_total", "counter", "Payload bytes of the data messages, by direction.")
	for i, name := range dirNames {
		p.sample("wsexec_message_bytes_total", `direction="`+name+`"`, m.bytes[i].Load())
	}
	p.family("wsexec_broadcast_drops_total", "counter", "Clients of a shared program (--broadcast) dropped for falling behind (close code 1008).")
	p.sample("wsexec_broadcast_drops_total", "", m.drops.Load())
	p.family("wsexec_reloads_total", "counter", "Reloads (SIGHUP), by result.")
	p.sample("wsexec_reloads_total", `result="ok"`, m.reloads[0].Load())
	p.sample("wsexec_reloads_total", `result="failed"`, m.reloads[1].Load())
}

// promWriter writes the lines of the text exposition format.
type promWriter struct{ w io.Writer }

func (p promWriter) family(name, typ, help string) {
	fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// sample writes one sample; labels is the text between the braces, its
// values already escaped (every value written here is a fixed word or a
// number).
func (p promWriter) sample(name, labels string, v any) {
	if labels != "" {
		name += "{" + labels + "}"
	}
	fmt.Fprintf(p.w, "%s %v\n", name, v)
}

func (p promWriter) histogram(name, help string, h *histogram) {
	p.family(name, "histogram", help)
	var total uint64
	for i, bound := range h.bounds {
		total += h.counts[i].Load()
		p.sample(name+"_bucket", `le="`+strconv.FormatFloat(bound, 'g', -1, 64)+`"`, total)
	}
	total += h.counts[len(h.bounds)].Load()
	p.sample(name+"_bucket", `le="+Inf"`, total)
	p.sample(name+"_sum", "", time.Duration(h.sum.Load()).Seconds())
	p.sample(name+"_count", "", total)
}

package wstest

import (
	"fmt"

	"github.com/wsexec/wsexec/wsproto"
)

// ReadNumbered reads lines messages from c, the n-th of which must be n
// in six digits, a space and pad ("000001 yyy..."), and reports the first
// that is not. It checks without allocating, so that a reader of a
// broadcast's flood is never the client too slow to keep up.
func ReadNumbered(c *wsproto.Conn, lines int, pad string) error {
	buf := make([]byte, 0, 7+len(pad)+64)
	for n := 1; n <= lines; n++ {
		_, p, err := c.ReadMessage(buf)
		if err != nil {
			return fmt.Errorf("after %d lines: %w", n-1, err)
		}
		if len(p) != 7+len(pad) || p[6] != ' ' || string(p[7:]) != pad || digits(p[:6]) != n {
			return fmt.Errorf("line %.20q, want %06d", p, n)
		}
	}
	return nil
}

// digits is the number b spells in decimal, or -1.
func digits(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// NumberedFlood is a shell script for a --broadcast program: once it reads
// a line, it prints bursts bursts of burst lines that ReadNumbered checks
// (line n is "%06d pad"), 20 ms apart, then echoes what it reads (cat).
func NumberedFlood(bursts, burst int, pad string) string {
	return fmt.Sprintf(`read x; i=0; while [ $i -lt %d ]; do seq -f '%%06g %s' $((i*%d+1)) $((i*%d+%d)); sleep 0.02; i=$((i+1)); done; exec cat`,
		bursts, pad, burst, burst, burst)
}

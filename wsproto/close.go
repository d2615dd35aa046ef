package wsproto

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Close status codes, RFC 6455 §7.4.1 (and 1012-1014 from the IANA
// registry of §11.7). CloseNoStatus, CloseAbnormal and 1015 are reported
// locally and never sent in a close frame.
const (
	CloseNormal             = 1000
	CloseGoingAway          = 1001
	CloseProtocolError      = 1002
	CloseUnsupportedData    = 1003
	CloseNoStatus           = 1005
	CloseAbnormal           = 1006
	CloseInvalidPayload     = 1007
	ClosePolicyViolation    = 1008
	CloseMessageTooBig      = 1009
	CloseMandatoryExtension = 1010
	CloseInternalError      = 1011
	CloseTryAgainLater      = 1013
)

// maxControlPayload is the largest payload of a control frame (§5.5).
const maxControlPayload = 125

// ErrCloseSent is returned by writes made after this side's close frame
// went out: RFC 6455 §5.5.1 allows no data frame after it.
var ErrCloseSent = errors.New("close frame already sent")

// CloseError is the close code and reason of a closed connection: either the
// peer's close frame (Remote true) or a protocol violation found here
// (Remote false; the Conn has already sent the close frame with this code).
// A peer's close frame without a code is reported as CloseNoStatus.
type CloseError struct {
	Code   uint16
	Reason string
	Remote bool
}

// Error returns "close 1002: reserved bits set" for a violation found here
// and "peer closed 1000: bye" for the peer's close.
func (e *CloseError) Error() string {
	s := "close "
	if e.Remote {
		s = "peer closed "
	}
	s += strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// validCloseCode reports whether code may appear in a close frame, RFC 6455
// §7.4: the codes defined there and registered with IANA that are meant
// for the wire (1000-1003, 1007-1014), and the 3000-4999 range left to
// libraries and applications. 1004 is reserved, 1005, 1006 and 1015 are
// local-only, other codes below 3000 are unassigned.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// appendClosePayload appends a close frame body (§5.5.1): nothing for
// CloseNoStatus, else the code and as much of reason as fits in a control
// frame, cut at a rune boundary. An invalid UTF-8 reason has its bad bytes
// replaced, since the peer must reject an invalid one (§8.1).
func appendClosePayload(b []byte, code uint16, reason string) []byte {
	if code == CloseNoStatus {
		return b
	}
	b = append(b, byte(code>>8), byte(code))
	if !utf8.ValidString(reason) {
		reason = string([]rune(reason)) // []rune conversion maps bad bytes to U+FFFD
	}
	if n := maxControlPayload - 2; len(reason) > n {
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	return append(b, reason...)
}

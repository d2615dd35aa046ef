package wstest

import (
	"fmt"
	"net/http"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/wsproto"
)

// DeflateHeader is a request header offering permessage-deflate (RFC 7692)
// as cfg says; pass it to Dial, which then sets up compression if the
// server accepts.
func DeflateHeader(cfg wsproto.DeflateConfig) http.Header {
	h := http.Header{}
	h.Set("Sec-WebSocket-Extensions", handshake.FormatExtensions([]wsproto.Extension{wsproto.DeflateOffer(cfg)}))
	return h
}

// negotiated checks the server's extension answer against what req offered
// (RFC 6455 §9.1: only extensions offered may be answered) and returns the
// permessage-deflate parameters to use, nil for none.
func negotiated(req *http.Request, resp *http.Response) (*wsproto.DeflateParams, error) {
	answers, err := handshake.ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		return nil, err
	}
	offers, err := handshake.ParseExtensions(req.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		return nil, err
	}
	for _, a := range answers {
		offered := false
		for _, o := range offers {
			offered = offered || o.Name == a.Name
		}
		if !offered || a.Name != wsproto.DeflateName {
			return nil, fmt.Errorf("server answered extension %q, not offered", a.Name)
		}
	}
	return wsproto.DeflateAnswer(answers, wsproto.DeflateConfig{})
}

//go:build !tiny

// Command echoserver is a WebSocket echo server over package wsproto, for
// running the Autobahn|Testsuite fuzzing client against the frame layer:
//
//	go run ./wsproto/internal/echoserver -addr 127.0.0.1:9001
//
// It accepts the opening handshake with package handshake (no subprotocols;
// permessage-deflate, RFC 7692, when offered, for Autobahn's cases 12 and
// 13; -nocontext answers it without context takeover), then echoes every
// message with its type, up to 64 MiB, and does nothing else.
package main

import (
	"errors"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/wsexec/wsexec/handshake"
	"github.com/wsexec/wsexec/wsproto"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.BoolVar(&deflate.NoContextTakeover, "nocontext", false, "answer permessage-deflate without context takeover")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           http.HandlerFunc(serve),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

// deflate is the permessage-deflate policy.
var deflate wsproto.DeflateConfig

// hs negotiates permessage-deflate and nothing else.
var hs = handshake.Config{Extensions: func(offers []wsproto.Extension) ([]wsproto.Extension, error) {
	if answer, ok := wsproto.NegotiateDeflate(offers, deflate); ok {
		return []wsproto.Extension{*answer}, nil
	}
	return nil, nil
}}

// serve upgrades the request and echoes until the connection ends.
func serve(w http.ResponseWriter, r *http.Request) {
	res, err := handshake.Check(handshake.FromHTTP(r), &hs)
	if err != nil {
		var herr *handshake.Error
		if errors.As(err, &herr) {
			herr.WriteTo(w)
		}
		return
	}
	nc, br, err := handshake.Accept(w, res, nil)
	if err != nil {
		log.Printf("%s: %v", r.RemoteAddr, err)
		return
	}
	defer nc.Close()
	params, err := wsproto.DeflateAnswer(res.Extensions, deflate)
	if err != nil {
		log.Printf("%s: %v", r.RemoteAddr, err)
		return
	}
	c := wsproto.NewConn(nc, br, wsproto.Config{MaxMessageSize: 64 << 20, Deflate: params})
	if err := echo(c); err != nil {
		log.Printf("%s: %v", r.RemoteAddr, err)
	}
}

// echo sends every message back with its type, flushing each reply: a
// peer may wait for it before sending more. It returns nil when the peer
// closed.
func echo(c *wsproto.Conn) error {
	var msg []byte
	for {
		op, p, err := c.ReadMessage(msg)
		if err != nil {
			var ce *wsproto.CloseError
			if errors.As(err, &ce) && ce.Remote {
				return nil
			}
			return err
		}
		msg = p
		if err := c.WriteMessage(op, p); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
	}
}

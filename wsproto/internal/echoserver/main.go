// Command echoserver is a WebSocket echo server over package wsproto, for
// running the Autobahn|Testsuite fuzzing client against the frame layer:
//
//	go run ./wsproto/internal/echoserver -addr 127.0.0.1:9001
//
// It does a minimal RFC 6455 §4.2 handshake itself (no subprotocols, no
// extensions), then echoes every message with its type, up to 64 MiB.
package main

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"flag"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/wsexec/wsexec/wsproto"
)

// acceptGUID is the fixed GUID of RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           http.HandlerFunc(serve),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

// serve upgrades the request and echoes until the connection ends.
func serve(w http.ResponseWriter, r *http.Request) {
	key, ok := checkUpgrade(r)
	if !ok {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "not a WebSocket version 13 upgrade", http.StatusBadRequest)
		return
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		log.Printf("hijack: %v", err)
		return
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Time{}) // the Hijacker contract allows leftover deadlines
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n")
	if err := brw.Flush(); err != nil {
		return
	}
	c := wsproto.NewConn(nc, brw.Reader, wsproto.Config{MaxMessageSize: 64 << 20})
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

// checkUpgrade checks the parts of a §4.2.1 opening handshake the echo
// server needs and returns the client's key.
func checkUpgrade(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet ||
		!hasToken(r.Header, "Connection", "upgrade") ||
		!hasToken(r.Header, "Upgrade", "websocket") ||
		r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", false
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "", false
	}
	return key, true
}

// hasToken reports whether a comma-separated header holds token, in any case.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptKey computes Sec-WebSocket-Accept from the client's key (§4.2.2).
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

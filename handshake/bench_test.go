//go:build !tiny

package handshake

import (
	"bufio"
	"io"
	"testing"
)

func BenchmarkCheck(b *testing.B) {
	r := parseRequest(b, valid("Sec-WebSocket-Protocol: chat, superchat",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))
	cfg := &Config{Subprotocols: []string{"superchat"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(r, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteResponse(b *testing.B) {
	res := &Result{Key: "dGhlIHNhbXBsZSBub25jZQ==", Subprotocol: "chat"}
	bw := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteResponse(bw, res, nil); err != nil {
			b.Fatal(err)
		}
	}
}

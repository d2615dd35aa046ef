// Command jsoninspect is an endpoint for --framing=json: each message the
// client sends is answered with a text message saying its type and size,
// then sent back exactly as it came. It exits when the client disconnects
// (stdin closes).
//
// Run:
//
//	go build -o jsoninspect ./examples/go/jsoninspect
//	wsexec --port=8080 --devconsole --framing=json ./jsoninspect
//
// In --framing=json each message is one JSON object per line, both ways:
// {"type":"text","data":"the text"} or {"type":"binary","data":"<base64>"}.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// message is one message on the pipes. Its fields are in this order on
// purpose: wsexec wants "type" before "data" (a map would sort them the
// other way).
type message struct {
	Type string `json:"type"`
	Data string `json:"data"`
}

func main() {
	dec := json.NewDecoder(bufio.NewReaderSize(os.Stdin, 64<<10))
	enc := json.NewEncoder(os.Stdout) // one Write per message; os.Stdout is unbuffered
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			return
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "jsoninspect:", err)
			os.Exit(1)
		}
		size := len(m.Data)
		if m.Type == "binary" {
			p, err := base64.StdEncoding.DecodeString(m.Data)
			if err != nil {
				fmt.Fprintln(os.Stderr, "jsoninspect:", err)
				os.Exit(1)
			}
			size = len(p)
		}
		reply := message{Type: "text", Data: fmt.Sprintf("got %s, %d bytes", m.Type, size)}
		if err := enc.Encode(reply); err != nil {
			os.Exit(1) // the client has gone
		}
		// Sent back as it came; a binary payload would be sent as
		// message{"binary", base64.StdEncoding.EncodeToString(p)}.
		if err := enc.Encode(m); err != nil {
			os.Exit(1)
		}
	}
}

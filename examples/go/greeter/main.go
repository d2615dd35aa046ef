// Command greeter answers every message "NAME" with "Hello, NAME!".
// It exits when the client disconnects (stdin closes).
//
// Run:
//
//	go build -o bin/greeter ./examples/go/greeter
//	bin/wsexec --port=8080 --devconsole bin/greeter
//
// Try: printf 'bob\n' | go run ./examples/go/greeter
package main

import (
	"bufio"
	"fmt"
	"os"
)

// maxLine is the longest message greeter accepts; bufio.Scanner's default
// (64 KiB) is smaller than many WebSocket messages.
const maxLine = 16 << 20

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		// One write per line straight to the unbuffered os.Stdout: the
		// reply goes out at once.
		if _, err := fmt.Fprintf(os.Stdout, "Hello, %s!\n", sc.Bytes()); err != nil {
			os.Exit(1) // the client has gone
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "greeter: read stdin: %v\n", err)
		os.Exit(1)
	}
}

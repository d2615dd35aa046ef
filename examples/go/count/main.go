// Command count sends the numbers 1..N to the client, one message every half
// second, then exits 0 (which closes the connection normally).
//
// Run:
//
//	go build -o bin/count ./examples/go/count
//	bin/wsexec --port=8080 --devconsole bin/count   # then open http://localhost:8080/
//	bin/wsexec --port=8080 bin/count 5              # count to 5 instead of 10
//
// os.Stdout is unbuffered, so each line reaches wsexec as soon as it is
// printed.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 10
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "count: bad N %q: %v\n", os.Args[1], err)
			os.Exit(2)
		}
		n = v
	}
	for i := 1; i <= n; i++ {
		if i > 1 {
			time.Sleep(500 * time.Millisecond)
		}
		if _, err := fmt.Fprintln(os.Stdout, i); err != nil {
			os.Exit(1) // the client has gone
		}
	}
}

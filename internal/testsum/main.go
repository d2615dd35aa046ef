// Command testsum reads `go test -json` on stdin and writes what plain
// `go test` would (each package's ok or FAIL line, a failing test's output)
// followed by one line per skipped test saying why, so that a run says
// what it did not test. Its exit status is 1 when a test or a package
// failed (or nothing was read), so that it can end a pipe:
//
//	go build -o bin/testsum ./internal/testsum
//	go test -json ./... | bin/testsum
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if failed := summarize(os.Stdin, os.Stdout); failed {
		os.Exit(1)
	}
}

// event is one line of test2json's output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// maxReason bounds a skip reason in the summary, to keep it one line.
const maxReason = 160

// maxHeld bounds the output kept for one running test; past it the start
// is kept, and a failure shows that much.
const maxHeld = 1 << 20

// summarize copies the run from r to w as described above and reports
// whether it failed.
func summarize(r io.Reader, w io.Writer) (failed bool) {
	held := map[string]*strings.Builder{} // package + test -> its output so far
	var skips []string
	events := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text()) // not test2json's: say it as it is
			continue
		}
		events++
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "output" && e.Test == "":
			if e.Output != "PASS\n" { // -json implies -v, whose PASS plain go test leaves out
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			b := held[key]
			if b == nil {
				b = &strings.Builder{}
				held[key] = b
			}
			if b.Len() < maxHeld {
				b.WriteString(e.Output)
			}
		case e.Action == "fail" && e.Test != "":
			failed = true
			fmt.Fprint(w, testOutput(held[key]))
			delete(held, key)
		case e.Action == "fail":
			failed = true
		case e.Action == "skip" && e.Test != "":
			skips = append(skips, fmt.Sprintf("  %s %s: %s", shortPackage(e.Package), e.Test, skipReason(held[key])))
			delete(held, key)
		case e.Action == "pass" && e.Test != "":
			delete(held, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(w, "testsum: %v\n", err)
		failed = true
	}
	if events == 0 {
		fmt.Fprintln(w, "testsum: no test events read")
		failed = true
	}
	if len(skips) > 0 {
		fmt.Fprintf(w, "skipped %d:\n%s\n", len(skips), strings.Join(skips, "\n"))
	}
	return failed
}

// testOutput is a test's output as plain go test shows a failure: without
// the =-prefixed progress lines that -v adds.
func testOutput(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	var out strings.Builder
	for line := range strings.Lines(b.String()) {
		if !strings.HasPrefix(line, "=== ") {
			out.WriteString(line)
		}
	}
	return out.String()
}

// skipReason is what a skipped test said, on one line: its log lines
// without their file:line prefix, joined.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "(no reason given)"
	}
	var parts []string
	for line := range strings.Lines(b.String()) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- SKIP") {
			continue
		}
		if _, rest, ok := strings.Cut(line, ".go:"); ok { // x_test.go:12: reason
			if _, msg, ok := strings.Cut(rest, ": "); ok {
				line = msg
			}
		}
		parts = append(parts, line)
	}
	reason := strings.Join(parts, " ")
	if reason == "" {
		return "(no reason given)"
	}
	if len(reason) > maxReason {
		reason = reason[:maxReason] + "..."
	}
	return reason
}

// shortPackage drops the module path from a package's import path.
func shortPackage(p string) string {
	const mod = "github.com/wsexec/wsexec"
	if p == mod {
		return "."
	}
	return strings.TrimPrefix(p, mod+"/")
}

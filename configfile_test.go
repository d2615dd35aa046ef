//go:build !tiny

package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2/altsrc"
)

// TestEveryFlagFromConfigFile checks that withConfigFile wraps every flag
// but config and license, and that fileKind knows the type of each one it
// wraps: a flag of a type either switch misses could not be set from a
// file.
func TestEveryFlagFromConfigFile(t *testing.T) {
	for _, f := range withConfigFile(flags()) {
		name := f.Names()[0]
		_, wrapped := f.(altsrc.FlagInputSourceExtension)
		if wrapped == notFromFile[name] {
			t.Errorf("--%s (%T): wrapped for the config file = %v", name, f, wrapped)
		}
		if (fileKind(f) != "") != wrapped {
			t.Errorf("--%s (%T): wrapped = %v but fileKind %q", name, f, wrapped, fileKind(f))
		}
	}
}

// TestExampleConfigKeys checks that every key of docs/wsexec.example.yaml,
// commented out or not, is a flag a file may set: an unknown key is an
// error, and a typo on a commented-out line would greet whoever uncomments
// it. The file is flat, one "key:" per line, so a line scan finds its keys.
func TestExampleConfigKeys(t *testing.T) {
	b, err := os.ReadFile("docs/wsexec.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range flags() {
		for _, n := range f.Names() {
			names[n] = !notFromFile[n]
		}
	}
	key := regexp.MustCompile(`^(?:# ?)?([a-z][a-z0-9-]*):(?: |$)`)
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		if m := key.FindStringSubmatch(line); m != nil {
			found++
			if !names[m[1]] {
				t.Errorf("docs/wsexec.example.yaml: %q is not a flag a file may set", line)
			}
		}
	}
	if found < 10 {
		t.Fatalf("found %d keys in docs/wsexec.example.yaml; the scan is broken", found)
	}
}

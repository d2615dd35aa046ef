package main

import (
	"os"
	"path/filepath"
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

// TestConfigFileKeys checks that a config file's keys are checked before
// anything listens: a key that names no flag a file may set, or a value of
// the wrong type, is a usage error naming the file and the key, with the
// nearest flag name when one is close; up to maxProblems are named.
func TestConfigFileKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, text string
		wants            []string
	}{
		{"yaml typo", "wsexec.yaml", "port: 0\norgin: https://app.example\n",
			[]string{`unknown key "orgin" (did you mean "origin"?)`}},
		{"toml typo", "wsexec.toml", "port = 0\nsameorgin = true\n",
			[]string{`unknown key "sameorgin" (did you mean "sameorigin"?)`}},
		{"swapped letters", "swap.yml", "prot: 8080\n", []string{`unknown key "prot" (did you mean "port"?)`}},
		{"case", "case.yaml", "Origin: x\n", []string{`unknown key "Origin" (did you mean "origin"?)`}},
		{"far from any flag", "far.yaml", "frobnicate: 1\n", []string{`unknown key "frobnicate"`}},
		{"yaml section", "section.yaml", "tls:\n  cert: c.pem\n",
			[]string{`unknown key "tls" (keys are flag names: a file has no sections)`}},
		{"toml table", "table.toml", "[server]\nport = 0\n", []string{`unknown key "server" (keys are flag names`}},
		{"toml dotted key", "dotted.toml", "port.number = 0\n", []string{`key "port": want a whole number, not a table`}},
		{"every problem", "two.yaml", "orgin: a\nmaxforks: many\n",
			[]string{`unknown key "orgin"`, `; key "maxforks": want a whole number, not a string`}},
		{"many problems", "many.yaml", "a: 1\nb: 1\nc: 1\nd: 1\ne: 1\nf: 1\ng: 1\n",
			[]string{`unknown key "e"; and 2 more`}},
		{"not from a file", "config.yaml", "config: other.yaml\n", []string{`key "config" cannot be set from a file`}},
		{"help", "help.toml", "help = true\n", []string{`key "help" cannot be set from a file`}},
		{"not a mapping", "list.yaml", "- port\n", []string{"the file is a list, not keys with values"}},
		{"no value", "empty.yaml", "maxframesize:\n", []string{`key "maxframesize" has no value (want a whole number)`}},
		{"number for a string", "mode.yaml", "socketmode: 0660\n",
			[]string{`key "socketmode": want a string, not a whole number (put it in quotes)`}},
		{"alias, wrong type", "uds.yaml", "uds: 1\n", []string{`key "uds": want a string`}},
		{"string for a bool", "bool.yaml", "sameorigin: yes\n", []string{`key "sameorigin": want true or false, not a string`}},
		{"table for a list", "map.yaml", "origin: {a: 1}\n",
			[]string{`key "origin": want a string or a list of strings, not a table`}},
		{"fraction", "frac.toml", "maxforks = 1.5\n", []string{`key "maxforks": want a whole number, not a number with a fraction`}},
		{"date", "date.toml", "loglevel = 2024-01-01\n",
			[]string{`key "loglevel": want a string, not a date or time (put it in quotes)`}},
		{"list item", "item.toml", "header = [\"X-A: 1\", 2]\n", []string{`key "header", item 2: want a string, not a whole number`}},
		{"overridden on the command line", "port.yaml", "port: eighty\n", []string{`key "port": want a whole number, not a string`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			wants := append([]string{"wsexec: --config " + path + ": "}, tc.wants...)
			runExitWants(t, 2, wants, "--config="+path, "--port=0", "--address=127.0.0.1", "cat")
		})
	}
}

// TestNearestFlag checks which unknown keys get a suggestion: a slip or
// two, not another word, and never a flag a file cannot set.
func TestNearestFlag(t *testing.T) {
	t.Parallel()
	fl := withConfigFile(flags())
	for _, tc := range []struct{ key, want string }{
		{"orgin", "origin"},
		{"prot", "port"},
		{"PORT", "port"},
		{"--port", "port"},
		{"header_ws", "header-ws"},
		{"hedaer-htpp", "header-http"}, // two slips in 11 letters
		{"maxfork", "maxforks"},
		{"ud", "uds"},
		{"ssl-cert", "sslcert"},
		{"sameoriginn", "sameorigin"},
		{"pört", "port"},   // one slip: letters count, not bytes
		{"tls", ""},        // two slips from ssl: too many for three letters
		{"static", ""},     // another word, three letters short of staticdir
		{"confg", ""},      // config cannot be set from a file
		{"licence", ""},    // nor license
		{"frobnicate", ""}, // nothing near
		{"oriiiiigin", ""}, // four slips
		{"", ""},
	} {
		if got := nearestFlag(tc.key, fl); got != tc.want {
			t.Errorf("nearestFlag(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"port", "port", 0},
		{"prot", "port", 1}, // a swap is one edit
		{"orgin", "origin", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment: a swapped pair is not edited again
		{"pört", "port", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
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

package e2e

// --config: flags from a YAML or TOML file, and its errors.

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yml := filepath.Join(dir, "wsexec.yaml")
	writeFile(yml, "port: 0\naddress: [127.0.0.1]\nheader-ws: \"X-From: file\"\n"+
		"header-http:\n  - \"X-A: 1\"\n  - \"X-B: 2, 3\"\n")

	// Values from the file apply; a single value stands for a list of one,
	// and a comma in a list item is part of the header value.
	s := launch(t, "--config="+yml, "cat")
	if got := upgrade101(t, s.addr).Get("X-From"); got != "file" {
		t.Fatalf("file values: X-From %q, want file", got)
	}
	r, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.Header.Get("X-A") != "1" || len(r.Header.Values("X-B")) != 1 || r.Header.Get("X-B") != "2, 3" {
		t.Fatalf("a list in the file: %v", r.Header)
	}

	// The command line wins.
	h := headers101(t, "--config", yml, "--header-ws=X-From: command line", "cat")
	if got := h.Values("X-From"); !slices.Equal(got, []string{"command line"}) {
		t.Fatalf("command line over file: X-From %q, want [command line]", got)
	}

	// TOML, chosen by extension.
	tml := filepath.Join(dir, "wsexec.toml")
	writeFile(tml, "port = 0\naddress = [\"127.0.0.1\"]\nheader = \"X-Toml: yes\"\n")
	if got := headers101(t, "-config="+tml, "cat").Get("X-Toml"); got != "yes" {
		t.Fatalf("toml: X-Toml %q, want yes", got)
	}

	bad := filepath.Join(dir, "bad.yaml")
	writeFile(bad, "port: [0\n")
	badTOML := filepath.Join(dir, "bad.toml")
	writeFile(badTOML, "port = [0\n")
	wrongType := filepath.Join(dir, "type.toml")
	writeFile(wrongType, "port = \"eighty\"\n")
	wrongItem := filepath.Join(dir, "item.yaml")
	writeFile(wrongItem, "header: [\"X-A: 1\", 2]\n")
	ext := filepath.Join(dir, "wsexec.ini")
	writeFile(ext, "port=0\n")
	missing := filepath.Join(dir, "missing.yaml")
	for _, tc := range []struct{ file, want string }{
		{bad, "yaml: line 1"},
		{badTOML, "toml: line 1"},
		{wrongType, `key "port": want a whole number, not a string`},
		{wrongItem, `key "header", item 2: want a string, not a whole number`},
		{ext, `extension ".ini"`},
		{missing, "no such file"},
	} {
		runExitWants(t, 2, []string{"--config " + tc.file + ": ", tc.want}, "--config="+tc.file, "cat")
	}
}

// TestExampleConfigFile checks that docs/wsexec.example.yaml names only
// real flags, with values they accept: with it, the only complaint left is
// the missing program.
func TestExampleConfigFile(t *testing.T) {
	t.Parallel()
	runFail(t, "not found: /nonexistent/program", "--config=../docs/wsexec.example.yaml", "--port=0",
		"--address=127.0.0.1", "/nonexistent/program")
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

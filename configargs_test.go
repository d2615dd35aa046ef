package main

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/server"
)

var update = flag.Bool("update", false, "rewrite testdata/configs.golden from this build")

// configCases are command lines both builds take (no flag the tiny build
// lacks), each given to configFor, which is build-specific: urfave/cli's
// in the default build (cli_test.go), the flag package's in the tiny one
// (main_tiny_test.go). Both must give the Config, or the error, that
// testdata/configs.golden records.
var configCases = [][]string{
	{}, // the defaults; the other cases list the fields they change
	{"/bin/sh"},
	{"--port=8080", "--address=127.0.0.1", "--address=[::1]", "/bin/sh", "-c", "echo hi"},
	{"-port", "0", "-uds", "/tmp/wsexec-test.sock", "-socketmode", "0660", "/bin/sh"},
	{"--unixsocket=/tmp/wsexec-test.sock", "/bin/sh"},
	{"--binary", "--closems=0", "--passenv=HOME, PATH", "--maxforks=0", "--maxframesize=0", "/bin/sh"},
	{"--binary=false", "--framing=json", "--passstderr", "/bin/sh"},
	{"--maxforks=3", "--maxforks-mode=1013", "--maxheadersize=1000", "--headertimeoutms=100", "--closetimeoutms=0x10", "/bin/sh"},
	{"--loglevel=debug", "--logformat=json", "--logto=stderr", "/bin/sh"},
	{"--dir=/tmp", "--license"},
	{"--header=X-A: b", "--header", "X-A: c,d", "--header-ws=Sec-WebSocket-Protocol: chat, superchat", "--header-ws=X-B: 1", "/bin/sh"},
	{"--origin=http://a.example,https://b.example:8443", "--origin=null", "--pingms=500", "--subprotocol=x, y", "--compression=nocontext", "/bin/sh"},
	{"--sameorigin", "--subprotocol=a", "--subprotocol=b", "/bin/sh"},
	{"--anyorigin", "/bin/sh -c 'echo a b'"},
	{"--port=0", "--", "/bin/sh", "--port=1"},
	{"--port=0", "/bin/sh", "--port=1"},
	// Errors, in the same words.
	{"--port=x", "/bin/sh"},
	{"--port=70000", "/bin/sh"},
	{"--port"},
	{"--binary=maybe", "/bin/sh"},
	{"--maxframesize=99999999999999999999", "/bin/sh"},
	{"--prot=1", "/bin/sh"},
	{"--frobnicate", "/bin/sh"},
	{"---port=1", "/bin/sh"},
	{"--framing=bogus", "/bin/sh"},
	{"--binary", "--framing=json", "/bin/sh"},
	{"--socketmode=0660", "/bin/sh"},
	{"--anyorigin", "--sameorigin", "/bin/sh"},
	{"--header=bad", "/bin/sh"},
	{"--dir="},
	{"--pingms=-1", "/bin/sh"},
	{"/nonexistent/wsexec-test"},
}

// TestConfigFromArgs checks configFor against testdata/configs.golden
// (go test -run TestConfigFromArgs -update rewrites it; the default
// build's is the reference, which the tiny build must then match).
func TestConfigFromArgs(t *testing.T) {
	var b strings.Builder
	var defaults server.Config
	for i, args := range configCases {
		fmt.Fprintf(&b, "# %q\n", args)
		cfg, err := configFor(args)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		b.WriteString(configFields(cfg, defaults))
		if i == 0 {
			defaults = cfg
		}
	}
	const golden = "testdata/configs.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("Configs differ from %s (- want, + got):\n%s", golden, lineDiff(string(want), got))
	}
}

// configFields lists the fields of cfg that differ from those of base
// (the zero Config: all that are set), one a line, but Logger (a function
// of the log flags) and Version (the build's, not the command line's).
func configFields(cfg, base server.Config) string {
	var b strings.Builder
	v, bv := reflect.ValueOf(cfg), reflect.ValueOf(base)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if name == "Logger" || name == "Version" || reflect.DeepEqual(v.Field(i).Interface(), bv.Field(i).Interface()) {
			continue
		}
		fmt.Fprintf(&b, "%s: %#v\n", name, v.Field(i).Interface())
	}
	return b.String()
}

// lineDiff lists the lines of want that got lacks (-) and those got has
// that want lacks (+), in order: enough to see which case went wrong.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

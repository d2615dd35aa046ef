package main

import (
	"flag"
	"io"
	"testing"
)

// TestFlagError words the flag package's parse errors, which both builds
// get (urfave/cli passes them on as they are).
func TestFlagError(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port=x"}, `--port "x": not a number`},
		{[]string{"-port", "1e3"}, `--port "1e3": not a number`},
		{[]string{"--port=99999999999999999999"}, `--port "99999999999999999999": out of range`},
		{[]string{"--binary=maybe"}, `--binary "maybe": want true or false`},
		{[]string{`--binary=" for -x: y`}, `--binary "\" for -x: y": want true or false`},
		{[]string{"--port="}, `--port "": not a number`},
		{[]string{"--prot=1"}, "unknown flag --prot (did you mean --port?)"},
		{[]string{"--frobnicate"}, "unknown flag --frobnicate (see --help)"},
		{[]string{"--port"}, "--port needs a value (--port=VALUE)"},
		{[]string{"---port=1"}, "---port=1: not a flag (flags are --name or --name=value)"},
		{[]string{"-=x"}, "-=x: not a flag (flags are --name or --name=value)"},
	} {
		fs := flag.NewFlagSet("wsexec", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("port", 80, "")
		fs.Bool("binary", false, "")
		err := fs.Parse(tc.args)
		if err == nil {
			t.Errorf("%q parsed", tc.args)
			continue
		}
		if got := flagError(err, []string{"port", "binary"}).Error(); got != tc.want {
			t.Errorf("%q: flag error %q\nflagError: %q\nwant:      %q", tc.args, err, got, tc.want)
		}
	}
}

//go:build !tiny

package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/wsexec/wsexec/server"
)

// TestSpecDocs: the urfave/cli flags made of flagSpecs are those specs,
// in their order, and --help says the same of each whether it reads the
// urfave/cli flag (docOf, the default build) or the spec (doc, the tiny
// build).
func TestSpecDocs(t *testing.T) {
	fl := flags()
	if len(fl) != len(flagSpecs) {
		t.Fatalf("flags() has %d flags, flagSpecs %d", len(fl), len(flagSpecs))
	}
	help := helpText(groupFlags(fl), "")
	for i, s := range flagSpecs {
		f := fl[i]
		want := map[flagKind]string{boolFlag: "*cli.BoolFlag", intFlag: "*cli.IntFlag", int64Flag: "*cli.Int64Flag",
			stringFlag: "*cli.StringFlag", stringsFlag: "*cli.StringSliceFlag"}[s.kind]
		if got := reflect.TypeOf(f).String(); got != want {
			t.Errorf("--%s: %s, want %s", s.name, got, want)
		}
		if got, want := docOf(f), s.doc(); !reflect.DeepEqual(got, want) {
			t.Errorf("--%s: docOf(the urfave/cli flag) = %+v\nthe spec's doc = %+v", s.name, got, want)
		}
		if !strings.Contains(help, "\n  "+s.doc().synopsis()) {
			t.Errorf("--%s is not in --help", s.name)
		}
	}
}

// configFor is the default build's configFrom for a command line (without
// the program's name): urfave/cli parses it, the config file included.
func configFor(args []string) (server.Config, error) {
	var cfg server.Config
	app := newApp(io.Discard, io.Discard)
	app.Action = func(c *cli.Context) error {
		var err error
		cfg, err = configFrom(c, c.Args().Slice(), io.Discard, io.Discard)
		return err
	}
	err := app.Run(append([]string{"wsexec"}, args...))
	return cfg, err
}

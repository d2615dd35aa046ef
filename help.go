//go:build !tiny

package main

import (
	"strconv"

	"github.com/urfave/cli/v2"
)

// docOf reads the documentation of f from its definition, as helpText
// and the man page show it.
func docOf(f cli.Flag) flagDoc {
	d := flagDoc{names: f.Names()}
	if cf, ok := f.(cli.CategorizableFlag); ok {
		d.cat = cf.GetCategory()
	}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return d
	}
	d.arg, d.usage = placeholder(df.GetUsage())
	if df.TakesValue() {
		if d.arg == "" {
			d.arg = "VALUE"
		}
		d.def = df.GetDefaultText()
		if s, err := strconv.Unquote(d.def); err == nil {
			d.def = s
		}
	}
	return d
}

// groupFlags sorts flags into their groups (groupDocs).
func groupFlags(flags []cli.Flag) []flagGroup {
	docs := make([]flagDoc, len(flags))
	for i, f := range flags {
		docs[i] = docOf(f)
	}
	return groupDocs(docs)
}

// shownFlags are the flags --help and the man page list: the App's own
// and the two urfave/cli adds.
func shownFlags(app *cli.App) []cli.Flag {
	return append(append([]cli.Flag{}, app.Flags...), cli.HelpFlag, cli.VersionFlag)
}

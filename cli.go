//go:build !tiny

package main

import (
	"io"

	"github.com/urfave/cli/v2"
)

// parseAndRun is the default build's command line, on urfave/cli: --help
// and the man page (help.go, manpage.go), --config (configfile.go) and
// urfave/cli's parse errors in wsexec's words (usage.go).
func parseAndRun(args []string, stdout, stderr io.Writer) error {
	return newApp(stdout, stderr).Run(args)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:            appName,
		Usage:           appUsage,
		UsageText:       appUsageText,
		Description:     appDescription,
		Version:         versionString(),
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           withConfigFile(flags()),
		// Repeated flags are never split on commas: a header value may hold one.
		DisableSliceFlagSeparator: true,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			var names []string
			for _, f := range shownFlags(c.App) {
				names = append(names, f.Names()...)
			}
			return flagError(err, names)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run reports errors and picks the status
		Before:         loadConfigFile,
		Action: func(c *cli.Context) error {
			return start(c, c.Args().Slice(), stdout, stderr)
		},
	}
	app.CustomAppHelpTemplate = helpText(groupFlags(shownFlags(app)), "")
	return app
}

// flags are flagSpecs as urfave/cli flags.
func flags() []cli.Flag {
	out := make([]cli.Flag, len(flagSpecs))
	for i, s := range flagSpecs {
		out[i] = s.cliFlag()
	}
	return out
}

// cliFlag is s as a urfave/cli flag. A value of the wrong type for the
// kind (TestFlagSpecs) would leave the default at zero.
func (s flagSpec) cliFlag() cli.Flag {
	switch s.kind {
	case boolFlag:
		return &cli.BoolFlag{Name: s.name, Aliases: s.aliases, Category: s.cat, Usage: s.usage}
	case intFlag:
		v, _ := s.value.(int)
		return &cli.IntFlag{Name: s.name, Aliases: s.aliases, Category: s.cat, Usage: s.usage, Value: v}
	case int64Flag:
		v, _ := s.value.(int64)
		return &cli.Int64Flag{Name: s.name, Aliases: s.aliases, Category: s.cat, Usage: s.usage, Value: v}
	case stringsFlag:
		return &cli.StringSliceFlag{Name: s.name, Aliases: s.aliases, Category: s.cat, Usage: s.usage}
	}
	v, _ := s.value.(string)
	return &cli.StringFlag{Name: s.name, Aliases: s.aliases, Category: s.cat, Usage: s.usage, Value: v}
}

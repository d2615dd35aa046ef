//go:build !tiny

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// writeMan writes the man page wsexec(1), in roff, from the same App and
// groups as --help (help.go), so that the two say the same. urfave/cli's
// own ToMan lists flags sorted by name without their groups, and needs
// the markdown packages that its urfave_cli_no_docs build tag leaves out;
// this needs nothing. `make man` runs it (mangen.go); nothing else in the
// binary calls it.
func writeMan(w io.Writer, app *cli.App) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH WSEXEC 1 \"\" %s \"User Commands\"\n", roffQuote("wsexec "+app.Version))
	b.WriteString(".nh\n.ad l\n") // no hyphenation, ragged right: flags and URLs stay whole
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", app.Name, roff(app.Usage))
	b.WriteString(".SH SYNOPSIS\n.nf\n")
	for line := range strings.SplitSeq(app.UsageText, "\n") {
		b.WriteString(roff(line) + "\n")
	}
	b.WriteString(".fi\n.SH DESCRIPTION\n")
	for i, para := range strings.Split(app.Description, "\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(roff(para) + "\n")
	}
	b.WriteString(".SH EXAMPLES\n")
	for _, ex := range helpExamples {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s\n", roff(ex[0]), roff(ex[1]))
	}
	b.WriteString(".SH OPTIONS\n")
	for _, g := range groupFlags(shownFlags(app)) {
		fmt.Fprintf(&b, ".SS %s\n", roffQuote(g.name))
		for _, f := range g.flags {
			var names []string
			for _, n := range f.names {
				dash := "\\-\\-"
				if len(n) == 1 {
					dash = "\\-"
				}
				s := "\\fB" + dash + roff(n) + "\\fR"
				if f.arg != "" {
					s += "=\\fI" + roff(f.arg) + "\\fR"
				}
				names = append(names, s)
			}
			tag := strings.Join(names, ", ")
			if f.def != "" {
				tag += " (default " + roff(f.def) + ")"
			}
			fmt.Fprintf(&b, ".TP\n%s\n%s\n", tag, roff(f.usage))
		}
	}
	b.WriteString(".SH EXIT STATUS\n" +
		"0 after a clean shutdown on SIGINT or SIGTERM; " +
		"2 for a mistake on the command line, reported in one line on stderr before anything listens; " +
		"3 when a listener cannot be opened (as websocketd); 1 when serving fails otherwise.\n")
	fmt.Fprintf(&b, ".SH SEE ALSO\nREADME.md and docs/ at %s\n", roff(docsURL))
	_, err := io.WriteString(w, b.String())
	return err
}

// roff escapes text for a roff line: a backslash, a hyphen (which roff
// may print as a typographic hyphen, breaking a copied flag) and a line
// start that roff would read as a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuote is s as one quoted argument of a roff request.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roff(s), `"`, `\(dq`) + `"`
}

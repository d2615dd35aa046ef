package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// --help and the man page (manpage.go) are written here from flags()
// itself, so that neither drifts from what the command line accepts: each
// flag's Category puts it in a group, groups come in the order of
// flagGroups, and flags within one in the order flags() declares them.

// The flag groups, by purpose. A flag's Category is one of these.
const (
	catListening = "Listening"
	catTLS       = "TLS"
	catRouting   = "What is served (routing)"
	catProgram   = "The program"
	catPolicy    = "Who may connect, and how"
	catLimits    = "Limits"
	catLogging   = "Logging"
	catOther     = "Other"
)

// flagGroups is the order --help and the man page show the groups in.
var flagGroups = []string{catListening, catTLS, catRouting, catProgram, catPolicy, catLimits, catLogging, catOther}

// docsURL is where the documentation lives (README.md and docs/), for
// --help and the man page.
const docsURL = "https://github.com/wsexec/wsexec"

// helpExamples open --help and the man page: a command line, and what it does.
var helpExamples = [][2]string{
	{"wsexec --port=8080 ./count.sh", "one count.sh per client, at ws://localhost:8080/"},
	{"wsexec --port=8080 --devconsole ./greeter.sh", "the same, with a page to try it at http://localhost:8080/"},
	{"wsexec --port=8080 --dir=./scripts", "every executable under ./scripts at its path: ws://localhost:8080/chat.sh"},
	{"wsexec --port=8080 --staticdir=./www \"python3 -u app.py\"", "app.py for WebSocket clients, the files of ./www for browsers"},
}

// flagDoc is what --help and the man page say about one flag.
type flagDoc struct {
	names []string // the name, then its aliases
	arg   string   // the value's placeholder, "" for a switch
	usage string
	def   string // the default worth saying, or ""
}

// docOf reads the documentation of f from its definition: the placeholder
// is the word in backquotes in its Usage (urfave/cli's convention).
func docOf(f cli.Flag) flagDoc {
	d := flagDoc{names: f.Names()}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return d
	}
	d.usage = df.GetUsage()
	if i := strings.IndexByte(d.usage, '`'); i >= 0 {
		if j := strings.IndexByte(d.usage[i+1:], '`'); j >= 0 {
			d.arg = d.usage[i+1 : i+1+j]
			d.usage = d.usage[:i] + d.arg + d.usage[i+2+j:]
		}
	}
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

// flagGroup is one group of flags, as shown.
type flagGroup struct {
	name  string
	flags []flagDoc
}

// groupFlags sorts flags into flagGroups by their Category; a flag with
// none, or with one not listed, goes in catOther (TestFlagCategories
// keeps flags() from having such a flag). Empty groups are left out.
func groupFlags(flags []cli.Flag) []flagGroup {
	byName := map[string][]flagDoc{}
	for _, f := range flags {
		cat := catOther
		if cf, ok := f.(cli.CategorizableFlag); ok && knownGroup(cf.GetCategory()) {
			cat = cf.GetCategory()
		}
		byName[cat] = append(byName[cat], docOf(f))
	}
	var out []flagGroup
	for _, g := range flagGroups {
		if len(byName[g]) > 0 {
			out = append(out, flagGroup{name: g, flags: byName[g]})
		}
	}
	return out
}

func knownGroup(cat string) bool {
	for _, g := range flagGroups {
		if g == cat {
			return true
		}
	}
	return false
}

// shownFlags are the flags --help and the man page list: the App's own
// and the two urfave/cli adds.
func shownFlags(app *cli.App) []cli.Flag {
	return append(append([]cli.Flag{}, app.Flags...), cli.HelpFlag, cli.VersionFlag)
}

// helpWidth is the width --help wraps its text to.
const helpWidth = 80

// helpText is the whole of --help. It is used as the App's help template,
// so it holds no "{{" (nor a tab, which the template's tabwriter would
// align).
func helpText(app *cli.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\nUsage:\n", app.Name, app.Usage)
	for line := range strings.SplitSeq(app.UsageText, "\n") {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	b.WriteString("\n")
	b.WriteString(wrapText(app.Description, "", helpWidth))
	b.WriteString("\nExamples:\n")
	for _, ex := range helpExamples {
		fmt.Fprintf(&b, "  %s\n%s", ex[0], wrapText(ex[1], "      ", helpWidth))
	}
	for _, g := range groupFlags(shownFlags(app)) {
		fmt.Fprintf(&b, "\n%s:\n", g.name)
		for _, f := range g.flags {
			b.WriteString("  " + f.synopsis())
			if f.def != "" {
				fmt.Fprintf(&b, " (default %s)", f.def)
			}
			b.WriteString("\n")
			b.WriteString(wrapText(f.usage, "      ", helpWidth))
		}
	}
	fmt.Fprintf(&b, "\nDocumentation: README.md and docs/ at %s, and man wsexec.\n", docsURL)
	return b.String()
}

// synopsis is how a flag is written: --name=ARG, its aliases after.
func (f flagDoc) synopsis() string {
	var parts []string
	for _, n := range f.names {
		p := "--" + n
		if len(n) == 1 {
			p = "-" + n
		}
		if f.arg != "" {
			p += "=" + f.arg
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// wrapText breaks text into lines of at most width columns (a longer word
// stands alone), each starting with indent; a newline in text starts a
// new line.
func wrapText(text, indent string, width int) string {
	var b strings.Builder
	for para := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		line := indent
		for _, w := range strings.Fields(para) {
			if line != indent && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = indent
			}
			if line != indent {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

package main

import (
	"fmt"
	"slices"
	"strings"
)

// --help (both builds) and the man page (manpage.go) are written from the
// flags themselves, so that neither drifts from what the command line
// accepts: each flag's category puts it in a group, groups come in the
// order of flagGroups, and flags within one in the order flagSpecs
// declares them.

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
	cat   string
}

// placeholder splits the word in backquotes out of a flag's usage
// (urfave/cli's convention): the value's placeholder, and the usage
// without the backquotes.
func placeholder(usage string) (arg, text string) {
	if i := strings.IndexByte(usage, '`'); i >= 0 {
		if j := strings.IndexByte(usage[i+1:], '`'); j >= 0 {
			arg = usage[i+1 : i+1+j]
			return arg, usage[:i] + arg + usage[i+2+j:]
		}
	}
	return "", usage
}

// doc is what --help says about s, as docOf reads it from the urfave/cli
// flag the default build makes of s (a number's default is shown even
// when it is 0): the tiny build's --help is written from it
// (TestSpecDocs keeps the two the same).
func (s flagSpec) doc() flagDoc {
	d := flagDoc{names: append([]string{s.name}, s.aliases...), cat: s.cat}
	d.arg, d.usage = placeholder(s.usage)
	if s.kind == boolFlag {
		return d
	}
	if d.arg == "" {
		d.arg = "VALUE"
	}
	switch s.kind {
	case intFlag, int64Flag:
		d.def = fmt.Sprint(s.value)
		if s.value == nil {
			d.def = "0"
		}
	case stringFlag:
		d.def, _ = s.value.(string)
	}
	return d
}

// flagGroup is one group of flags, as shown.
type flagGroup struct {
	name  string
	flags []flagDoc
}

// groupDocs sorts flags into flagGroups by their category; a flag with
// none, or with one not listed, goes in catOther (TestFlagCategories
// keeps flagSpecs from having such a flag). Empty groups are left out.
func groupDocs(docs []flagDoc) []flagGroup {
	byName := map[string][]flagDoc{}
	for _, d := range docs {
		cat := catOther
		if knownGroup(d.cat) {
			cat = d.cat
		}
		byName[cat] = append(byName[cat], d)
	}
	var out []flagGroup
	for _, g := range flagGroups {
		if len(byName[g]) > 0 {
			out = append(out, flagGroup{name: g, flags: byName[g]})
		}
	}
	return out
}

// helpWidth is the width --help wraps its text to.
const helpWidth = 80

// helpText is the whole of --help, listing groups; note, if any, is a
// paragraph before the closing pointer to the documentation. The default
// build uses it as the App's help template, so it holds no "{{" (nor a
// tab, which the template's tabwriter would align).
func helpText(groups []flagGroup, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\nUsage:\n", appName, appUsage)
	for line := range strings.SplitSeq(appUsageText, "\n") {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	b.WriteString("\n")
	b.WriteString(wrapText(appDescription, "", helpWidth))
	b.WriteString("\nExamples:\n")
	for _, ex := range helpExamples {
		if !namesListed(ex[0], groups) {
			continue // the tiny build cannot run it
		}
		fmt.Fprintf(&b, "  %s\n%s", ex[0], wrapText(ex[1], "      ", helpWidth))
	}
	for _, g := range groups {
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
	if note != "" {
		b.WriteString("\n" + wrapText(note, "", helpWidth))
	}
	fmt.Fprintf(&b, "\nDocumentation: README.md and docs/ at %s, and man wsexec.\n", docsURL)
	return b.String()
}

// namesListed reports whether every flag the command line cmd names is
// one of groups'.
func namesListed(cmd string, groups []flagGroup) bool {
	for _, w := range strings.Fields(cmd) {
		name, ok := strings.CutPrefix(w, "--")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		listed := slices.ContainsFunc(groups, func(g flagGroup) bool {
			return slices.ContainsFunc(g.flags, func(f flagDoc) bool { return slices.Contains(f.names, name) })
		})
		if !listed {
			return false
		}
	}
	return true
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

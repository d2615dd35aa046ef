//go:build tiny

package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wsexec/wsexec/server"
)

// The tiny build (make tiny) reads its command line with the standard
// library's flag package: urfave/cli is 1.8 MB of a binary meant to fit in
// 3.5, most of it the text/template its help is written with. Its flags
// are those of flagSpecs it has (notTiny ""), written --name=value or
// -name value; a flag it lacks is a usage error saying why, never
// ignored.

// parseAndRun is the tiny build's command line: parse, then --help,
// --version, or start.
func parseAndRun(args []string, stdout, stderr io.Writer) error {
	t := newTinyFlags()
	if err := t.parse(args[1:]); err != nil {
		return err
	}
	switch {
	case t.help:
		fmt.Fprint(stdout, tinyHelp())
		return nil
	case t.version:
		fmt.Fprintf(stdout, "%s version %s (tiny)\n", appName, versionString())
		return nil
	}
	return start(t, t.fs.Args(), stdout, stderr)
}

// tinyFlags holds a value for every flag of flagSpecs, those the build
// lacks at their defaults, so that the code reading them (flagValues) is
// the default build's.
type tinyFlags struct {
	fs            *flag.FlagSet
	vals          map[string]any    // by name: *bool, *int, *int64, *string or *stringList
	primary       map[string]string // each name and alias the flag set has: the flag's name
	lacks         map[string]string // each name and alias the build lacks: what it leaves out
	set           map[string]bool   // the names given on the command line
	help, version bool
}

func newTinyFlags() *tinyFlags {
	t := &tinyFlags{
		fs:      flag.NewFlagSet(appName, flag.ContinueOnError),
		vals:    map[string]any{},
		primary: map[string]string{},
		lacks:   map[string]string{},
		set:     map[string]bool{},
	}
	t.fs.SetOutput(io.Discard) // flagError words the errors, run prints them
	t.fs.Usage = func() {}
	// A flag the build lacks goes in a set never parsed: its value stays
	// the default.
	lacking := flag.NewFlagSet(appName, flag.ContinueOnError)
	for _, s := range flagSpecs {
		fs := t.fs
		if s.notTiny != "" {
			fs = lacking
		}
		switch s.kind {
		case boolFlag:
			t.vals[s.name] = fs.Bool(s.name, false, s.usage)
		case intFlag:
			def, _ := s.value.(int)
			t.vals[s.name] = fs.Int(s.name, def, s.usage)
		case int64Flag:
			def, _ := s.value.(int64)
			t.vals[s.name] = fs.Int64(s.name, def, s.usage)
		case stringFlag:
			def, _ := s.value.(string)
			t.vals[s.name] = fs.String(s.name, def, s.usage)
		case stringsFlag:
			p := new(stringList)
			fs.Var(p, s.name, s.usage)
			t.vals[s.name] = p
		}
		for _, a := range s.aliases { // the same value under another name
			fs.Var(fs.Lookup(s.name).Value, a, s.usage)
		}
		for _, n := range append([]string{s.name}, s.aliases...) {
			if s.notTiny != "" {
				t.lacks[n] = s.notTiny
			} else {
				t.primary[n] = s.name
			}
		}
	}
	for _, n := range []string{"help", "h"} {
		t.fs.BoolVar(&t.help, n, false, "")
	}
	for _, n := range []string{"version", "v"} {
		t.fs.BoolVar(&t.version, n, false, "")
	}
	return t
}

// parse reads args (without the program's name); flags end at the first
// argument that is not one, or after "--".
func (t *tinyFlags) parse(args []string) error {
	if err := t.fs.Parse(args); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), errUndefined); ok && t.lacks[name] != "" {
			return usagef("--%s is not in this build (wsexec tiny leaves out %s); use the full build", name, t.lacks[name])
		}
		var names []string
		t.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		return flagError(err, names)
	}
	t.fs.Visit(func(f *flag.Flag) {
		if name, ok := t.primary[f.Name]; ok { // not --help or --version
			t.set[name] = true
		}
	})
	return nil
}

func (t *tinyFlags) IsSet(name string) bool { return t.set[name] }

func (t *tinyFlags) Bool(name string) bool {
	p, ok := t.vals[name].(*bool)
	return ok && *p
}

func (t *tinyFlags) Int(name string) int {
	if p, ok := t.vals[name].(*int); ok {
		return *p
	}
	return 0
}

func (t *tinyFlags) Int64(name string) int64 {
	if p, ok := t.vals[name].(*int64); ok {
		return *p
	}
	return 0
}

func (t *tinyFlags) String(name string) string {
	if p, ok := t.vals[name].(*string); ok {
		return *p
	}
	return ""
}

func (t *tinyFlags) StringSlice(name string) []string {
	if p, ok := t.vals[name].(*stringList); ok {
		return *p
	}
	return nil
}

// tlsFrom has nothing to read: the tiny build has no TLS flags.
func tlsFrom(flagValues, *server.Config, bool) error { return nil }

// tinyHelp is --help: the flags the build has, then what it leaves out.
func tinyHelp() string {
	var docs []flagDoc
	for _, s := range flagSpecs {
		if s.notTiny == "" {
			docs = append(docs, s.doc())
		}
	}
	docs = append(docs,
		flagDoc{names: []string{"help", "h"}, usage: "show help", cat: catOther},
		flagDoc{names: []string{"version", "v"}, usage: "print the version", cat: catOther})
	return helpText(groupDocs(docs), "This is wsexec tiny, a build for small systems. With their flags, it leaves out "+
		strings.Join(tinyLacks(), "; ")+". The full build has them: see README.md. With no DNS resolver, "+
		"--address takes IP addresses and localhost, not host names.")
}

// tinyLacks lists what the tiny build leaves out, each once, in the order
// of their flags' groups in --help.
func tinyLacks() []string {
	var lacks []string
	for _, g := range flagGroups {
		for _, s := range flagSpecs {
			if s.cat == g && s.notTiny != "" && !slices.Contains(lacks, s.notTiny) {
				lacks = append(lacks, s.notTiny)
			}
		}
	}
	return lacks
}

// stringList is a repeatable flag's value: each use appends one, never
// split at commas (a header value may hold one).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

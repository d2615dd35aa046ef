package main

import (
	"errors"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wsexec/wsexec/procio"
)

// The flag package's parse errors, which urfave/cli passes on as they are
// (flag.FlagSet.failf), and what they say in wsexec's words.
var (
	badValueRE = regexp.MustCompile(`^invalid (boolean )?value "(.*)" for (?:flag )?-(\S+): (.*)$`)
	unknownRE  = regexp.MustCompile(`^flag provided but not defined: -(.*)$`)
	needsArgRE = regexp.MustCompile(`^flag needs an argument: -(.*)$`)
	syntaxRE   = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// flagError words a command-line parse error the way wsexec's other
// usage errors read: the flag as --name, the value quoted, what is wrong;
// an unknown flag names the nearest known one. flags are those the
// command line accepts.
func flagError(err error, flags []cli.Flag) error {
	msg := err.Error()
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		why := "not a number"
		switch {
		case m[1] != "":
			why = "want true or false"
		case strings.Contains(m[4], "out of range"):
			why = "out of range"
		}
		return usagef("--%s %q: %s", m[3], m[2], why)
	}
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		if near := nearestName(m[1], names); near != "" {
			return usagef("unknown flag --%s (did you mean --%s?)", m[1], near)
		}
		return usagef("unknown flag --%s (see --help)", m[1])
	}
	if m := needsArgRE.FindStringSubmatch(msg); m != nil {
		return usagef("--%s needs a value (--%s=VALUE)", m[1], m[1])
	}
	if m := syntaxRE.FindStringSubmatch(msg); m != nil {
		return usagef("%s: not a flag (flags are --name or --name=value)", m[1])
	}
	return usagef("%v (see --help)", err)
}

// commandNotFound is the error for a COMMAND that LookPath did not find:
// a bare name that is a file in the working directory was most likely
// meant as one, which a shell too runs only as ./name.
func commandNotFound(name string, err error) error {
	if !errors.Is(err, procio.ErrNotFound) || strings.Contains(name, "/") {
		return usagef("%v", err)
	}
	fi, serr := os.Stat(name)
	switch {
	case serr != nil || fi.IsDir():
		return usagef("%v", err)
	case fi.Mode()&0o111 == 0:
		return usagef("%v (./%s is here but not executable: chmod +x it, or name its interpreter first)", err, name)
	}
	return usagef("%v (did you mean ./%s?)", err, name)
}

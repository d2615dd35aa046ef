package main

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsexec/wsexec/procio"
)

// The flag package's parse errors, which urfave/cli passes on as they are
// (flag.FlagSet.failf), begin with these; flagError says them in
// wsexec's words. (Read without regexp, which the tiny build would link
// for these alone.)
const (
	errUndefined = "flag provided but not defined: -"
	errNeedsArg  = "flag needs an argument: -"
	errSyntax    = "bad flag syntax: "
)

// flagError words a command-line parse error the way wsexec's other
// usage errors read: the flag as --name, the value quoted, what is wrong;
// an unknown flag names the nearest known one. names are the flags the
// command line accepts, aliases too.
func flagError(err error, names []string) error {
	msg := err.Error()
	if value, name, why, ok := badValue(msg); ok {
		return usagef("--%s %q: %s", name, value, why)
	}
	if name, ok := strings.CutPrefix(msg, errUndefined); ok {
		if near := nearestName(name, names); near != "" {
			return usagef("unknown flag --%s (did you mean --%s?)", name, near)
		}
		return usagef("unknown flag --%s (see --help)", name)
	}
	if name, ok := strings.CutPrefix(msg, errNeedsArg); ok {
		return usagef("--%s needs a value (--%s=VALUE)", name, name)
	}
	if arg, ok := strings.CutPrefix(msg, errSyntax); ok {
		return usagef("%s: not a flag (flags are --name or --name=value)", arg)
	}
	return usagef("%v (see --help)", err)
}

// badValue reads the flag package's error for a value it could not
// parse, `invalid value "V" for flag -NAME: ERR` (`invalid boolean value
// "V" for -NAME: ERR` for a switch), as the value, the flag's name and
// what is wrong.
func badValue(msg string) (value, name, why string, ok bool) {
	why = "not a number"
	rest, ok := strings.CutPrefix(msg, "invalid value ")
	if !ok {
		if rest, ok = strings.CutPrefix(msg, "invalid boolean value "); !ok {
			return "", "", "", false
		}
		why = "want true or false"
	}
	quoted, err := strconv.QuotedPrefix(rest) // the flag package quotes the value with %q
	if err != nil {
		return "", "", "", false
	}
	value, _ = strconv.Unquote(quoted)
	rest = strings.TrimPrefix(strings.TrimPrefix(rest[len(quoted):], " for "), "flag ")
	name, perr, ok := strings.Cut(strings.TrimPrefix(rest, "-"), ": ")
	if strings.Contains(perr, "out of range") {
		why = "out of range"
	}
	return value, name, why, ok
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

// nearestName returns the name among names that key is a few typing slips
// from (as nearestFlag counts them), or "" when none is that close.
func nearestName(key string, names []string) string {
	key = strings.ToLower(key)
	n := utf8.RuneCountInString(key)
	best, bound := "", 2+n/6 // suggest a distance below bound
	for _, name := range names {
		if d := len(name) - n; d >= bound || -d >= bound { // names are ASCII
			continue // too far apart by length alone
		}
		if d := editDistance(key, name); d < bound {
			best, bound = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b counting a
// swap of two neighbouring letters as one edit, not two (the "optimal
// string alignment" distance): prot is one edit from port. It keeps three
// rows of the usual table.
func editDistance(a, b string) int {
	s, t := []rune(a), []rune(b)
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}

//go:build !tiny

package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"gopkg.in/yaml.v3"
)

// A config file's keys are checked here, before altsrc reads its values:
// altsrc only looks up the keys of the flags it knows, so a misspelt key
// (orgin: for origin:) would be skipped without a word, leaving off the
// check it was meant to turn on. Each top-level key must name a flag a
// file may set, and its value must have that flag's type; flags are flat,
// so a table (a YAML mapping, a TOML [section]) is never a value.

// fileValue is one top-level key of a config file and the kind of its
// value; items are the kinds of a list's items.
type fileValue struct {
	key   string
	is    string
	items []string
}

// The kinds of value, in the words an error uses.
const (
	isString = "a string"
	isInt    = "a whole number"
	isBool   = "a boolean"
	isFloat  = "a number with a fraction"
	isDate   = "a date or time"
	isList   = "a list"
	isTable  = "a table"
	isEmpty  = "empty"
)

// yamlValues lists the top-level keys of a YAML file, in the file's
// order, and decodes it into the map altsrc looks flags up in.
func yamlValues(data []byte) ([]fileValue, map[any]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	m := map[any]any{}
	if len(doc.Content) == 0 { // empty, or only comments
		return nil, m, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("the file is %s, not keys with values", yamlKind(root))
	}
	var vals []fileValue
	for i := 0; i+1 < len(root.Content); i += 2 {
		v := unalias(root.Content[i+1])
		fv := fileValue{key: root.Content[i].Value, is: yamlKind(v)}
		if v.Kind == yaml.SequenceNode {
			for _, item := range v.Content {
				fv.items = append(fv.items, yamlKind(item))
			}
		}
		vals = append(vals, fv)
	}
	if err := doc.Decode(&m); err != nil {
		return nil, nil, err
	}
	return vals, m, nil
}

// unalias returns the node an alias (*name) stands for. An anchor is
// never on an alias, so one step is enough.
func unalias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// yamlKind names the kind of n's value by its tag, which YAML resolves
// from the text when none is written: 0660 is a number, "0660" a string.
func yamlKind(n *yaml.Node) string {
	n = unalias(n)
	switch n.ShortTag() {
	case "!!str", "!!binary":
		return isString
	case "!!int":
		return isInt
	case "!!bool":
		return isBool
	case "!!float":
		return isFloat
	case "!!timestamp":
		return isDate
	case "!!seq":
		return isList
	case "!!map":
		return isTable
	case "!!null":
		return isEmpty
	}
	return "a value tagged " + n.Tag
}

// tomlValues lists the top-level keys of a TOML file, in the file's
// order, and decodes it into the map altsrc looks flags up in, whole
// numbers as int (the toml package's int64 is not a number to altsrc's
// IntFlag).
func tomlValues(data []byte) ([]fileValue, map[any]any, error) {
	var m map[string]any
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		return nil, nil, err
	}
	var vals []fileValue
	seen := map[string]bool{}
	for _, k := range md.Keys() { // every key, nested ones too: a.b is [a b]
		if seen[k[0]] {
			continue
		}
		seen[k[0]] = true
		fv := fileValue{key: k[0], is: tomlKind(m[k[0]])}
		switch list := m[k[0]].(type) {
		case []any:
			for _, item := range list {
				fv.items = append(fv.items, tomlKind(item))
			}
		case []map[string]any: // [[key]] sections
			for range list {
				fv.items = append(fv.items, isTable)
			}
		}
		vals = append(vals, fv)
	}
	values := make(map[any]any, len(m))
	for k, v := range m {
		if n, ok := v.(int64); ok {
			v = int(n)
		}
		values[k] = v
	}
	return vals, values, nil
}

// tomlKind names the kind of a value as the toml package decodes it.
func tomlKind(v any) string {
	switch v.(type) {
	case string:
		return isString
	case int64:
		return isInt
	case bool:
		return isBool
	case float64:
		return isFloat
	case time.Time:
		return isDate
	case []any, []map[string]any:
		return isList
	case map[string]any:
		return isTable
	}
	return fmt.Sprintf("a %T", v)
}

// fileKind is the kind of value a config file gives flag f, or "" when a
// file cannot set it. A repeatable flag's value is isList, whose items
// are strings, or one string standing for a list of one (scalarLists).
// Its cases are withConfigFile's.
func fileKind(f cli.Flag) string {
	switch f.(type) {
	case *altsrc.StringFlag:
		return isString
	case *altsrc.BoolFlag:
		return isBool
	case *altsrc.IntFlag, *altsrc.Int64Flag:
		return isInt
	case *altsrc.StringSliceFlag:
		return isList
	}
	return ""
}

// maxProblems is how many of a config file's problems its error names;
// the rest are counted, to keep the error one readable line.
const maxProblems = 5

// checkValues checks a config file's keys against flags (the App's, as
// withConfigFile made them) and reports the problems, in the file's
// order, on one line.
func checkValues(vals []fileValue, flags []cli.Flag) error {
	byName := map[string]cli.Flag{}
	for _, f := range flags {
		for _, n := range f.Names() {
			byName[n] = f
		}
	}
	var problems []string
	for _, v := range vals {
		f, ok := byName[v.key]
		if !ok {
			p := fmt.Sprintf("unknown key %q", v.key)
			if near := nearestFlag(v.key, flags); near != "" {
				p += fmt.Sprintf(" (did you mean %q?)", near)
			} else if v.is == isTable {
				p += " (keys are flag names: a file has no sections)"
			}
			problems = append(problems, p)
			continue
		}
		if p := checkValue(v, fileKind(f)); p != "" {
			problems = append(problems, p)
		}
	}
	switch n := len(problems); {
	case n == 0:
		return nil
	case n > maxProblems:
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", n-maxProblems))
	}
	return errors.New(strings.Join(problems, "; "))
}

// checkValue says what is wrong with v as a value of kind want, or "".
func checkValue(v fileValue, want string) string {
	words := want
	switch want {
	case "":
		return fmt.Sprintf("key %q cannot be set from a file", v.key)
	case isBool:
		words = "true or false"
	case isList:
		if v.is == isList {
			for i, item := range v.items {
				if item != isString {
					return fmt.Sprintf("key %q, item %d: want a string, not %s%s", v.key, i+1, item, quoteHint(item))
				}
			}
			return ""
		}
		want, words = isString, "a string or a list of strings"
	}
	switch {
	case v.is == want:
		return ""
	case v.is == isEmpty:
		return fmt.Sprintf("key %q has no value (want %s)", v.key, words)
	case want == isString:
		return fmt.Sprintf("key %q: want %s, not %s%s", v.key, words, v.is, quoteHint(v.is))
	}
	return fmt.Sprintf("key %q: want %s, not %s", v.key, words, v.is)
}

// quoteHint is the way out when a string was wanted and the file's
// unquoted text read as another kind (0660, yes, 2024-01-01).
func quoteHint(is string) string {
	switch is {
	case isInt, isBool, isFloat, isDate:
		return " (put it in quotes)"
	}
	return ""
}

// nearestFlag returns the name (or alias) of a flag a file may set that
// key is a few typing slips from, or "" when none is that close. A slip
// is a letter missing, added, changed, or two swapped; one, plus one per
// six letters of key, is close enough to be a typo rather than another
// word. Case does not count: PORT is port.
func nearestFlag(key string, flags []cli.Flag) string {
	var names []string
	for _, f := range flags {
		if fileKind(f) != "" {
			names = append(names, f.Names()...)
		}
	}
	return nearestName(key, names)
}

package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// license is printed by --license.
//
//go:embed LICENSE
var license string

// applyConfigFile sets, from the --config file, every flag the command line
// left unset: the command line wins. The file is YAML (.yaml, .yml) or
// TOML (.toml); its keys are flag names without dashes (aliases too), a
// repeatable flag takes a list or a single value. A key that names no flag
// is an error, not ignored: a misspelt setting would otherwise do nothing
// silently.
//
// The file is parsed with the libraries urfave/cli's altsrc uses, but
// applied here rather than through altsrc's wrapped flags: that way every
// flag is settable without wrapping each one, a list sets a repeatable
// flag one value at a time (altsrc cannot do that for generic flags), and
// each error is one line naming the file.
func applyConfigFile(c *cli.Context) error {
	path := c.String("config")
	if path == "" {
		return nil
	}
	values, err := readConfigFile(path)
	if err != nil {
		return usagef("--config %s: %v", path, err)
	}
	byName := map[string]cli.Flag{}
	for _, f := range c.App.Flags {
		for _, n := range f.Names() {
			byName[n] = f
		}
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		f, ok := byName[key]
		if !ok || key == "config" || key == "help" || key == "version" || key == "license" {
			return usagef("--config %s: unknown setting %q (settings are flag names, without dashes)", path, key)
		}
		name := f.Names()[0]
		if c.IsSet(name) {
			continue
		}
		items, ok := values[key].([]any)
		if !ok {
			items = []any{values[key]}
		}
		for _, item := range items {
			s, err := scalar(item)
			if err != nil {
				return usagef("--config %s: %s: %v", path, key, err)
			}
			if err := c.Set(name, s); err != nil {
				return usagef("--config %s: %s: %v", path, key, err)
			}
		}
	}
	return nil
}

// readConfigFile parses a YAML or TOML file, chosen by its extension, into
// its top-level keys and values.
func readConfigFile(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, pathErr(err)
	}
	values := map[string]any{}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml":
		err = yaml.Unmarshal(b, &values)
	case ".toml":
		err = toml.Unmarshal(b, &values)
	default:
		return nil, fmt.Errorf("extension %q: want .yaml, .yml or .toml", ext)
	}
	if err != nil {
		// The parsers' messages may span lines; the usage error is one.
		return nil, errors.New(strings.Join(strings.Fields(err.Error()), " "))
	}
	return values, nil
}

// scalar renders one value of the file as a flag would be written.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case nil:
		return "", errors.New("no value")
	}
	return "", fmt.Errorf("want a string, number or boolean, not %T", v)
}

//go:build !tiny

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
)

// The --config file goes through urfave/cli's altsrc: withConfigFile wraps
// the flags so that a file can set them, and loadConfigFile, the App's
// Before, reads the file and lets each wrapped flag the command line left
// unset take its key's value (the command line wins). The file is YAML
// (.yaml, .yml) or TOML (.toml), chosen by its extension; its keys are the
// flags' names without dashes, aliases too. A repeatable flag takes a list
// or a single value.
//
// altsrc cannot list a file's keys, so configSource parses the file itself
// first (configkeys.go): a key that names no flag a file may set, or a
// value of the wrong type, is a usage error before anything listens.

// notFromFile are the flags of flags() a config file cannot set. --help
// and --version are urfave/cli's own, not in flags(), so never wrapped.
var notFromFile = map[string]bool{"config": true, "license": true}

// withConfigFile returns flags with each one a file may set replaced by
// its altsrc wrapper, for the flag types main.go uses; a flag of another
// type is kept as it is (command line only), which
// TestEveryFlagFromConfigFile catches, so a new type gets its case here.
func withConfigFile(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, 0, len(flags))
	for _, f := range flags {
		if notFromFile[f.Names()[0]] {
			out = append(out, f)
			continue
		}
		switch f := f.(type) {
		case *cli.StringFlag:
			out = append(out, altsrc.NewStringFlag(f))
		case *cli.BoolFlag:
			out = append(out, altsrc.NewBoolFlag(f))
		case *cli.IntFlag:
			out = append(out, altsrc.NewIntFlag(f))
		case *cli.Int64Flag:
			out = append(out, altsrc.NewInt64Flag(f))
		case *cli.StringSliceFlag:
			out = append(out, altsrc.NewStringSliceFlag(f))
		default:
			out = append(out, f)
		}
	}
	return out
}

// loadConfigFile is the App's Before: with --config, it applies the file
// to the App's wrapped flags. It is altsrc.InitInputSourceWithContext
// unrolled (make the source, then ApplyInputSourceValues) so that the
// source's error stays ours to word: one line naming the file.
func loadConfigFile(c *cli.Context) error {
	path := c.String("config")
	if path == "" {
		return nil
	}
	src, err := configSource(path, c.App.Flags)
	if err != nil {
		return usagef("--config %s: %s", path, oneLine(err.Error()))
	}
	if err := altsrc.ApplyInputSourceValues(c, src, c.App.Flags); err != nil {
		return usagef("--config %s: %s", path, oneLine(err.Error()))
	}
	return nil
}

// configSource reads path as an altsrc input source, YAML or TOML by its
// extension, once its keys have passed checkValues against flags. The
// file is read and decoded here, not by altsrc's file loaders: those
// fetch anything that parses as a URL with a host over HTTP (which links
// net/http's client, 0.5 MB, into the binary) and word every stat error
// as "does not exist".
func configSource(path string, flags []cli.Flag) (altsrc.InputSourceContext, error) {
	var values func([]byte) ([]fileValue, map[any]any, error)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml":
		values = yamlValues
	case ".toml":
		values = tomlValues
	default:
		return nil, fmt.Errorf("extension %q: want .yaml, .yml or .toml", ext)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, pathErr(err)
	}
	vals, m, err := values(data)
	if err != nil {
		return nil, err
	}
	if err := checkValues(vals, flags); err != nil {
		return nil, err
	}
	return scalarLists{altsrc.NewMapInputSource(path, m)}, nil
}

// scalarLists lets a single value stand for a one-item list. Embedding the source keeps its other methods,
// unexported ones included.
type scalarLists struct{ altsrc.InputSourceContext }

func (s scalarLists) StringSlice(name string) ([]string, error) {
	list, err := s.InputSourceContext.StringSlice(name)
	if err != nil {
		if v, serr := s.InputSourceContext.String(name); serr == nil {
			return []string{v}, nil
		}
	}
	return list, err
}

// oneLine trims altsrc's wrapping ("Unable to load Yaml file '...': inner
// error: '...'", which names the absolute path and spans lines) down to
// the inner message, on one line.
func oneLine(msg string) string {
	const inner = "inner error:"
	if i := strings.Index(msg, inner); i >= 0 {
		msg = strings.TrimSpace(msg[i+len(inner):])
		msg = strings.TrimSuffix(strings.TrimPrefix(msg, "'"), "'")
	}
	return strings.Join(strings.Fields(msg), " ")
}

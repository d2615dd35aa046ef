package main

import (
	"runtime/debug"
	"testing"
)

// TestFlagSpecs: every flag has a usage and a category that is one of
// flagGroups (so that --help and the man page show it in its group: a
// flag added without one would land in "Other" unnoticed), a default of
// its kind's type, and names no other flag has.
func TestFlagSpecs(t *testing.T) {
	seen := map[string]bool{"help": true, "h": true, "version": true, "v": true}
	for _, s := range flagSpecs {
		if !knownGroup(s.cat) {
			t.Errorf("--%s: category %q is not one of flagGroups %q", s.name, s.cat, flagGroups)
		}
		if arg, usage := placeholder(s.usage); usage == "" || (s.kind != boolFlag) != (arg != "") {
			t.Errorf("--%s: usage %q: want text, with a `PLACEHOLDER` unless a switch", s.name, s.usage)
		}
		ok := s.value == nil
		switch s.value.(type) {
		case int:
			ok = s.kind == intFlag
		case int64:
			ok = s.kind == int64Flag
		case string:
			ok = s.kind == stringFlag
		}
		if !ok {
			t.Errorf("--%s: default %#v (%T) is not of its kind %d", s.name, s.value, s.value, s.kind)
		}
		for _, n := range append([]string{s.name}, s.aliases...) {
			if seen[n] {
				t.Errorf("--%s: a second flag of that name", n)
			}
			seen[n] = true
		}
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"go install module@version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0"},
		{"clone, Go 1.24 pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab+dirty"}, Settings: vcs("0123456789abcdef", "true")}, "v0.0.0-20260101000000-0123456789ab+dirty"},
		{"clone, no module version", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "false")}, "0123456789ab"},
		{"clone, changed", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "true")}, "0123456789ab+dirty"},
		{"nothing recorded", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildVersion(&tc.bi); got != tc.want {
				t.Errorf("buildVersion = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWrapText(t *testing.T) {
	got := wrapText("one two three four\nfive "+"abcdefghijklmnopqrstuvwxyz", "  ", 14)
	want := "  one two\n  three four\n  five\n  abcdefghijklmnopqrstuvwxyz\n"
	if got != want {
		t.Errorf("wrapText:\n%q\nwant\n%q", got, want)
	}
}

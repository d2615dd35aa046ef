package main

import (
	"runtime/debug"
	"testing"
)

// TestFlagCategories: every flag has a Category that is one of
// flagGroups, so that --help and the man page show it in its group. A
// flag added without one would land in "Other" unnoticed.
func TestFlagCategories(t *testing.T) {
	for _, f := range flags() {
		cat := ""
		if cf, ok := f.(interface{ GetCategory() string }); ok {
			cat = cf.GetCategory()
		}
		if !knownGroup(cat) {
			t.Errorf("--%s: Category %q is not one of flagGroups %q", f.Names()[0], cat, flagGroups)
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

package main

import "runtime/debug"

// versionString is what --version and SERVER_SOFTWARE say: the version
// the build was given (make build sets it from git describe), else what
// the Go toolchain recorded in the binary. `go install
// github.com/wsexec/wsexec@v1.2.0` records the module's version; a build
// in a clone records a pseudo-version naming the commit (Go 1.24 and
// later), or the commit itself, with "+dirty" for uncommitted changes.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return buildVersion(bi)
}

// buildVersion reads a version out of build information: the main
// module's version, else its VCS revision (shortened) and state, else
// "dev".
func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	return rev[:min(len(rev), 12)] + dirty
}

package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestPackageBoundaries keeps the layering of docs/design.md ("Package
// boundaries"): which of the module's packages each package may import,
// and which packages may reach outside the standard library.
func TestPackageBoundaries(t *testing.T) {
	const mod = "github.com/wsexec/wsexec"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	// What each package may import from the module; a package not listed
	// (examples, tests' helpers, the bench harness) is not checked.
	allowed := map[string][]string{
		"":                 {"server", "procio", "wsproto", "handshake"},
		"server":           {"handshake", "wsproto", "procio", "internal/bufpool", "internal/rawread"},
		"handshake":        {"wsproto"},
		"wsproto":          {"internal/bufpool"},
		"procio":           {"internal/bufpool", "internal/rawread"},
		"internal/bufpool": {},
		"internal/rawread": {},
	}
	// Only main reaches outside the standard library and the module, but
	// for the packages named here: server's bcrypt (--basicauth) and
	// procio's terminal ioctls (--pty), which the standard library lacks.
	outside := map[string][]string{"server": {"golang.org/x/crypto/bcrypt"}, "procio": {"golang.org/x/sys/unix"}}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], mod), "/")
		may, checked := allowed[pkg]
		if !checked {
			continue
		}
		for _, imp := range f[1:] {
			switch {
			case strings.HasPrefix(imp, mod+"/"):
				dep := strings.TrimPrefix(imp, mod+"/")
				ok := false
				for _, m := range may {
					ok = ok || m == dep
				}
				if !ok {
					t.Errorf("%s imports %s, which docs/design.md does not allow", pkgName(pkg), dep)
				}
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") && pkg != "" && !slices.Contains(outside[pkg], imp):
				t.Errorf("%s imports %s: only main may use packages outside the standard library", pkgName(pkg), imp)
			}
		}
	}
}

func pkgName(p string) string {
	if p == "" {
		return "main"
	}
	return p
}

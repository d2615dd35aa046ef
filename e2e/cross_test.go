package e2e

// Builds for other platforms.

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestWindowsRefused: a Windows build of wsexec fails with one error, the
// reason (internal/rawread/rawread_windows.go).
func TestWindowsRefused(t *testing.T) {
	t.Parallel()
	build := exec.Command("go", "build", "-o", os.DevNull, ".")
	build.Dir = ".."
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err == nil {
		t.Fatal("GOOS=windows go build succeeded; want it refused with the reason")
	}
	const reason = "undefined: wsexec_does_not_build_for_Windows_it_needs_POSIX_process_groups_and_signals"
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], reason) {
		t.Fatalf("GOOS=windows go build: %v\n%s\nwant the package line and one error ending %q", err, out, reason)
	}
}

//go:build !tiny

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestManPage: the man page lists every flag --help does, in its group,
// and man(1) renders it without a warning. `make man` writes the same
// page (mangen.go), so a flag added to flags() is in both.
func TestManPage(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	var page bytes.Buffer
	if err := writeMan(&page, app); err != nil {
		t.Fatal(err)
	}
	src := page.String()
	for _, g := range groupFlags(shownFlags(app)) {
		if !strings.Contains(src, ".SS \""+g.name+"\"\n") {
			t.Errorf("no section for the group %q", g.name)
		}
		for _, f := range g.flags {
			for _, n := range f.names {
				if !strings.Contains(src, "\\-"+strings.ReplaceAll(n, "-", "\\-")) {
					t.Errorf("--%s is not in the man page", n)
				}
			}
		}
	}
	man, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("WSEXEC_REQUIRE_PEERS") == "1" {
			t.Fatalf("man is required (WSEXEC_REQUIRE_PEERS=1): %v", err)
		}
		t.Skipf("man not installed, the rendering is not checked (.ci/run installs man-db): %v", err)
	}
	file := t.TempDir() + "/wsexec.1"
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "-l", file)
	// MANWIDTH for a stable layout, MAN_KEEP_FORMATTING unset and no pager:
	// man writes plain text when its output is not a terminal. --warnings
	// has groff report what it could not render.
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANOPT=--warnings", "MANPAGER=cat", "PAGER=cat")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l: %v\n%s", err, stderr.String())
	}
	text := stdout.String()
	for _, want := range []string{"WSEXEC(1)", "SYNOPSIS", "wsexec [flags] COMMAND [ARGS...]", "EXAMPLES", "OPTIONS", "Listening", "--port=PORT (default 80)", "--logto=WHERE"} {
		if !strings.Contains(text, want) {
			t.Errorf("man -l output lacks %q:\n%s", want, text)
		}
	}
}

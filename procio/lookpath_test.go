package procio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "prog")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+"/nonexistent")
	tests := []struct {
		name    string
		cmd     string
		want    string
		wantErr error
		msg     string
	}{
		{"in PATH", "prog", exe, nil, ""},
		{"absolute", exe, exe, nil, ""},
		{"relative with slash", "./" + filepath.Base(exe), "", ErrNotFound, "command not found: ./prog"},
		{"not in PATH", "procio-no-such-command", "", ErrNotFound, "command not found: procio-no-such-command"},
		{"missing file", dir + "/missing", "", ErrNotFound, "command not found: " + dir + "/missing"},
		{"path through a file", plain + "/x", "", ErrNotFound, "command not found: " + plain + "/x"},
		{"directory", dir, "", ErrIsDirectory, dir + ": is a directory"},
		{"not executable", plain, "", ErrNotExecutable, plain + ": not executable"},
		{"not executable in PATH", "plain", "", ErrNotFound, "command not found: plain"},
		{"device", "/dev/null", "", ErrNotExecutable, "/dev/null: not executable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookPath(tc.cmd)
			if got != tc.want {
				t.Errorf("LookPath(%q) = %q, want %q", tc.cmd, got, tc.want)
			}
			if !errors.Is(err, tc.wantErr) || (err != nil && err.Error() != tc.msg) {
				t.Errorf("LookPath(%q) error %v, want %q (%v)", tc.cmd, err, tc.msg, tc.wantErr)
			}
		})
	}
	t.Run("relative with slash, made absolute", func(t *testing.T) {
		t.Chdir(dir)
		got, err := LookPath("./prog")
		if err != nil || got != exe {
			t.Errorf("LookPath(./prog) = %q, %v; want %q", got, err, exe)
		}
	})
}

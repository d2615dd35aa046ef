//go:build !linux

package procio

import "os/exec"

// startCmd starts cmd. Outside Linux a program gets no parent-death
// signal: if the server dies without stopping it, it is left running (see
// the package documentation, "When the server dies").
func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

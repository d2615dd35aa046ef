//go:build !linux

package procio

import "syscall"

// startProcess forks and execs the program in a process group of its
// own. Outside Linux there is no pidfd (it returns -1), and a program gets
// no parent-death signal: if the server dies without stopping it, it is
// left running (see the package documentation, "When the server dies").
func startProcess(path string, argv []string, attr *syscall.ProcAttr) (pid, pidfd int, err error) {
	attr.Sys = &syscall.SysProcAttr{Setpgid: true}
	pid, err = syscall.ForkExec(path, argv, attr)
	return pid, -1, err
}

package rawread

// wsexec does not build for Windows, and says so here (README,
// "Platforms"): it runs each program in a POSIX process group, stops it
// with signals sent to the group, watches it through pidfds and reads its
// pipes with read(2); a Windows port would need job objects, console
// control events and overlapped I/O in their place. This package is the
// lowest that every path running a program imports, so a Windows build
// stops here, with the reason as its one error.
var _ = wsexec_does_not_build_for_Windows_it_needs_POSIX_process_groups_and_signals

//go:build !linux

package procio

import "errors"

// watcher is Linux's (epoll). Elsewhere there is none: sharedWatcher
// returns nil, and programs are waited for in goroutines.
type watcher struct{}

func sharedWatcher() *watcher { return nil }

func (*watcher) token() uint64                   { return 0 }
func (*watcher) watch(int, uint64, func()) error { return errors.ErrUnsupported }
func (*watcher) rearm(int, uint64, func()) error { return errors.ErrUnsupported }
func (*watcher) cancel(int, uint64) func()       { return nil }

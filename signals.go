package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsexec/wsexec/server"
)

// serve runs srv until SIGINT or SIGTERM, then shuts it down cleanly (a
// second one kills at once: its default action is back by then). No other
// signal ends the server by surprise:
//
//   - SIGHUP reloads what can be reloaded (Server.Reload: the TLS
//     certificate), logs that it did or why it could not, and never stops
//     the server. Go's default for it is to exit at once, which would drop
//     every connection without a close frame.
//   - SIGPIPE: Go ignores it for every descriptor but stdout and stderr; a
//     write to those once their reader is gone (wsexec ... 2>&1 | head, a
//     log collector that died) would kill the server. Asked for with
//     Notify, it makes such a write fail with EPIPE instead: the log line
//     is lost, the server serves on. (signal.Ignore would do the same, but
//     an ignored signal stays ignored in every program started, which
//     would then run on writing into a closed pipe.)
//   - SIGUSR1, SIGUSR2, SIGALRM and the like are dropped by the Go runtime
//     when nobody asks for them; wsexec gives them no meaning.
//   - SIGQUIT keeps Go's meaning, a goroutine dump and exit status 2.
//
// SIGHUP and SIGPIPE stay asked for until the process exits, so that no
// moment is left where one of them kills it.
func serve(srv *server.Server, log *server.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) // never read: what counts is that it is asked for
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				stop() // a second SIGINT or SIGTERM kills at once
				return
			case <-hup:
				if err := srv.Reload(); err != nil {
					log.Error("reload failed", "signal", "SIGHUP", "err", err)
				} else {
					log.Info("reloaded", "signal", "SIGHUP")
				}
			}
		}
	}()
	err := srv.Run(ctx)
	stop()
	<-done
	return err
}

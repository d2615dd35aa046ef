//go:build probecli

package main

import (
	"net"
	"net/http"
	"os"

	"github.com/urfave/cli/v2"
)

// run serves through a urfave/cli App with one flag of each type wsexec
// uses: the cost of the CLI library alone.
func run(srv *http.Server, ln net.Listener) {
	app := &cli.App{
		Name: "probe",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "s"}, &cli.BoolFlag{Name: "b"}, &cli.IntFlag{Name: "i"},
			&cli.Int64Flag{Name: "l"}, &cli.StringSliceFlag{Name: "ss"},
		},
		Action: func(*cli.Context) error { return srv.Serve(ln) },
	}
	app.Run(os.Args[:1])
}

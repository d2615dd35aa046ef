//go:build !tiny

package server

import "net"

// fullBuild is false in the tiny build: a branch it guards is left out of
// that build's binary.
const fullBuild = true

// lacking refuses a Config that asks for what this build leaves out:
// nothing, in the default build (see tiny.go).
func lacking(*Config) error { return nil }

// listenTCP listens on addr, host:port, whose host may be a name to look
// up (the tiny build's takes addresses only).
func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

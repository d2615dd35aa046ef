//go:build !tiny

package server

// fullBuild is false in the tiny build: a branch it guards is left out of
// that build's binary.
const fullBuild = true

// lacking refuses a Config that asks for what this build leaves out:
// nothing, in the default build (see tiny.go).
func lacking(*Config) error { return nil }

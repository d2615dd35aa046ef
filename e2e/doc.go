// Package e2e holds the end-to-end tests: black-box tests of the wsexec
// binary. TestMain (main_test.go) builds it once from the module root;
// each test runs it on loopback with --port 0, reads the bound address
// from its log and drives it as a client would, serving the examples/
// scripts or programs of its own. main_test.go holds the helpers every
// file shares; the other files are named by the behaviour they cover.
//
// `make e2e` runs them alone, `make test` with everything else.
// clients_test.go drives third-party clients, found through
// WSEXEC_CHROMIUM, WSEXEC_PYTHON and WSEXEC_NODE_MODULES and skipped when
// missing unless WSEXEC_REQUIRE_PEERS=1, as scaleout_test.go is without
// redis-server and nginx, which it starts itself; TestSoak runs only when
// WSEXEC_SOAK sets its duration (`make soak`).
package e2e

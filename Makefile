# wsexec — build, run, test, benchmark. See README.md.

GO      ?= go
BIN     := bin/wsexec
MAN     := bin/wsexec.1
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
PORT    ?= 8080
# make install puts $(BIN) in $(DESTDIR)$(BINDIR) and the man page in
# $(DESTDIR)$(MANDIR)/man1.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
# Build tags that cut what wsexec never uses (docs/benchmarks.md, "Where
# the bytes go"): urfave/cli's Markdown and man generators (wsexec writes
# its own man page, manpage.go) and net/http's bundled HTTP/2, which the
# server never offers (TLS advertises http/1.1 only). Exported through
# GOFLAGS so that go test, and the binary e2e/ builds, match make build.
TAGS    := urfave_cli_no_docs nethttpomithttp2
empty   :=
space   := $(empty) $(empty)
comma   := ,
export GOFLAGS := -tags=$(subst $(space),$(comma),$(TAGS))
# Each fuzz target runs this long in `make test`; `make fuzz` runs longer.
FUZZTIME ?= 5s

# package:FuzzTarget pairs run by fuzz-brief and fuzz.
FUZZ_TARGETS := ./wsproto:FuzzReadHeader ./wsproto:FuzzReadMessage \
	./wsproto:FuzzInflate ./handshake:FuzzCheck ./handshake:FuzzParseExtensions \
	./server:FuzzResolve ./server:FuzzSplitHost ./procio:FuzzLineCodec \
	./procio:FuzzJSONCodec ./procio:FuzzLengthCodec

.PHONY: build man install run test e2e check fuzz-brief fuzz bench footprint soak clean

build:
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) .

# The man page, written by wsexec's own CLI definition (mangen.go), so it
# says what --help says. TestManPage checks it lists every flag and that
# man renders it.
man:
	@mkdir -p $(dir $(MAN))
	$(GO) run -tags mangen -ldflags '-X main.version=$(VERSION)' . > $(MAN).tmp
	@mv $(MAN).tmp $(MAN)

install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/wsexec
	install -m 0644 $(MAN) $(DESTDIR)$(MANDIR)/man1/wsexec.1

# Serve the greeter example with the dev console on localhost.
run: build
	@echo "wsexec: open http://localhost:$(PORT)/ in a browser (Ctrl-C stops)"
	$(BIN) --port=$(PORT) --address=127.0.0.1 --devconsole examples/bash/greeter.sh

# The whole suite: formatting, vet, every test with the race detector, and
# a brief run of every fuzz target. internal/testsum prints what go test
# would, then one line per skipped test saying why.
test: check
	@$(GO) build -o bin/testsum ./internal/testsum
	$(GO) test -race -count=1 -json ./... | bin/testsum
	@# The allocation tests again without the race detector, which allocates
	@# on its own and makes sync.Pool drop items (they skip or relax under it).
	$(GO) test -count=1 -json -run 'Allocs' ./wsproto ./procio ./server | bin/testsum
	$(MAKE) --no-print-directory fuzz-brief

# The end-to-end tests alone: the built binary driven over loopback
# (e2e/), with the race detector; `make test` runs them too.
e2e:
	$(GO) test -race -count=1 ./e2e

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz-brief:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

fuzz:
	$(MAKE) --no-print-directory fuzz-brief FUZZTIME=2m

# The package micro-benchmarks, then the end-to-end harness against the
# real binary (docs/benchmarks.md). BENCHFLAGS go to the harness, e.g.
# BENCHFLAGS=-big for 5,000 idle connections. WEBSOCKETD=/path/to/websocketd
# measures websocketd beside wsexec, scenario by scenario in turns.
WEBSOCKETD ?=
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./wsproto ./handshake ./procio ./server
	$(GO) run ./internal/bench -bin $(BIN) $(if $(WEBSOCKETD),-websocketd $(WEBSOCKETD)) $(BENCHFLAGS)

# Where the bytes go: wsexec built each way (cgo, tags) beside probe
# programs that link part of what it links, sizes and idle RSS
# (internal/footprint; docs/benchmarks.md, "Where the bytes go").
footprint:
	$(GO) run ./internal/footprint

# Mixed traffic against one server for SOAKTIME, printing its fds,
# children and memory every 10 s; not part of `make test`.
SOAKTIME ?= 5m
soak:
	WSEXEC_SOAK=$(SOAKTIME) $(GO) test -run='^TestSoak$$' -count=1 -v -timeout=0 ./e2e

clean:
	rm -rf bin

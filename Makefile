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
# Each fuzz target runs this many inputs in `make test` (1 to 5 s each
# here); `make fuzz` runs each for two minutes. A count, not a time: with
# a duration, go1.26's fuzzing coordinator can fail a target at the
# deadline with "context deadline exceeded" and no failing input
# (golang/go#75804, fixed in Go 1.27), which a loaded CI machine hit.
FUZZTIME ?= 30000x

# package:FuzzTarget pairs run by fuzz-brief and fuzz.
FUZZ_TARGETS := ./wsproto:FuzzReadHeader ./wsproto:FuzzReadMessage \
	./wsproto:FuzzInflate ./handshake:FuzzCheck ./handshake:FuzzParseExtensions \
	./server:FuzzResolve ./server:FuzzSplitHost ./procio:FuzzLineCodec \
	./procio:FuzzJSONCodec ./procio:FuzzLengthCodec

.PHONY: build man install run test e2e check fuzz-brief fuzz bench footprint soak clean \
	cross size dist deb tiny

# Release builds are static (CGO_ENABLED=0): no libc is mapped, which
# saves memory on a board, and the same binary runs on glibc, musl and
# uClibc systems.
GOBUILD = CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)'

build:
	$(GOBUILD) -o $(BIN) .

# make tiny builds the tiny binary (tag tiny; README, "The tiny build"):
# the WebSocket core on a server that reads its requests itself, with no
# net/http, crypto/tls or urfave/cli linked, for the smallest boards.
TINYBIN := bin/wsexec-tiny
GOBUILD_TINY = CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS) tiny' -ldflags '$(LDFLAGS)'

tiny:
	$(GOBUILD_TINY) -o $(TINYBIN) .

# make cross builds the binary for each of CROSS into CROSSDIR, named
# after the target: wsexec-linux-armv7, wsexec-linux-mipsle-softfloat. A name is GOOS-GOARCH, with GOARM
# as armvN and GOMIPS as a -softfloat suffix. Windows is refused at build
# time: wsexec needs POSIX process groups, signals and pipes (README,
# "Platforms and packages").
CROSS := linux-amd64 linux-386 linux-armv6 linux-armv7 linux-arm64 \
	linux-mips-softfloat linux-mipsle-softfloat linux-riscv64 \
	darwin-amd64 darwin-arm64 freebsd-amd64 freebsd-arm64
CROSSDIR := bin/cross

# The tiny build for the Linux targets, the boards it is for.
CROSS_TINY := $(filter linux-%,$(CROSS))

cross: $(CROSS:%=$(CROSSDIR)/wsexec-%) $(CROSS_TINY:%=$(CROSSDIR)/wsexec-tiny-%)
	@echo "make cross: no windows build: wsexec needs POSIX process groups, signals and pipes (README, \"Platforms and packages\"); go build says:"
	@if out=$$(CGO_ENABLED=0 GOOS=windows $(GO) build -o /dev/null . 2>&1); then \
		echo "a windows build was not refused"; exit 1; fi; \
	echo "$$out" | grep 'wsexec_does_not_build_for_Windows'

# goenv is the go environment of a target name: linux-armv7 is GOOS=linux
# GOARCH=arm GOARM=7, linux-mips-softfloat GOOS=linux GOARCH=mips
# GOMIPS=softfloat.
goword = $(word $2,$(subst -, ,$1))
goenv = $(strip GOOS=$(call goword,$1,1) \
	GOARCH=$(patsubst armv%,arm,$(call goword,$1,2)) \
	$(if $(filter armv%,$(call goword,$1,2)),GOARM=$(patsubst armv%,%,$(call goword,$1,2))) \
	$(if $(call goword,$1,3),GOMIPS=$(call goword,$1,3)))

# go build decides whether anything changed; make always asks it (FORCE).
$(CROSSDIR)/wsexec-%: FORCE
	$(call goenv,$*) $(GOBUILD) -o $@ .
# (make takes the rule with the shorter stem: this one for wsexec-tiny-*.)
$(CROSSDIR)/wsexec-tiny-%: FORCE
	$(call goenv,$*) $(GOBUILD_TINY) -o $@ .
FORCE:

# make size builds the default and the tiny linux/amd64 binaries as make
# build and make tiny do, and fails when one is larger than its budget,
# SIZE_BUDGET and TINY_BUDGET bytes (docs/benchmarks.md, "Where the bytes
# go"); make test runs it on an amd64 host.
SIZE_BUDGET ?= 10000000
TINY_BUDGET ?= 3500000
SIZEBIN := bin/size/wsexec-linux-amd64
TINYSIZEBIN := bin/size/wsexec-tiny-linux-amd64
budget = n=$$(wc -c < $1); \
	if [ $$n -gt $2 ]; then \
		echo "size: $1 is $$n bytes, over its budget of $2 by $$((n - $2))"; exit 1; \
	fi; \
	echo "size: $1 is $$n bytes, within its budget of $2"

size:
	GOOS=linux GOARCH=amd64 $(GOBUILD) -o $(SIZEBIN) .
	GOOS=linux GOARCH=amd64 $(GOBUILD_TINY) -o $(TINYSIZEBIN) .
	@$(call budget,$(SIZEBIN),$(SIZE_BUDGET))
	@$(call budget,$(TINYSIZEBIN),$(TINY_BUDGET))

# make dist fills DISTDIR with what a release publishes: for each of CROSS
# a tarball (wsexec, and for a Linux target wsexec-tiny, the man page, README.md, LICENSE and
# NOTICES, the licenses of all that is linked in), the .deb packages of
# DEBARCHS (make deb), and SHA256SUMS of them all. Files in the tarballs
# and packages are root's, dated by the last commit, so that one commit
# gives the same bytes.
DISTDIR  := dist
DEBARCHS := amd64 arm64 armhf
# The cross target each Debian architecture's package is built from.
debtarget.amd64 := linux-amd64
debtarget.arm64 := linux-arm64
debtarget.armhf := linux-armv7
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

dist: cross man
	rm -rf $(DISTDIR)
	@mkdir -p $(DISTDIR)
	@for n in $(CROSS); do \
		d=wsexec-$(VERSION)-$$n; s=$(DISTDIR)/$$d; \
		mkdir -p $$s || exit 1; \
		cp $(CROSSDIR)/wsexec-$$n $$s/wsexec && \
		if [ -f $(CROSSDIR)/wsexec-tiny-$$n ]; then \
			cp $(CROSSDIR)/wsexec-tiny-$$n $$s/wsexec-tiny && chmod 0755 $$s/wsexec-tiny || exit 1; fi && \
		cp $(MAN) README.md LICENSE $$s/ && packaging/notices.sh $$s/wsexec > $$s/NOTICES && \
		chmod 0755 $$s/wsexec && chmod 0644 $$s/wsexec.1 $$s/README.md $$s/LICENSE $$s/NOTICES && \
		tar -C $(DISTDIR) --sort=name --owner=0 --group=0 --numeric-owner \
			--mtime=@$(SOURCE_DATE_EPOCH) -cf - $$d | gzip -9n > $$s.tar.gz && \
		rm -r $$s && echo "$$s.tar.gz" || exit 1; \
	done
	$(MAKE) --no-print-directory deb
	cd $(DISTDIR) && sha256sum *.tar.gz *.deb > SHA256SUMS

# make deb builds the .deb of each of DEBARCHS into DISTDIR with Debian's
# dpkg-deb (packaging/deb.sh; README, "Platforms and packages").
deb: man $(foreach a,$(DEBARCHS),$(CROSSDIR)/wsexec-$(debtarget.$(a)))
	@command -v dpkg-deb >/dev/null || { echo "make deb: dpkg-deb not found (Debian's dpkg)"; exit 1; }
	$(foreach a,$(DEBARCHS),packaging/deb.sh $(a) $(CROSSDIR)/wsexec-$(debtarget.$(a)) $(MAN) $(VERSION) $(DISTDIR) &&) :

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
# would, then one line per skipped test saying why. The timeout leaves room
# for e2e's cross builds (TestCrossQemu), minutes on a cold build cache.
test: check $(if $(filter amd64,$(shell $(GO) env GOHOSTARCH)),size)
	@$(GO) build -o bin/testsum ./internal/testsum
	$(GO) test -race -count=1 -timeout=30m -json ./... | bin/testsum
	@# The allocation tests again without the race detector, which allocates
	@# on its own and makes sync.Pool drop items (they skip or relax under it).
	$(GO) test -count=1 -json -run 'Allocs' ./wsproto ./procio ./server | bin/testsum
	@# The tiny build's own unit tests (its server and command line); e2e/
	@# runs its binary beside the default one.
	$(GO) test -race -count=1 -tags '$(TAGS) tiny' -json ./server ./handshake . | bin/testsum
	$(MAKE) --no-print-directory fuzz-brief

# The end-to-end tests alone: the built binary driven over loopback
# (e2e/), with the race detector; `make test` runs them too.
e2e:
	$(GO) test -race -count=1 ./e2e

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags '$(TAGS) tiny' ./...

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
	rm -rf bin $(DISTDIR)

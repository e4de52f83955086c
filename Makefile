# munja — `make test` is the whole suite (what CI runs); `make run` runs munja.
GO ?= go
PKGS ?= ./...

.PHONY: test deps vet lint unit run build bench fuzz screenshots reliability clean

test: deps vet lint unit

# Set-up the tests need on a fresh machine: a running PostgreSQL for the
# PostgreSQL store tests (the machine has it installed; start it if down).
deps:
	@scripts/test-deps.sh

vet:
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)

lint:
	$(GO) tool staticcheck $(PKGS)

# A process named httpd runs meanwhile: no test may depend on what else runs
# on the machine (scripts/with-decoys.sh).
unit:
	scripts/with-decoys.sh $(GO) test -race -count=1 -timeout 12m $(PKGS)

# A static binary (munja needs no cgo: SQLite is pure Go): it runs on any
# x86-64 Linux whatever its glibc, and maps 1.5 MB less (no libc).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o bin/munja ./cmd/munja

run:
	$(GO) run ./cmd/munja serve

# Go micro-benchmarks; whole-process benchmarks live in bench/ (see docs/BENCHMARKS.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# A short run of every fuzz target (seed corpora run in `make test` already).
fuzz:
	@scripts/fuzz-all.sh 15s

# The fault and attack scenarios in their long version (up to 30 minutes),
# written to docs/RELIABILITY.md; their short version runs in `make test`.
reliability:
	@scripts/reliability.sh

# PNGs of the console's main pages, taken in headless Chromium.
screenshots: deps
	MUNJA_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^TestScreenshots$$' ./console

clean:
	rm -rf bin

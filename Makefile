# munja — `make test` is the whole suite (what CI runs); `make run` runs munja.
GO ?= go
PKGS ?= ./...

.PHONY: test deps vet lint unit run build build-agent deb rpm packages bench fuzz screenshots reliability clean

# The version stamped into the binary and given to the packages (`munja
# version` prints it): git describe, or VERSION=1.2.3 on the command line.
ifeq ($(origin VERSION),undefined)
VERSION := $(shell scripts/version.sh)
endif
BIN ?= bin/munja
AGENT_BIN ?= bin/munja-agent
DIST ?= dist
GOARCH ?= $(shell $(GO) env GOARCH)

test: deps vet lint unit

# Set-up the tests need on a fresh machine: a running PostgreSQL for the
# PostgreSQL store tests (the machine has it installed; start it if down).
deps:
	@scripts/test-deps.sh

vet:
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GO) vet -tags slimagent ./check/... ./cmd/munja-agent/

lint:
	$(GO) tool staticcheck $(PKGS)
	$(GO) tool staticcheck -tags slimagent ./check/... ./cmd/munja-agent/

# A process named httpd runs meanwhile: no test may depend on what else runs
# on the machine (scripts/with-decoys.sh).
unit:
	scripts/with-decoys.sh $(GO) test -race -count=1 -timeout 12m $(PKGS)
	# The checks as munja-agent builds them (make build-agent).
	scripts/with-decoys.sh $(GO) test -race -count=1 -timeout 5m -tags slimagent ./check/...

# A static binary (munja needs no cgo: SQLite is pure Go): it runs on any
# x86-64 Linux whatever its glibc, and maps 1.5 MB less (no libc).
build:
	CGO_ENABLED=0 GOARCH=$(GOARCH) $(GO) build -trimpath -buildvcs=auto -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/munja

# The slim agent (cmd/munja-agent): munja agent alone, 30 % of munja's size.
# Built without inlining (-l): start-up touches nearly every 64 KiB of the
# binary, so its RSS follows its size; 0.9 MB less code and 0.8 MiB less
# RSS for ~10 % more of its little CPU (docs/BENCHMARKS.md section 9).
# -tags slimagent: the check messages' templates run on internal/template,
# text/template calling only the methods a check's fields have, so the
# linker drops the methods nothing calls (1.1 MB, 1.0 MiB RSS; same section).
build-agent:
	CGO_ENABLED=0 GOARCH=$(GOARCH) $(GO) build -trimpath -buildvcs=auto -tags slimagent -gcflags=all=-l -ldflags "-X main.version=$(VERSION)" -o $(AGENT_BIN) ./cmd/munja-agent

# dist/munja_VERSION_ARCH.deb and dist/munja-VERSION-1.ARCH.rpm from one
# description (packaging/nfpm.yaml; nfpm is a Go tool dependency, so only Go
# and make are needed). The completion scripts come from the binary itself.
# Then the munja-agent package (packaging/agent/nfpm.yaml), whose unit is
# munja's munja-agent.service running /usr/bin/munja-agent.
deb rpm: build build-agent
	@mkdir -p $(DIST)/completion $(DIST)/agent
	$(BIN) completion bash >$(DIST)/completion/munja.bash
	$(BIN) completion zsh >$(DIST)/completion/_munja
	MUNJA_VERSION='$(VERSION)' MUNJA_ARCH=$(GOARCH) MUNJA_BIN='$(BIN)' MUNJA_COMPLETION='$(DIST)/completion' \
		$(GO) tool nfpm package --config packaging/nfpm.yaml --packager $@ --target $(DIST)/
	sed 's|^ExecStart=/usr/bin/munja agent |ExecStart=/usr/bin/munja-agent |' packaging/munja-agent.service >$(DIST)/agent/munja-agent.service
	grep -q '^ExecStart=/usr/bin/munja-agent ' $(DIST)/agent/munja-agent.service
	MUNJA_VERSION='$(VERSION)' MUNJA_ARCH=$(GOARCH) MUNJA_AGENT_BIN='$(AGENT_BIN)' MUNJA_AGENT_UNIT='$(DIST)/agent/munja-agent.service' \
		$(GO) tool nfpm package --config packaging/agent/nfpm.yaml --packager $@ --target $(DIST)/

packages: deb rpm

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

# PNGs of every console page at 1280 and 390 px, taken in headless Chromium.
screenshots: deps
	MUNJA_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^TestBrowserEveryPageInKorean$$' ./console

clean:
	rm -rf bin dist

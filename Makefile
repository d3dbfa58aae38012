# bootbank: build, test, fuzz, demo, bench, images, install.
# `make test` and `make demo` install what they need with apt-get when it is missing.

SWIFT      ?= swift
PREFIX     ?= /usr/local
RELEASE    := .build/release/bootbank
IMAGES_DIR := images
# `make fuzz`: seconds per libFuzzer target (CI: 30), targets run at once, and the corpus of real
# images the seeds also come from when it is present.
FUZZ_SECONDS ?= 30
# Executions per target after which it stops before FUZZ_SECONDS (-1: none; 1000000 for the goal).
FUZZ_RUNS    ?= -1
FUZZ_JOBS    ?= 1
FUZZ_CORPUS  ?= ../shared/corpus
# The fuzzers' build: release runs ~25x more executions a second than debug.
FUZZ_CONFIG  ?= release
# `make test` (so CI) fuzzes each target this long, after running every seed once.
TEST_FUZZ_SECONDS ?= 30

# Debian packages: libraries we link, and the tools the tests use as independent oracles.
APT_BUILD  := pkg-config libblkid-dev libisal-dev zlib1g-dev libzstd-dev libxml2-dev
APT_TOOLS  := gdisk fdisk dosfstools mtools rhash bmap-tools xxd xz-utils gzip zstd python3 time util-linux prometheus gddrescue \
              fuse3 python3-pyfuse3 isal openssl python3-jsonschema
# The loop-device tests of the writing commands hold a device with a device-mapper target.
APT_DEVICE := dmsetup
APT_ALL    := $(APT_BUILD) $(APT_TOOLS) $(APT_DEVICE)

.PHONY: all build deps lint test fuzz demo bench images check-images install clean man completions deb install-files

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

test: deps images lint deb
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) FUZZ_JOBS=2

# One libFuzzer target per parser (Sources/FuzzTargets), built with AddressSanitizer into
# .build-fuzz, seeded from the fixtures and the corpus; fails on any crash, hang or runaway
# allocation (the input is kept under .build-fuzz/crashes/). scripts/fuzz.sh lists the knobs.
fuzz: deps images
	$(SWIFT) build -c $(FUZZ_CONFIG) --scratch-path .build-fuzz --product bootbank-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	python3 scripts/fuzz-seeds.py $(IMAGES_DIR) .build-fuzz/seeds $(FUZZ_CORPUS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_CONFIG=$(FUZZ_CONFIG) bash scripts/fuzz.sh

demo: build images
	$(RELEASE) info $(IMAGES_DIR)/esxi7.img
	$(RELEASE) status $(IMAGES_DIR)/esxi7.img
	$(RELEASE) verify $(IMAGES_DIR)/esxi7.img

bench: build
	bash Benchmarks/bench.sh
	bash Benchmarks/bench-verify.sh
	bash Benchmarks/bench-image.sh

# The man page comes from argument-parser's generate-manual tool (the same help text as
# --help), the completion scripts from the binary itself; both from BIN.
BIN         ?= $(RELEASE)
MANPAGE     := .build/man/bootbank.1
COMPLETIONS := .build/completions

man:
	$(SWIFT) build --product generate-manual >/dev/null
	mkdir -p $(dir $(MANPAGE))
	.build/debug/generate-manual $(BIN) --date $$(date -u +%Y-%m-%d) --output-directory $(dir $(MANPAGE))
	@test -s $(MANPAGE) && echo "man page: $(MANPAGE)"

completions:
	mkdir -p $(COMPLETIONS)
	$(BIN) --generate-completion-script bash > $(COMPLETIONS)/bootbank
	$(BIN) --generate-completion-script zsh > $(COMPLETIONS)/_bootbank
	$(BIN) --generate-completion-script fish > $(COMPLETIONS)/bootbank.fish

# Installs BIN (default: the release build) with its man page, completions and the contrib
# textfile service under DESTDIR/PREFIX.
install: build man completions install-files

install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/lib/bootbank \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/bootbank/prometheus
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/bootbank
	gzip -9n < $(MANPAGE) > $(DESTDIR)$(PREFIX)/share/man/man1/bootbank.1.gz
	install -m 0644 $(COMPLETIONS)/bootbank $(DESTDIR)$(PREFIX)/share/bash-completion/completions/bootbank
	install -m 0644 $(COMPLETIONS)/_bootbank $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_bootbank
	install -m 0644 $(COMPLETIONS)/bootbank.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/bootbank.fish
	install -m 0755 contrib/bootbank-textfile $(DESTDIR)$(PREFIX)/lib/bootbank/bootbank-textfile
	sed 's|/usr/lib/bootbank/|$(PREFIX)/lib/bootbank/|' contrib/systemd/bootbank-textfile.service \
	  > $(DESTDIR)$(PREFIX)/lib/systemd/system/bootbank-textfile.service
	install -m 0644 contrib/systemd/bootbank-textfile.timer $(DESTDIR)$(PREFIX)/lib/systemd/system/
	install -m 0644 contrib/prometheus/bootbank-alerts.yml $(DESTDIR)$(PREFIX)/share/doc/bootbank/prometheus/

# A Debian package of a binary built with the Swift runtime linked in (no Swift on the host).
# Depends: the Debian packages of the shared libraries the binary loads, found with ldd and dpkg.
STATIC_BUILD := .build-static
STATIC_BIN   := $(STATIC_BUILD)/release/bootbank
DEB_ROOT     := $(STATIC_BUILD)/deb
deb: deps
	$(SWIFT) build -c release --product bootbank --static-swift-stdlib --scratch-path $(STATIC_BUILD)
	rm -rf $(DEB_ROOT) && mkdir -p $(DEB_ROOT)/DEBIAN
	$(MAKE) --no-print-directory man completions BIN=$(STATIC_BIN)
	$(MAKE) --no-print-directory install-files BIN=$(STATIC_BIN) DESTDIR=$(CURDIR)/$(DEB_ROOT) PREFIX=/usr
	bash contrib/debian/control.sh $(STATIC_BIN) $(DEB_ROOT) > $(DEB_ROOT)/DEBIAN/control
	version=$$(sed -n 's/^Version: //p' $(DEB_ROOT)/DEBIAN/control); \
	  dpkg-deb --root-owner-group --build $(DEB_ROOT) bootbank_$${version}_amd64.deb

clean:
	rm -rf .build .build-fuzz

# libbpf-tools-rs: execsnoop and tcpconnect.
#
#   make              build the release binaries into target/release/
#   make deps         install what a fresh Debian/Ubuntu machine lacks
#   make run          deps, build, then run execsnoop as root (ARGS="-x -T" passes flags)
#   make test         deps, then the whole test suite as root
#   make test-kernels the whole test suite in VMs of Debian's 5.10, 6.1 and 6.12
#                     kernels (qemu; KERNELS="bookworm" picks some)
#   make lint         cargo fmt --check and clippy with warnings as errors
#   make bench        storm benchmark against no tool and upstream (BENCH_ARGS;
#                     installs Debian's libbpf-tools for upstream's, make deps-bench)
#   make bench-kernel the storm benchmark in a 6.1 VM against Debian's libbpf-tools
#   make install      install the binaries into $(DESTDIR)$(PREFIX)/sbin, man
#                     pages and bash/zsh/fish completions under $(PREFIX)/share
#   make docs         generate those man pages and completions into target/share
#   make static       binaries needing nothing but the C library, in target/static/release
#   make deb          a .deb of the static build, in target/deb (lintian-clean)
#   make ARCH=arm64   (and deps, docs, install, deb) cross-builds for arm64 into
#                     target/arm64, in a Debian root (packaging/cross/run)
#   make test-kernels ARCH=arm64   the suite cross-built for arm64 in a VM of
#                     Debian's arm64 6.12 kernel (emulated), which also
#                     installs the arm64 .deb and runs its tools
#   make clean        cargo clean
#
# Variables: PREFIX (/usr/local), SBINDIR ($(PREFIX)/sbin), SHAREDIR
# ($(PREFIX)/share), MANDIR ($(SHAREDIR)/man), BASHCOMPDIR, ZSHCOMPDIR,
# FISHCOMPDIR (each shell's completion directory under $(SHAREDIR)), DESTDIR,
# ARGS, CARGO (path to cargo; found in PATH or ~/.cargo/bin when not given).
# TOOL_PREFIX and TOOL_SUFFIX name the installed tools
# $(TOOL_PREFIX)execsnoop$(TOOL_SUFFIX) (e.g. TOOL_PREFIX=bpf- or
# TOOL_SUFFIX=-libbpf, to sit beside the distribution's libbpf-tools); man
# pages and completions follow (make docs, install and deb).
# make deb: DEB_DIR (target/deb), DEB_MAINTAINER ("Name <mail>"; default: the
# last commit's author), DEB_PACKAGE (libbpf-tools-rs), and with NO_BUILD=1,
# DEB_BIN_DIR and DEB_DOCS_DIR (what to package instead of building it).
# make test-kernels and bench-kernel: KERNELS, VM_ACCEL, VM_TIMEOUT,
# KERNELS_UPDATE, TEST_ARGS (see tests/kernels/run).

SHELL := /bin/bash
.DEFAULT_GOAL := build
.PHONY: build deps deps-kernels deps-bench run test test-kernels bench-kernel lint bench docs static install deb clean

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
SHAREDIR ?= $(PREFIX)/share
MANDIR ?= $(SHAREDIR)/man
BASHCOMPDIR ?= $(SHAREDIR)/bash-completion/completions
ZSHCOMPDIR ?= $(SHAREDIR)/zsh/site-functions
FISHCOMPDIR ?= $(SHAREDIR)/fish/vendor_completions.d
TOOL_PREFIX ?=
TOOL_SUFFIX ?=
ARGS ?=
INSTALL ?= install
# Every tool has its main in src/bin/TOOL.rs.
TOOLS := $(basename $(notdir $(wildcard src/bin/*.rs)))

# cargo: from PATH, else rustup's default places (sudo and CI shells often
# lack ~/.cargo/bin in PATH). Override with CARGO=/path/to/cargo.
CARGO ?= $(firstword $(shell command -v cargo 2>/dev/null) \
                     $(wildcard $(HOME)/.cargo/bin/cargo /root/.cargo/bin/cargo) \
                     cargo)
HAVE_CARGO := $(shell command -v $(CARGO) 2>/dev/null)
# rustup's cargo finds rustc, rustfmt and clippy next to itself.
ifneq ($(filter /%,$(CARGO)),)
export PATH := $(patsubst %/,%,$(dir $(CARGO))):$(PATH)
endif

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# ARCH=arm64 (a Debian architecture other than this machine's) cross-builds:
# build, docs, install and deb run cargo, and build-deb, in a Debian
# trixie root holding that architecture's toolchain (packaging/cross/run: set
# up on first use or by `make deps ARCH=arm64`, kept in target/cross/). The
# output goes to target/ARCH/, the binaries to target/ARCH/RUST_TARGET/release/.
# Only the command line's: kernel builds export ARCH (x86, arm64) for their own use.
ifneq ($(origin ARCH),command line)
ARCH :=
endif
CROSS :=
BIN_SUBDIR :=
DEB_ENV :=
ifneq ($(ARCH),)
ifneq ($(ARCH),$(shell dpkg --print-architecture 2>/dev/null))
ifneq ($(filter deps-bench run test bench bench-kernel lint,$(MAKECMDGOALS)),)
$(error ARCH=$(ARCH) only builds (build, docs, install, deb) and tests in VMs (test-kernels): run, test, bench and lint without ARCH)
endif
ifneq ($(filter static,$(MAKECMDGOALS)),)
$(error ARCH=$(ARCH) has no static build (trixie's libelf.a cannot be linked statically, see make deb): make build ARCH=$(ARCH))
endif
CROSS := packaging/cross/run $(ARCH)
TARGET_DIR := $(TARGET_DIR)/$(ARCH)
CARGO := $(CROSS) env CARGO_TARGET_DIR=$(TARGET_DIR) cargo
HAVE_CARGO := yes
RUST_TARGET := $(shell $(CROSS) --rust-target 2>/dev/null)
ifeq ($(RUST_TARGET),)
$(error ARCH=$(ARCH) is not an architecture the cross build knows: ARCH=arm64 is)
endif
BIN_SUBDIR := $(RUST_TARGET)/
# build-deb dates the changelog by the last commit, and git does not run in
# the root. (Only there: the cc crate rebuilds libbpf when it changes.)
DEB_ENV := SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null)
endif
endif
RELEASE_DIR ?= $(TARGET_DIR)/$(BIN_SUBDIR)release
# Man pages and completions, laid out like PREFIX/share.
DOCS_DIR ?= $(TARGET_DIR)/share

# Loading BPF programs needs root. As root nothing is prefixed; otherwise
# sudo when there is one; otherwise the commands run as they are.
ifeq ($(shell id -u),0)
AS_ROOT :=
IS_ROOT := yes
else
AS_ROOT := $(if $(shell command -v sudo 2>/dev/null),sudo)
IS_ROOT :=
endif

build:
	$(CARGO) build --release

# Debian package, then the commands that show it is present (none: ask dpkg).
# util-linux gives setpriv and unshare, iproute2 `ip netns`, both used by the
# tests; llvm gives llvm-strip and llvm-objdump (optional, for inspecting BPF
# objects); gcc is the C compiler libbpf-sys builds its vendored libbpf with;
# groff, zsh and fish check the man pages and completions in the tests;
# dpkg-dev (dpkg-shlibdeps), binutils (strip, readelf) and lintian build and
# check the .deb (make deb, and the tests); cc also builds the tests' glibc
# argp reference program; dnsmasq-base (the server alone, no system service)
# and bind9-dnsutils (dig) are the DNS server and a client of tcpconnect
# --dns's tests.
DEPS := clang:clang llvm:llvm-strip libelf-dev zlib1g-dev pkg-config:pkg-config \
        make:make gcc:cc util-linux:setpriv,unshare iproute2:ip \
        groff-base:groff zsh:zsh fish:fish \
        dpkg-dev:dpkg-shlibdeps binutils:strip,readelf lintian:lintian \
        dnsmasq-base:dnsmasq bind9-dnsutils:dig

define deps_script
set -euo pipefail
installed() { dpkg-query -W -f='$${Status}' "$$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for dep in $(DEPS); do
	pkg=$${dep%%:*}
	cmds=
	[[ $$dep == *:* ]] && cmds=$${dep#*:}
	if [[ -n $$cmds ]]; then
		ok=yes
		for cmd in $${cmds//,/ }; do command -v "$$cmd" >/dev/null 2>&1 || ok=; done
		what="command(s) $${cmds//,/, }"
	else
		ok=; installed "$$pkg" && ok=yes
		what="package"
	fi
	if [[ -n $$ok ]]; then
		echo "deps: have    $$pkg ($$what)"
	else
		echo "deps: missing $$pkg ($$what)"
		missing+=("$$pkg")
	fi
done
if (( $${#missing[@]} )); then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "deps: no apt-get here (not Debian/Ubuntu): install $${missing[*]} yourself" >&2
		exit 1
	fi
	sudo=
	if [[ $$(id -u) != 0 ]]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "deps: installing $${missing[*]} needs root, and there is no sudo: rerun as root" >&2
			exit 1
		fi
		sudo=sudo
	fi
	echo "deps: installing $${missing[*]}"
	echo "deps: $${sudo:+sudo }apt-get update"
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	echo "deps: $${sudo:+sudo }apt-get install -y --no-install-recommends $${missing[*]}"
	$$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "$${missing[@]}" </dev/null
else
	echo "deps: nothing to install"
fi
if [[ -n "$(CROSS)" ]]; then
	echo "deps: Rust for $(ARCH): trixie's, in the cross build's root"
	$(CROSS)
elif command -v "$(CARGO)" >/dev/null 2>&1; then
	echo "deps: have    Rust: $$("$(CARGO)" --version)"
else
	echo "deps: no Rust toolchain: cargo is neither in PATH nor in ~/.cargo/bin." >&2
	echo "deps: install one with rustup (https://rustup.rs), or pass CARGO=/path/to/cargo" >&2
	exit 1
fi
endef

deps: export DEPS_SCRIPT = $(deps_script)
deps:
	@bash -c "$$DEPS_SCRIPT"

# What `make test-kernels` needs on top: qemu, a static busybox for the VMs'
# initramfs, kmod (depmod/modprobe resolve the modules it carries), cpio;
# with ARCH=arm64, qemu-system-aarch64 (the arm64 VMs' busybox comes with
# their userland, see tests/kernels/run).
KERNEL_DEPS := qemu-system-x86:qemu-system-x86_64 busybox-static \
               kmod:depmod,modprobe cpio:cpio xz-utils:xz \
               $(if $(filter arm64,$(ARCH)),qemu-system-arm:qemu-system-aarch64)
deps-kernels: DEPS := $(KERNEL_DEPS)
deps-kernels: export DEPS_SCRIPT = $(deps_script)
deps-kernels:
	@bash -c "$$DEPS_SCRIPT"

run: deps
	$(CARGO) build --release
ifeq ($(IS_ROOT)$(AS_ROOT),)
	@echo "make run: not root and no sudo; execsnoop needs root to load its BPF program" >&2
endif
	$(AS_ROOT) $(RELEASE_DIR)/execsnoop $(ARGS)

# Release, so the tests run the very binaries `make install` ships.
test: deps
ifeq ($(IS_ROOT),yes)
	$(CARGO) test --release --no-fail-fast
else ifneq ($(AS_ROOT),)
	@echo "make test: not root; building as $$(id -un), running the test binaries with 'sudo -E'"
	$(CARGO) test --release --no-fail-fast --config 'target."cfg(all())".runner = ["sudo", "-E"]'
else
	@echo "make test: not root and no sudo: the tests that load BPF programs will skip" \
	      "(rerun as root for the full suite)" >&2
	$(CARGO) test --release --no-fail-fast
endif

# Exec, connect and exit storms with no tool, ours and a comparison tool
# (upstream's from PATH or /usr/sbin, or COMPARE_EXECSNOOP, COMPARE_TCPCONNECT
# and COMPARE_EXITSNOOP, paths separated by ':'), in alternating rounds; tables of medians: slowdown with
# the run's own noise band, CPU and BPF time per event, memory by kind.
# BENCH_ARGS="--rounds 3" or "--soak 60" (a one-minute storm watching memory)
# go to the benchmark.
BENCH_ARGS ?=
bench: deps deps-bench
	$(AS_ROOT) $(CARGO) bench --bench storm -- $(BENCH_ARGS)

# Upstream's C tools to compare against: Debian's libbpf-tools. Its execsnoop attaches to tracepoints
# through tracefs, which is mounted when it is not (as root). Without the
# package (no such package in this distribution) the benchmark runs without
# upstream's, and says so.
deps-bench: DEPS := libbpf-tools:/usr/sbin/execsnoop,/usr/sbin/tcpconnect,/usr/sbin/exitsnoop
deps-bench: export DEPS_SCRIPT = $(deps_script)
deps-bench:
	@bash -c "$$DEPS_SCRIPT" || echo "deps-bench: upstream's libbpf-tools not installed: the benchmark compares against nothing" >&2
	@if ! grep -qs ' /sys/kernel/tracing tracefs ' /proc/mounts && [[ -d /sys/kernel/tracing ]]; then \
		echo "$(strip $(AS_ROOT) mount -t tracefs nodev /sys/kernel/tracing)"; \
		$(AS_ROOT) mount -t tracefs nodev /sys/kernel/tracing || \
			echo "deps-bench: tracefs not mounted: upstream's execsnoop may fail to attach" >&2; \
	fi

# Debian's stock kernels (the suites in tests/kernels/kernels; KERNELS="bullseye
# trixie" picks some) booted in qemu, each running every test binary of
# `cargo test --release` (built here) as root. Kernels, modules and logs are
# cached in target/kernels/. One summary line per kernel; fails if any failed.
# With ARCH=arm64, the arm64 kernels listed there, the test binaries built in
# the cross root, a Debian arm64 userland as the VM's root, and the .deb of
# `make deb ARCH=arm64`, checked by lintian here (no errors, as the tests ask
# of the amd64 one), installed and run in each VM.
# VM_ACCEL=auto|kvm|tcg, VM_TIMEOUT (s per VM), TEST_ARGS: see tests/kernels/run.
KERNELS ?=
ifeq ($(CROSS),)
test-kernels: deps deps-kernels
	tests/kernels/selftest
	CARGO=$(CARGO) tests/kernels/run $(KERNELS)
else
test-kernels: deps deps-kernels deb
	tests/kernels/selftest
	lintian --pedantic --fail-on error $(DEB_DIR)/$(DEB_PACKAGE)_$(DEB_VERSION)_$(ARCH).deb
	tests/kernels/run --arch $(ARCH) --deb $(DEB_DIR)/$(DEB_PACKAGE)_$(DEB_VERSION)_$(ARCH).deb $(KERNELS)
endif

# The storm benchmark in bookworm's 6.1 kernel, against bookworm's libbpf-tools
# (whose tcpconnect needs kprobes). BENCH_ARGS as for bench; by default storms
# small enough for emulation.
bench-kernel: deps deps-kernels
	CARGO=$(CARGO) BENCH_ARGS="$(BENCH_ARGS)" tests/kernels/run --bench

# Both checks run, so one run shows every complaint; either fails the target.
lint:
	@status=0; \
	echo "$(CARGO) fmt --all --check"; \
	$(CARGO) fmt --all --check || status=1; \
	echo "$(CARGO) clippy --all-targets -- -D warnings"; \
	$(CARGO) clippy --all-targets -- -D warnings || status=1; \
	exit $$status

# libbpf, libelf and zlib linked in (libbpf-sys's "static" feature, through
# ours); libelf.a and libz.a come with libelf-dev and zlib1g-dev. What is left
# is glibc (every build links the unwinder from gcc's libgcc_eh.a, see
# build.rs). A target directory of its own, since the flags differ.
STATIC_TARGET_DIR := $(TARGET_DIR)/static
STATIC_CARGO = RUSTFLAGS="-L native=$$(pkg-config --variable=libdir libelf)" \
	$(CARGO) $(1) --release --features static --target-dir $(STATIC_TARGET_DIR)
static: deps
	$(call STATIC_CARGO,build)
	@for tool in $(TOOLS); do echo "$(STATIC_TARGET_DIR)/release/$$tool:"; ldd $(STATIC_TARGET_DIR)/release/$$tool; done

# Generated from the flags' own clap definitions and each tool's manual.rs
# (examples/gen-docs), for the installed names.
GEN_DOCS_ARGS = --prefix '$(TOOL_PREFIX)' --suffix '$(TOOL_SUFFIX)'
docs:
	$(CARGO) run --release --example gen-docs -- $(GEN_DOCS_ARGS) $(DOCS_DIR)

# Builds first when cargo is at hand; under a plain `sudo make install` it may
# not be (rustup lives in the user's home), and what `make` and `make docs`
# built is installed as it is. NO_BUILD=1 installs what is there without
# building (RELEASE_DIR and DOCS_DIR say where it is; the tests use this).
# Each tool is installed as $(TOOL_PREFIX)tool$(TOOL_SUFFIX), with the man
# page and completions `make docs` generated for that name.
install: $(if $(NO_BUILD),,$(if $(HAVE_CARGO),build docs))
	@set -e; for tool in $(TOOLS); do \
		name='$(TOOL_PREFIX)'$$tool'$(TOOL_SUFFIX)'; \
		src=$(RELEASE_DIR)/$$tool; \
		if [[ ! -x $$src ]]; then \
			echo "make install: $$src is not built; run 'make' first" >&2; \
			exit 1; \
		fi; \
		files=("$$src" "$(DESTDIR)$(SBINDIR)/$$name" 0755 \
		       "$(DOCS_DIR)/man/man8/$$name.8" "$(DESTDIR)$(MANDIR)/man8/$$name.8" 0644 \
		       "$(DOCS_DIR)/bash-completion/completions/$$name" "$(DESTDIR)$(BASHCOMPDIR)/$$name" 0644 \
		       "$(DOCS_DIR)/zsh/site-functions/_$$name" "$(DESTDIR)$(ZSHCOMPDIR)/_$$name" 0644 \
		       "$(DOCS_DIR)/fish/vendor_completions.d/$$name.fish" "$(DESTDIR)$(FISHCOMPDIR)/$$name.fish" 0644); \
		for ((i = 0; i < $${#files[@]}; i += 3)); do \
			if [[ ! -f $${files[i]} ]]; then \
				echo "make install: $${files[i]} is not generated; run 'make docs' (with the same TOOL_PREFIX and TOOL_SUFFIX) first" >&2; \
				exit 1; \
			fi; \
			echo "$(INSTALL) -D -m $${files[i+2]} $${files[i]} $${files[i+1]}"; \
			$(INSTALL) -D -m "$${files[i+2]}" "$${files[i]}" "$${files[i+1]}"; \
		done; \
	done

# A .deb of the static build (as ripgrep ships one): binaries, man pages,
# completions, Depends from dpkg-shlibdeps, Conflicts/Replaces with Debian's
# libbpf-tools only when a file name collides (no TOOL_PREFIX/TOOL_SUFFIX).
# NO_BUILD=1 packages DEB_BIN_DIR and DEB_DOCS_DIR as they are (the tests
# package their own build this way, without a second, static, build).
# With ARCH, of the ordinary build, linking libelf and zlib as shared
# libraries: trixie's libelf.a (elfutils 0.192) calls eu_search_tree_init and
# the like from libeu, which no package ships, and needs libzstd.
DEB_DIR ?= $(TARGET_DIR)/deb
ifeq ($(CROSS),)
DEB_BUILD := static
DEB_BIN_DIR ?= $(STATIC_TARGET_DIR)/release
DEB_CARGO = $(call STATIC_CARGO,run)
else
DEB_BUILD := build
DEB_BIN_DIR ?= $(RELEASE_DIR)
DEB_CARGO = $(CARGO) run --release
endif
DEB_DOCS_DIR ?= $(DEB_DIR)/share
DEB_PACKAGE ?= libbpf-tools-rs
DEB_MAINTAINER ?= $(shell git log -1 --format='%an <%ae>' 2>/dev/null)
DEB_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
deb: $(if $(NO_BUILD),,$(DEB_BUILD))
ifeq ($(NO_BUILD),)
	$(DEB_CARGO) --example gen-docs -- $(GEN_DOCS_ARGS) $(DEB_DOCS_DIR)
endif
	rm -rf $(DEB_DIR)/build
	$(MAKE) --no-print-directory install NO_BUILD=1 PREFIX=/usr \
		DESTDIR=$(DEB_DIR)/build/debian/$(DEB_PACKAGE) \
		ZSHCOMPDIR=/usr/share/zsh/vendor-completions \
		RELEASE_DIR=$(DEB_BIN_DIR) DOCS_DIR=$(DEB_DOCS_DIR) \
		TOOL_PREFIX='$(TOOL_PREFIX)' TOOL_SUFFIX='$(TOOL_SUFFIX)'
	$(DEB_ENV) $(CROSS) packaging/deb/build-deb $(DEB_DIR)/build $(DEB_PACKAGE) '$(DEB_VERSION)' \
		'$(DEB_MAINTAINER)' $(DEB_DIR)

clean:
	$(CARGO) clean

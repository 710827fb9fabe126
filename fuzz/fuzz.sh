#!/usr/bin/env bash
# Runs the cargo-fuzz targets, one after the other, for SECONDS each.
#   fuzz/fuzz.sh SECONDS [TARGET...]        (default: every target)
# Uses cargo-fuzz when installed (`cargo install cargo-fuzz`), else builds
# the targets with cargo and the flags cargo-fuzz passes. Uses the nightly
# toolchain when rustup has one, else stable with RUSTC_BOOTSTRAP=1 (the
# `-Z` flags cargo-fuzz passes). FUZZ_SANITIZER=none builds without ASan
# (panics are still caught). New corpus entries go to fuzz/work/corpus/
# (not in git; fuzz/corpus/ holds the committed seeds), crashes to
# fuzz/artifacts/<target>/; fuzz/regressions/<target>/ (inputs of fixed
# crashes) are replayed first. Exits non-zero when any target crashed.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-300}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(argv rdb_load rdb_roundtrip stream_id)
sanitizer="${FUZZ_SANITIZER:-address}"

if rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
else
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
fi
"${cargo[@]}" --version

triple="$(rustc -vV | sed -n 's/^host: //p')"
if [ -z "${FUZZ_WITHOUT_CARGO_FUZZ:-}" ] && "${cargo[@]}" fuzz --version >/dev/null 2>&1; then
    # -a: debug assertions (and overflow checks) on, as in the unit tests.
    "${cargo[@]}" fuzz build -a -s "$sanitizer"
    run() { "${cargo[@]}" fuzz run -a -s "$sanitizer" "$@"; }
else
    # Without cargo-fuzz (CI: saves installing it), the same build by hand:
    # libFuzzer's coverage instrumentation, ASan, debug assertions.
    echo "fuzz: cargo-fuzz not installed, building the targets with cargo"
    flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
    flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
    flags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
    flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
    flags+=" -Cdebug-assertions -Coverflow-checks"
    [ "$sanitizer" = none ] || flags+=" -Zsanitizer=$sanitizer"
    RUSTFLAGS="$flags" "${cargo[@]}" build --release --bins --target "$triple"
    run() {
        local t="$1"
        shift
        local dirs=()
        while [ "$#" -gt 0 ] && [ "$1" != -- ]; do dirs+=("$1"); shift; done
        shift
        mkdir -p "artifacts/$t"
        ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}" \
            "target/$triple/release/$t" -artifact_prefix="artifacts/$t/" "$@" "${dirs[@]}"
    }
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "work/corpus/$t"
    opts=(-max_total_time="$secs" -timeout=30 -print_final_stats=1)
    [ -f "$t.dict" ] && opts+=(-dict="$PWD/$t.dict")
    echo "fuzz: $t for ${secs}s"
    dirs=("work/corpus/$t" "corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    if ! run "$t" "${dirs[@]}" -- "${opts[@]}"; then
        failed+=("$t")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: no crash in ${targets[*]}"

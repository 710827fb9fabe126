#!/usr/bin/env bash
# Runs the cargo-fuzz targets, one after the other, for SECONDS each.
#   fuzz/fuzz.sh SECONDS [TARGET...]        (default: every target)
# Installs cargo-fuzz from crates.io when it is missing. Uses the nightly
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

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
else
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
fi
"${cargo[@]}" --version

# -a: debug assertions (and overflow checks) on, as in the unit tests.
"${cargo[@]}" fuzz build -a -s "$sanitizer"

failed=()
for t in "${targets[@]}"; do
    mkdir -p "work/corpus/$t"
    opts=(-max_total_time="$secs" -timeout=30 -print_final_stats=1)
    [ -f "$t.dict" ] && opts+=(-dict="$PWD/$t.dict")
    echo "fuzz: $t for ${secs}s"
    dirs=("work/corpus/$t" "corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    if ! "${cargo[@]}" fuzz run -a -s "$sanitizer" "$t" "${dirs[@]}" -- "${opts[@]}"; then
        failed+=("$t")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: no crash in ${targets[*]}"

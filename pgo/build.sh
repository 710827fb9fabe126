#!/bin/sh
# The release module, built with profile-guided optimisation (issue 13):
#   1. an instrumented build (-Cprofile-generate) in target/pgo-gen;
#   2. pgo/train.sh runs the host redis-server with it under the workloads
#      of make bench (and the other stream commands once);
#   3. llvm-profdata merges the profile;
#   4. the release build with -Cprofile-use in target/pgo-use, copied to
#      OUT (the module every make target loads).
# The profile lays the hot paths out together and the cold code apart: the
# module's share of instruction-cache misses, which the host without the
# module does not pay, is what it cuts (the README's performance section).
# Without an llvm-profdata of rustc's own LLVM version (Debian's llvm-N,
# N from `rustc -vV`), it says so and builds without a profile.
#   pgo/build.sh OUT LOADGEN      (env: CARGO, PGO_PORT, REDIS_SERVER)
set -eu
OUT=$1; LOADGEN=$2
CARGO=${CARGO:-cargo}
PORT=${PGO_PORT:-7390}
root=$(pwd)
# (Copied under another name, then renamed: a server that has the old file
# loaded keeps its pages.)
install() {
    mkdir -p "$(dirname "$OUT")"
    cp "$1" "$OUT.tmp.$$"
    mv -f "$OUT.tmp.$$" "$OUT"
}
llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=""
for p in "llvm-profdata-$llvm" "/usr/lib/llvm-$llvm/bin/llvm-profdata"; do
    if command -v "$p" >/dev/null 2>&1; then profdata=$p; break; fi
done
if [ -z "$profdata" ]; then
    echo "pgo/build.sh: no llvm-profdata for LLVM $llvm (Debian: llvm-$llvm); building without a profile" >&2
    $CARGO build --release
    [ "$(realpath -m target/release/libredis_idmp.so)" = "$(realpath -m "$OUT")" ] \
        || install target/release/libredis_idmp.so
    exit 0
fi
so=target/pgo-use/release/libredis_idmp.so
# Up to date: built by this toolchain, and nothing of the sources, the
# manifest or pgo/ is newer.
toolchain=$(rustc -vV | tr '\n' ' ')
stamp=target/pgo-use/toolchain
if [ -f "$so" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$toolchain" ] \
    && [ -z "$(find src Cargo.toml Cargo.lock build.rs pgo -newer "$so" | head -1)" ]; then
    install "$so"
    exit 0
fi
data=$root/target/pgo-gen/profile
rm -rf "$data"
RUSTFLAGS="-Cprofile-generate=$data" $CARGO build --release --target-dir target/pgo-gen
# (The build scripts ran instrumented too: only the server's profile counts.)
rm -rf "$data"
if ! sh pgo/train.sh "$root/target/pgo-gen/release/libredis_idmp.so" "$PORT" "$LOADGEN" \
    || ! ls "$data"/*.profraw >/dev/null 2>&1; then
    echo "pgo/build.sh: the training run failed (port $PORT taken? PGO_PORT picks another); building without a profile" >&2
    $CARGO build --release
    install target/release/libredis_idmp.so
    exit 0
fi
mkdir -p target/pgo-use
"$profdata" merge -o target/pgo-use/merged.profdata "$data"
RUSTFLAGS="-Cprofile-use=$root/target/pgo-use/merged.profdata" \
    $CARGO build --release --target-dir target/pgo-use
printf '%s' "$toolchain" >"$stamp"
install "$so"
echo "pgo/build.sh: $OUT built with the profile of pgo/train.sh"

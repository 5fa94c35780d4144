#!/usr/bin/env bash
# Runs every Rust test of libtorchinfer: the -sys header check (checked-in bindings against the
# header; with --all-features also against bindgen's output now), the safe API's unit,
# integration and doc tests (default features and --all-features), compiles the benchmarks
# (without running them), builds and runs the examples (predict, serve, batch), packages both
# crates (cargo package, with verification) and runs the consumer test (a new project outside
# the repository set up as README.md says).
#
#   BUILD_DIR=<libtorchinfer build dir> (default <repo>/build; any build directory works)
#   TORCHINFER_TEST_MODELS=<fixtures dir> (default $BUILD_DIR/models)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD_DIR=$(cd "${BUILD_DIR:-$repo/build}" && pwd)
export BUILD_DIR
export TORCHINFER_TEST_MODELS=${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}
# torchinfer-sys links the build tree's library (whatever directory it is in); the bindgen
# feature reads the header from the repository and version.h from $BUILD_DIR/include.
export TORCHINFER_LIB_DIR="$BUILD_DIR"
unset TORCHINFER_DIR TORCHINFER_INCLUDE_DIR
cd "$here"

echo "== cargo test --workspace"
cargo test --workspace --locked
echo "== cargo test --workspace --all-features"
cargo test --workspace --all-features --locked
echo "== cargo bench --no-run (compile only)"
cargo bench -p torchinfer --benches --no-run --locked

echo "== example: torchinfer-predict demo.pt 0.5 -1 2 0.1"
cargo build -p torchinfer-predict --locked
predict="${CARGO_TARGET_DIR:-target}/debug/torchinfer-predict"
out=$("$predict" "$TORCHINFER_TEST_MODELS/demo.pt" 0.5 -1 2 0.1)
echo "$out"
for want in '^logits: float32 \[1, 3\] = ' '^probs: float32 \[1, 3\] = '; do
  if ! grep -q "$want" <<<"$out"; then
    echo "example output lacks a line matching: $want" >&2
    exit 1
  fi
done
# The probabilities sum to 1.
if ! awk '/^probs:/ { s = $6 + $7 + $8; exit !(s > 0.9999 && s < 1.0001) }' <<<"$out"; then
  echo "example: probs do not sum to 1" >&2
  exit 1
fi
# A missing model is reported as an error with a non-zero exit status.
if "$predict" "$TORCHINFER_TEST_MODELS/no-such.pt" 2>/tmp/torchinfer-rs-err.$$; then
  echo "example: expected a failure for a missing model" >&2
  exit 1
fi
grep -q 'TI_ERR_NOT_FOUND' /tmp/torchinfer-rs-err.$$ || { cat /tmp/torchinfer-rs-err.$$ >&2; exit 1; }
rm -f /tmp/torchinfer-rs-err.$$

echo "== example: torchinfer-serve slow.pt"
serve="${CARGO_TARGET_DIR:-target}/debug/torchinfer-serve"
out=$(timeout 120 "$serve" "$TORCHINFER_TEST_MODELS/slow.pt")
echo "$out"
for want in '^short request: ok, \[32, 32\]' '^timed-out request: TI_ERR_DEADLINE_EXCEEDED after ' \
  '^abandoned request: cancelled, its thread free again after ' '^model reused: same result$'; do
  if ! grep -q "$want" <<<"$out"; then
    echo "serve example output lacks a line matching: $want" >&2
    exit 1
  fi
done

echo "== example: torchinfer-batch batch_rows.pt 64"
batch="${CARGO_TARGET_DIR:-target}/debug/torchinfer-batch"
out=$(timeout 120 "$batch" "$TORCHINFER_TEST_MODELS/batch_rows.pt" 64)
echo "$out"
for want in '^requests: 64, model calls: [0-9]+, mean batch size: ' '^every task got its own rows: ok$'; do
  if ! grep -Eq "$want" <<<"$out"; then
    echo "batch example output lacks a line matching: $want" >&2
    exit 1
  fi
done
# Batched: at least one call ran more than one task's row.
if ! awk '/^largest batch: / { exit !($3 > 1) }' <<<"$out"; then
  echo "batch example: no call ran more than one row" >&2
  exit 1
fi
echo "example: 4 passed, 0 failed"

echo "== cargo package (both crates, verified against the packaged torchinfer-sys)"
cargo package -p torchinfer-sys -p torchinfer --allow-dirty --locked
echo "== consumer test"
"$here/consumer-test.sh"
echo "rust: all tests passed"

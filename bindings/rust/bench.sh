#!/usr/bin/env bash
# The Rust binding's cost per prediction against the raw C calls, in one process: predict on
# mlp.pt ([1, 16], one intra-op thread) and copy the result out, safe API vs torchinfer-sys,
# in interleaved rounds (torchinfer/benches/overhead.rs). Non-interactive; the last line is
#
#   RESULT rust binding_us=<x> c_us=<y> over_c_us=<z>
#
#   BUILD_DIR=<libtorchinfer build dir> (default <repo>/build)
#   TORCHINFER_TEST_MODELS=<fixtures dir> (default $BUILD_DIR/models)
#   BENCH_ROUNDS, BENCH_CALLS: rounds, and calls per side and round (default 4000, 25)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD_DIR=$(cd "${BUILD_DIR:-$repo/build}" && pwd)
export TORCHINFER_TEST_MODELS=${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}
export TORCHINFER_LIB_DIR=$BUILD_DIR
cd "$here"
# Compile first (its output on stderr), so nothing follows the benchmark's own lines.
cargo bench -p torchinfer --bench overhead --locked --no-run
cargo bench -p torchinfer --bench overhead --locked -q

#!/usr/bin/env bash
# The Go binding's per-call cost against the C API, on mlp.pt ([1,16] float32 input, one intra-op
# thread), prediction plus copy-out of the result: BenchmarkGoVsC (bench_test.go) interleaves
# blocks of 200 calls of each loop in one process and reports per-run medians; this script runs it
# BENCH_COUNT times (default 5, BENCH_CALLS calls per loop each, default 40000) and prints the
# median over the runs of each figure with its spread, then, last, one summary line:
#
#   RESULT go binding_us=<PredictInto> c_us=<C loop> over_c_us=<paired difference>
#
# binding_us is PredictInto(m, dst, x) (the binding's predict + copy-out: one cgo call, no handle),
# c_us the same prediction and copy-out written in C against the C API (ti_model_predict,
# ti_outputs_copy_to, ti_outputs_free; the whole block of calls in one cgo call), over_c_us the
# median of the per-block differences between the two. Not a test: it asserts nothing. Run it
# alone (wrap it in `flock /tmp/ti-heavy.lock` on the shared development machine).
# Env: BUILD_DIR (default <repo>/build), TORCHINFER_TEST_MODELS (default $BUILD_DIR/models).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
export PKG_CONFIG_PATH="$BUILD_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CGO_ENABLED=1
export CGO_LDFLAGS="${CGO_LDFLAGS:+$CGO_LDFLAGS }-Wl,-rpath,$BUILD_DIR" # one build cache entry per build dir (see run-tests.sh)
count="${BENCH_COUNT:-5}"
calls="${BENCH_CALLS:-40000}"

cd "$here"
echo "==> $(go version); library from $BUILD_DIR; load average $(cut -d' ' -f1-3 /proc/loadavg)"
out="$(go test -run '^$' -bench '^BenchmarkGoVsC$' -benchtime "${calls}x" -count "$count" .)"
printf '%s\n' "$out" | grep '^BenchmarkGoVsC' >&2 || { printf '%s\n' "$out" >&2; exit 1; }

# One "<metric> <value>" line per figure and run; then per metric: median, min, max, in µs.
printf '%s\n' "$out" | awk '/^BenchmarkGoVsC/ { for (i = 5; i < NF; i += 2) print $(i + 1), $i }' |
  sort -k1,1 -k2,2g |
  awk '
    function flush() {
      if (name != "") {
        printf "%-22s median %8.3f us  (min %.3f, max %.3f, %d runs)\n", name, v[int((n + 1) / 2)] / 1000, v[1] / 1000, v[n] / 1000, n
        med[name] = v[int((n + 1) / 2)] / 1000
      }
    }
    $1 != name { flush(); name = $1; n = 0 }
    { v[++n] = $2 }
    END {
      flush()
      if (!("into-ns/call" in med) || !("c-ns/call" in med) || !("into-over-c-ns/call" in med)) {
        print "bench.sh: BenchmarkGoVsC did not report its figures" > "/dev/stderr"
        exit 1
      }
      printf "RESULT go binding_us=%.3f c_us=%.3f over_c_us=%.3f\n", med["into-ns/call"], med["c-ns/call"], med["into-over-c-ns/call"]
    }'

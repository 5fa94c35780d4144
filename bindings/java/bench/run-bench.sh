#!/usr/bin/env bash
# Benchmarks the Java binding against the same loop in C, in one session.
#
#   bindings/java/bench/run-bench.sh
#
# Env: BUILD_DIR (default <repo>/build: libtorchinfer.so, torchinfer.pc, models/mlp.pt),
#      JMH_ARGS (default: 1 fork, 5 x 1 s warm-up, 10 x 1 s measurement).
# Prints the JMH results, the C baseline (a separate C program, run before and after JMH), the
# paired in-process comparison (PairedBench + c_loop.c), and the differences per call.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
MODEL="$BUILD_DIR/models/mlp.pt"
MVN=(mvn -B -q -Dstyle.color=never)
JMH_ARGS=${JMH_ARGS:-"-f 1 -wi 5 -w 1s -i 10 -r 1s"}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== building (binding -> local repo, JMH module, C baseline)"
(cd "$here/.." && "${MVN[@]}" install -DskipTests)
(cd "$here" && "${MVN[@]}" package dependency:build-classpath -Dmdep.outputFile="$tmp/cp.txt")
ti_flags=$(PKG_CONFIG_PATH="$BUILD_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" pkg-config --cflags --libs torchinfer)
# shellcheck disable=SC2086
gcc -O2 -Wall -Wextra -o "$tmp/c_baseline" "$here/c_baseline.c" $ti_flags
# shellcheck disable=SC2086
gcc -O2 -Wall -Wextra -shared -fPIC -o "$tmp/libti_cloop.so" "$here/c_loop.c" $ti_flags
cp_java="$here/target/classes:$(cat "$tmp/cp.txt")"

run_c() {
  "$tmp/c_baseline" "$MODEL" 20000 15 | tee -a "$tmp/c.txt"
}

echo "== C baseline (before JMH)"
run_c
echo "== JMH"
# shellcheck disable=SC2086
java -cp "$cp_java" org.openjdk.jmh.Main PredictBench \
  $JMH_ARGS -jvmArgsAppend "-Djna.library.path=$BUILD_DIR -Dtorchinfer.bench.model=$MODEL" \
  -rf csv -rff "$tmp/jmh.csv" | tee "$tmp/jmh.txt"
echo "== C baseline (after JMH)"
run_c

echo "== paired: C loop and Java loop alternating in one process (PairedBench)"
java -Djna.library.path="$BUILD_DIR" -cp "$cp_java" org.torchinfer.bench.PairedBench "$MODEL" "$tmp/libti_cloop.so" \
  | tee "$tmp/paired.txt"

# Medians of the C runs, JMH score of predict.
c_ns=$(sed -n 's/.*median \([0-9.]*\) ns\/op.*/\1/p' "$tmp/c.txt" | sort -n | head -1)
java_ns=$(awk -F, '/PredictBench.predict"/ {print $5}' "$tmp/jmh.csv")
echo
echo "== summary (ns per predict+get+toFloatArray on mlp.pt [1,16], 1 intra-op thread)"
echo "C API (best of the two medians): $c_ns"
echo "Java binding (JMH avgt):          $java_ns"
awk -v c="$c_ns" -v j="$java_ns" 'BEGIN { printf "difference (separate processes): %.0f ns (%.1f%%)\n", j - c, 100 * (j - c) / c }'
grep 'Java layer adds' "$tmp/paired.txt" | sed 's/^/paired (same process): /'

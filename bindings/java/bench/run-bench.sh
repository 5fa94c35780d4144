#!/usr/bin/env bash
# Benchmarks the Java binding against the same loop in C, in one session.
#
#   bindings/java/bench/run-bench.sh
#
# Env: BUILD_DIR (default <repo>/build: libtorchinfer.so, torchinfer.pc, models/mlp.pt),
#      JMH_ARGS (default: 1 fork, 5 x 1 s warm-up, 10 x 1 s measurement),
#      TI_BENCH_JMH=0 to skip JMH and the separate C program (the paired part alone, ~30 s),
#      PAIRED_ARGS (default "41 5000": rounds, iterations per loop and round),
#      JAVA22_HOME (a JDK 22+; default: the newest /usr/lib/jvm/*2[2-9]* found): the paired part
#      then runs twice, on `java` (JDK 17-21: JNA throughout) and on that JDK (the FFM hot path),
#      and the RESULT line is the JDK 22+ run's. Without one, RESULT is the JNA run's.
# Prints the JMH results, the C baseline (a separate C program, run before and after JMH), the
# paired in-process comparison (PairedBench + c_loop.c) with its breakdown, and the differences
# per call. The last line is, in microseconds (medians of the paired measurement, copy-out path:
# predict + Outputs.copyTo + close against C's predict + ti_outputs_copy_to + ti_outputs_free):
#   RESULT java binding_us=<x> c_us=<y> over_c_us=<z>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
MODEL="$BUILD_DIR/models/mlp.pt"
MVN=(mvn -B -q -Dstyle.color=never)
JMH_ARGS=${JMH_ARGS:-"-f 1 -wi 5 -w 1s -i 10 -r 1s"}
TI_BENCH_JMH=${TI_BENCH_JMH:-1}
PAIRED_ARGS=${PAIRED_ARGS:-"41 5000"}
java22="${JAVA22_HOME:-}"
if [[ -z "$java22" ]]; then
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*24* /usr/lib/jvm/*23* /usr/lib/jvm/*22*; do
    [[ -x "$d/bin/javac" ]] && { java22="$d"; break; }
  done
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== building (binding -> local repo, JMH module, C baseline)"
(cd "$here/.." && "${MVN[@]}" install -DskipTests -Dtorchinfer.build.dir="$BUILD_DIR" \
  ${java22:+-Dtorchinfer.jdk22.home="$java22"})
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

if [[ "$TI_BENCH_JMH" != 0 ]]; then
  echo "== C baseline (before JMH)"
  run_c
  echo "== JMH"
  # shellcheck disable=SC2086
  java -cp "$cp_java" org.openjdk.jmh.Main PredictBench \
    $JMH_ARGS -jvmArgsAppend "-Djna.library.path=$BUILD_DIR -Dtorchinfer.bench.model=$MODEL" \
    -rf csv -rff "$tmp/jmh.csv" | tee "$tmp/jmh.txt"
  echo "== C baseline (after JMH)"
  run_c
fi

paired() { # $1: the java executable, $2: output file
  echo "== paired on $("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p'):" \
    "C loops and Java loops alternating in one process (PairedBench)"
  # shellcheck disable=SC2086
  "$1" --enable-native-access=ALL-UNNAMED -Djna.library.path="$BUILD_DIR" -cp "$cp_java" \
    org.torchinfer.bench.PairedBench "$MODEL" "$tmp/libti_cloop.so" $PAIRED_ARGS | tee "$2"
}
paired java "$tmp/paired.txt"
if [[ -n "$java22" ]]; then
  cp "$tmp/paired.txt" "$tmp/paired-jna.txt"
  paired "$java22/bin/java" "$tmp/paired.txt"
fi

echo
echo "== summary (ns per call on mlp.pt [1,16], 1 intra-op thread)"
if [[ "$TI_BENCH_JMH" != 0 ]]; then
  # Medians of the C runs, JMH score of predict (the handle path, as c_baseline).
  c_ns=$(sed -n 's/.*median \([0-9.]*\) ns\/op.*/\1/p' "$tmp/c.txt" | sort -n | head -1)
  java_ns=$(awk -F, '/PredictBench.predict"/ {print $5}' "$tmp/jmh.csv")
  echo "C API handle path (best of the two medians): $c_ns"
  echo "Java get(0).toFloatArray() (JMH avgt):        $java_ns"
  awk -v c="$c_ns" -v j="$java_ns" 'BEGIN { printf "difference (separate processes): %.0f ns (%.1f%%)\n", j - c, 100 * (j - c) / c }'
fi
if [[ -n "$java22" ]]; then
  grep 'Java layer adds' "$tmp/paired-jna.txt" | sed 's/^/paired, JDK 17, JNA: /'
  grep 'Java layer adds' "$tmp/paired.txt" | sed 's/^/paired, JDK 22+, FFM hot path: /'
else
  grep 'Java layer adds' "$tmp/paired.txt" | sed 's/^/paired (same process): /'
fi
line=$(grep '^PAIRED ' "$tmp/paired.txt")
read -r b c o < <(sed -n 's/^PAIRED binding_ns=\([-0-9.]*\) c_ns=\([-0-9.]*\) over_c_ns=\([-0-9.]*\)$/\1 \2 \3/p' <<<"$line")
if [[ -z "${o:-}" ]]; then
  echo "run-bench.sh: no PAIRED line from PairedBench" >&2
  exit 1
fi
awk -v b="$b" -v c="$c" -v o="$o" 'BEGIN { printf "RESULT java binding_us=%.3f c_us=%.3f over_c_us=%.3f\n", b / 1000, c / 1000, o / 1000 }'

#!/usr/bin/env bash
# Runs every test of the Java binding: the JUnit suite (mvn test), the example on demo.pt,
# and a compile of the benchmark (not run).
#
#   bindings/java/run-tests.sh
#
# Env: BUILD_DIR (default <repo>/build: libtorchinfer.so, torchinfer.pc),
#      TORCHINFER_TEST_MODELS (default $BUILD_DIR/models).
# Needs JDK 17+, Maven 3.8+, and (for the C half of the benchmark) gcc + pkg-config.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
MVN=(mvn -B -ntp -Dstyle.color=never -Dtorchinfer.build.dir="$BUILD_DIR")

if [[ ! -e "$BUILD_DIR/libtorchinfer.so" ]]; then
  echo "run-tests.sh: $BUILD_DIR/libtorchinfer.so not found; build the library first" >&2
  exit 1
fi

echo "== binding: mvn install (JUnit tests, then the jar into the local repository)"
(cd "$here" && "${MVN[@]}" install)

echo "== example: examples/java on demo.pt"
out="$(cd "$repo/examples/java" && "${MVN[@]}" -q compile exec:exec -Dmodel="$TORCHINFER_TEST_MODELS/demo.pt")"
echo "$out"
grep -q '^model .*demo.pt on cpu, inputs: features$' <<<"$out" || { echo "FAIL: example header" >&2; exit 1; }
names="$(sed -n 's/^\([A-Za-z0-9_.]*\): float32 \[1, 3\] = .*/\1/p' <<<"$out" | tr '\n' ' ')"
if [[ "$names" != "logits probs " ]]; then
  echo "FAIL: example printed outputs '$names', expected 'logits probs '" >&2
  exit 1
fi
# the probabilities sum to 1
sed -n 's/^probs: float32 \[1, 3\] = \[\(.*\)\]$/\1/p' <<<"$out" \
  | awk -F', ' '{ s = $1 + $2 + $3; if (s < 0.9999 || s > 1.0001) { print "FAIL: probs sum to " s > "/dev/stderr"; exit 1 } }'
echo "example: ok (outputs: $names)"

echo "== benchmark: compile only (run it with bench/run-bench.sh)"
(cd "$here/bench" && "${MVN[@]}" -q package)
if command -v gcc >/dev/null && command -v pkg-config >/dev/null; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  ti_flags=$(PKG_CONFIG_PATH="$BUILD_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" pkg-config --cflags --libs torchinfer)
  # shellcheck disable=SC2086
  gcc -O2 -Wall -Wextra -Werror -o "$tmp/c_baseline" "$here/bench/c_baseline.c" $ti_flags
  # shellcheck disable=SC2086
  gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$tmp/libti_cloop.so" "$here/bench/c_loop.c" $ti_flags
fi
echo "java: all tests passed"

#!/usr/bin/env bash
# Runs every test of the Java binding: the JUnit suite (mvn install: JDK 17, JNA throughout),
# the same suite again on a JDK 22+ when one is found (the FFM hot path), the example on
# demo.pt, a compile of the benchmark (not run), and consumer-test.sh (the installed jars used
# from a new project outside the repository, natives from the jar).
# Fails if the suite finds no tests, or skips any test other than the known ones (.pt2 fixtures
# on LibTorch 1.13, a CUDA device present).
#
#   bindings/java/run-tests.sh
#
# Env: BUILD_DIR (default <repo>/build: libtorchinfer.so, torchinfer.pc),
#      TORCHINFER_TEST_MODELS (default $BUILD_DIR/models),
#      JAVA22_HOME (a JDK 22+; default: the newest /usr/lib/jvm/*2[2-5]* with a javac; none: the
#      FFM part is neither built nor tested, and that is said).
# Needs JDK 17+, Maven 3.8+, python3, and (for the C half of the benchmark) gcc + pkg-config.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
java22="${JAVA22_HOME:-}"
if [[ -z "$java22" ]]; then
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*24* /usr/lib/jvm/*23* /usr/lib/jvm/*22*; do
    [[ -x "$d/bin/javac" ]] && { java22="$d"; break; }
  done
fi
MVN=(mvn -B -ntp -Dstyle.color=never -Dtorchinfer.build.dir="$BUILD_DIR")
# the fixtures are required here: a test skipped for want of them fails
TEST_PROPS=(-Dtorchinfer.test.models="$TORCHINFER_TEST_MODELS" -Dtorchinfer.test.require=true)

if [[ ! -e "$BUILD_DIR/libtorchinfer.so" ]]; then
  echo "run-tests.sh: $BUILD_DIR/libtorchinfer.so not found; build the library first" >&2
  exit 1
fi

# Sums the surefire reports; fails on no tests, failures, or a skip other than the known ones.
check_reports() {
  python3 - "$here/target/surefire-reports" "$1" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
allowed = ("dynamic.pt2 is not in the fixtures", "a CUDA device is present")
run = skipped = bad = 0
for f in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    for case in ET.parse(f).getroot().iter("testcase"):
        run += 1
        if case.find("failure") is not None or case.find("error") is not None:
            bad += 1
        s = case.find("skipped")
        if s is not None:
            skipped += 1
            # an assumption's message is in the element's text, a disabled class's in "message"
            msg = (s.get("message") or "") + " " + (s.text or "")
            if not any(a in msg for a in allowed):
                sys.exit(f"FAIL: {case.get('classname')}.{case.get('name')} skipped: {msg.strip()[:300]}")
if run == 0:
    sys.exit("FAIL: the JUnit run found no tests")
if bad:
    sys.exit(f"FAIL: {bad} tests failed")
print(f"{sys.argv[2]}: {run} tests, {run - skipped} passed, {skipped} skipped (known reasons)")
EOF
}

echo "== binding: mvn install on $(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')" \
  "(JUnit tests on JNA, then the jars into the local repository)"
rm -rf "$here/target/surefire-reports"
(cd "$here" && "${MVN[@]}" "${TEST_PROPS[@]}" -Dtorchinfer.test.expect.hot=jna \
  ${java22:+-Dtorchinfer.jdk22.home="$java22"} install)
check_reports "JUnit, JDK 17 (JNA)"

if [[ -n "$java22" ]]; then
  echo "== binding: the JUnit suite again on $java22 (FFM hot path)"
  rm -rf "$here/target/surefire-reports"
  (cd "$here" && "${MVN[@]}" "${TEST_PROPS[@]}" -Dtorchinfer.test.expect.hot=ffm \
    -Dtorchinfer.jdk22.home="$java22" -Djvm="$java22/bin/java" surefire:test)
  check_reports "JUnit, $(basename "$java22") (FFM)"
else
  echo "== no JDK 22+ found (set JAVA22_HOME): the FFM hot path is neither built nor tested"
fi

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

if [[ -f "$TORCHINFER_TEST_MODELS/torchvision_ops.txt" ]]; then
  echo "== example: Detect on detection.pt (structured inputs, torchvision's operator library)"
  out="$(cd "$repo/examples/java" && "${MVN[@]}" -q compile exec:exec -Dexample=Detect \
    -Dmodel="$TORCHINFER_TEST_MODELS/detection.pt")"
  echo "$out"
  grep -q 'schema: forward(Tensor\[\] images' <<<"$out" || { echo "FAIL: Detect schema" >&2; exit 1; }
  for leaf in '1.0.boxes: float32 \[[0-9]*, 4\]' '1.0.labels: int64 \[' '1.1.scores: float32 \['; do
    grep -q "^$leaf" <<<"$out" || { echo "FAIL: Detect printed no leaf matching '$leaf'" >&2; exit 1; }
  done
  echo "example Detect: ok"
else
  echo "== no torchvision_ops.txt in the fixtures: the Detect example is not run"
fi

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
echo "== consumer: the installed jars from a new project outside the repository"
"$here/consumer-test.sh"

echo "java: all tests passed"

#!/usr/bin/env bash
# Tests examples/spark, the batch-scoring job on Apache Spark:
#  1. installs the Java binding into the local Maven repository (~/.m2), its natives jar carrying
#     $BUILD_DIR/libtorchinfer.so (from a copy of bindings/java, so that its target/ is not touched;
#     the binding's own tests are not run here: bindings/java/run-tests.sh runs them);
#  2. mvn package: the JUnit tests in Spark's local mode (local[2]), then the shaded jar;
#  3. the job the way spark-submit runs it: a new JVM with Spark's jars and the shaded jar on the
#     classpath, the model shipped as spark.files (spark-submit --files) and named by file name,
#     no LD_LIBRARY_PATH, on a CSV table; its JSON output checked against reference.json.
# Fails if the JUnit run finds no tests or skips any.
#
#   examples/spark/run-tests.sh
#
# Env: BUILD_DIR (default <repo>/build: libtorchinfer.so), TORCHINFER_TEST_MODELS (default
#      $BUILD_DIR/models: demo.pt, faulty.pt, reference.json), JAVA22_HOME (as in
#      bindings/java/run-tests.sh: only to build the binding jar's FFM part, unused by Spark on 17),
#      SKIP_BINDING_INSTALL=1 (step 1 left out: the binding is already in ~/.m2, e.g. installed by
#      bindings/java/run-tests.sh from the same BUILD_DIR just before).
# Needs JDK 17 (Spark 3.5 runs on 8/11/17), Maven 3.8+, python3. The first run downloads Spark
# and its dependencies (~300 MB) into ~/.m2; later runs need no network.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
MODELS="$(cd "${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}" && pwd)"
MVN=(mvn -B -ntp -Dstyle.color=never)
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ -e "$BUILD_DIR/libtorchinfer.so" ]] || fail "$BUILD_DIR/libtorchinfer.so not found; build the library first"
for f in demo.pt faulty.pt reference.json; do
  [[ -e "$MODELS/$f" ]] || fail "$MODELS/$f not found (TORCHINFER_TEST_MODELS: the models/ of a build with tests)"
done
java22="${JAVA22_HOME:-}"
if [[ -z "$java22" ]]; then
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*24* /usr/lib/jvm/*23* /usr/lib/jvm/*22*; do
    [[ -x "$d/bin/javac" ]] && { java22="$d"; break; }
  done
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/torchinfer-spark.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if [[ "${SKIP_BINDING_INSTALL:-0}" == 1 ]]; then
  echo "== binding: SKIP_BINDING_INSTALL=1, using the org.torchinfer:torchinfer already in the local repository"
else
  echo "== binding: org.torchinfer:torchinfer and its natives jar ($BUILD_DIR/libtorchinfer.so) into the local repository"
  mkdir "$tmp/binding"
  cp -a "$repo/bindings/java/pom.xml" "$repo/bindings/java/src" "$tmp/binding/"
  (cd "$tmp/binding" && "${MVN[@]}" -q install -Dmaven.test.skip=true -Dmaven.javadoc.skip=true \
    -Dmaven.source.skip=true -Dtorchinfer.native.dir="$BUILD_DIR" ${java22:+-Dtorchinfer.jdk22.home="$java22"}) \
    >"$tmp/install.log" 2>&1 || { tail -40 "$tmp/install.log"; fail "installing the binding"; }
fi

echo "== JUnit in Spark local mode (local[2]), then the shaded jar"
rm -rf "$here/target/surefire-reports"
# no LD_LIBRARY_PATH and no jna.library.path: the natives come from the natives jar
(cd "$here" && env -u LD_LIBRARY_PATH "${MVN[@]}" package -Dtorchinfer.test.models="$MODELS")
python3 - "$here/target/surefire-reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
run = bad = skipped = 0
for f in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    for case in ET.parse(f).getroot().iter("testcase"):
        run += 1
        bad += case.find("failure") is not None or case.find("error") is not None
        skipped += case.find("skipped") is not None
if run == 0:
    sys.exit("FAIL: the JUnit run found no tests")
if bad or skipped:
    sys.exit(f"FAIL: {bad} tests failed, {skipped} skipped")
print(f"JUnit (Spark local[2]): {run} tests, {run} passed")
PY

jar="$here/target/torchinfer-spark-0.1.0-SNAPSHOT-all.jar"
listing="$(unzip -l "$jar")"
for entry in linux-x86-64/libtorchinfer.so org/torchinfer/Model.class com/sun/jna/Native.class \
    org/torchinfer/examples/spark/ScoreJob.class; do
  grep -q " $entry\$" <<<"$listing" || fail "$entry is not in the shaded jar"
done
if grep -q ' org/apache/spark/' <<<"$listing"; then fail "the shaded jar holds Spark's classes (it is provided)"; fi
cmp -s <(unzip -p "$jar" linux-x86-64/libtorchinfer.so) "$BUILD_DIR/libtorchinfer.so" \
  || fail "the shaded jar's libtorchinfer.so is not $BUILD_DIR's"
echo "shaded jar: $(basename "$jar") ($(du -k "$jar" | cut -f1) KiB, Spark left out, natives in)"

echo "== the job as spark-submit runs it: Spark's jars + the shaded jar, --files demo.pt, CSV in, JSON out"
(cd "$here" && "${MVN[@]}" -q dependency:build-classpath -Dmdep.includeScope=provided -Dmdep.outputFile="$tmp/spark.cp")
python3 - "$MODELS/reference.json" "$tmp/table.csv" <<'PY'
import json, random, sys
case = next(c for c in json.load(open(sys.argv[1]))["cases"] if c["name"] == "demo")
demo = case["inputs"][0]["data"]
rnd = random.Random(5)
with open(sys.argv[2], "w") as f:
    f.write("id,f0,f1,f2,f3\n")
    for i in range(200):
        x = demo if i % 50 == 0 else [round(rnd.gauss(0, 2), 5) for _ in range(4)]
        cells = [repr(float(v)) for v in x]
        if i == 77:
            cells[2] = ""  # a missing value: a null prediction and an error, not a failed job
        f.write(f"{i},{','.join(cells)}\n")
PY
spark_opts="$(sed -n 's:.*<spark.jvm.options>\(.*\)</spark.jvm.options>.*:\1:p' "$here/pom.xml")"
[[ -n "$spark_opts" ]] || fail "no spark.jvm.options in pom.xml"
# shellcheck disable=SC2086
(cd "$tmp" && env -u LD_LIBRARY_PATH -u JAVA_TOOL_OPTIONS SPARK_LOCAL_IP=127.0.0.1 java $spark_opts -Xmx1g \
  -Dspark.files="$MODELS/demo.pt" -Dspark.ui.enabled=false \
  -Dlog4j2.configurationFile="$here/src/test/resources/log4j2.properties" \
  -cp "$jar:$(cat "$tmp/spark.cp")" org.torchinfer.examples.spark.ScoreJob --master 'local[2]' \
  --input "$tmp/table.csv" --features f0,f1,f2,f3 --model demo.pt --batch-size 32 \
  --output "$tmp/scored" --output-format json) >"$tmp/job.out" 2>&1 || { cat "$tmp/job.out"; fail "the job failed"; }
grep '^scored ' "$tmp/job.out"
grep -q '^scored 199 rows, rejected 1 ' "$tmp/job.out" || fail "expected 199 rows scored and 1 rejected"
python3 - "$MODELS/reference.json" "$tmp/scored" <<'PY'
import glob, json, sys
case = next(c for c in json.load(open(sys.argv[1]))["cases"] if c["name"] == "demo")
want = next(o["data"] for o in case["outputs"] if o["name"] == "probs")
rows = [json.loads(l) for f in sorted(glob.glob(sys.argv[2] + "/part-*.json")) for l in open(f)]
ids = sorted(r["id"] for r in rows)
assert ids == list(range(200)), f"ids {ids[:5]}... ({len(ids)} rows)"
for r in rows:
    if r["id"] == 77:
        assert "probs" not in r and "label" not in r and r.get("error") == "f2 is null", r
        continue
    p = r["probs"]
    assert "error" not in r and len(p) == 3 and abs(sum(p) - 1) < 1e-5, r
    assert r["label"] == max(range(3), key=lambda k: p[k]), r
    if r["id"] % 50 == 0:
        assert all(abs(a - b) <= 1e-6 + 1e-5 * abs(b) for a, b in zip(p, want)), (r, want)
print("job output: 200 rows; the 4 reference rows match reference.json; row 77: null prediction, error 'f2 is null'")
PY

echo "spark: all tests passed"

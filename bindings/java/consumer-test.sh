#!/usr/bin/env bash
# Uses the binding the way an application does: installs it (without fixtures, so its JUnit tests
# are skipped) into a temporary local Maven repository, then builds a new Maven project in a
# temporary directory outside the repository that depends on org.torchinfer:torchinfer and its
# natives jar (classifier linux-x86_64), and runs one prediction on demo.pt with no
# jna.library.path, no torchinfer.* property and no LD_LIBRARY_PATH: JNA must find
# libtorchinfer.so in the natives jar. Checks the printed values against reference.json, that
# explicit paths still win over the jar, and, when a JDK 22+ is at hand, what
# --enable-native-access=ALL-UNNAMED changes.
#
#   bindings/java/consumer-test.sh
#
# Env: BUILD_DIR (default <repo>/build), TORCHINFER_TEST_MODELS (default $BUILD_DIR/models: only
#      demo.pt and reference.json are read), JAVA22_HOME (a JDK 22+; default: the newest
#      /usr/lib/jvm/*25*, *24*, *23* or *22* found; none: that part is skipped, said so).
# Needs JDK 17+, Maven 3.8+, python3. Called by run-tests.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
MODELS="$(cd "${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/torchinfer-consumer.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
case "$tmp/" in "$repo"/*) echo "consumer-test.sh: $tmp is inside the repository" >&2; exit 1 ;; esac

fail() { echo "FAIL: $*" >&2; exit 1; }

# A JDK 22+ builds the jar's FFM part (META-INF/versions/22) and runs the consumer once more.
java22="${JAVA22_HOME:-}"
if [[ -z "$java22" ]]; then
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*24* /usr/lib/jvm/*23* /usr/lib/jvm/*22*; do
    [[ -x "$d/bin/javac" ]] && { java22="$d"; break; }
  done
fi

# A local repository of its own, seeded from ~/.m2 so that Maven's plugins and JNA need no
# network; any torchinfer already installed there is left out.
m2="$tmp/m2"
mkdir -p "$m2"
if [[ -d "$HOME/.m2/repository" ]]; then
  cp -a "$HOME/.m2/repository/." "$m2/"
  rm -rf "$m2/org/torchinfer"
fi
MVN=(mvn -B -ntp -Dstyle.color=never -Dmaven.repo.local="$m2")

echo "== consumer: install the binding into $m2 (no fixtures: tests skipped)"
# The README's install command. No TORCHINFER_TEST_MODELS: a user without fixtures.
(cd "$here" && env -u TORCHINFER_TEST_MODELS "${MVN[@]}" install -Dtorchinfer.native.dir="$BUILD_DIR" \
  ${java22:+-Dtorchinfer.jdk22.home="$java22"}) \
  >"$tmp/install.log" 2>&1 || { tail -40 "$tmp/install.log"; fail "mvn install without fixtures"; }
grep -E '^\[WARNING\] Tests run: [1-9][0-9]*, Failures: 0, Errors: 0, Skipped: [1-9]' "$tmp/install.log" | tail -1 \
  || { tail -40 "$tmp/install.log"; fail "expected the JUnit tests to be reported as skipped"; }
grep -q 'no fixtures configured, test skipped' "$here/target/surefire-reports/"*.xml \
  || fail "the skipped tests do not say why"
if grep -q 'filename-based automodules' "$tmp/install.log"; then fail "maven warned about automodules"; fi
installed="$m2/org/torchinfer/torchinfer/0.1.0-SNAPSHOT"
for suffix in "" -linux-x86_64 -sources -javadoc; do
  [[ -f "$installed/torchinfer-0.1.0-SNAPSHOT$suffix.jar" ]] || fail "torchinfer-0.1.0-SNAPSHOT$suffix.jar not installed"
done
# (no `unzip | grep -q`: grep's early exit would fail unzip with SIGPIPE under pipefail)
manifest="$(unzip -p "$installed/torchinfer-0.1.0-SNAPSHOT.jar" META-INF/MANIFEST.MF)"
grep -q '^Automatic-Module-Name: org.torchinfer' <<<"$manifest" || fail "no Automatic-Module-Name in the jar's manifest"
natives="$(unzip -l "$installed/torchinfer-0.1.0-SNAPSHOT-linux-x86_64.jar")"
grep -q ' linux-x86-64/libtorchinfer.so$' <<<"$natives" || fail "linux-x86-64/libtorchinfer.so is not in the natives jar"
cmp -s <(unzip -p "$installed/torchinfer-0.1.0-SNAPSHOT-linux-x86_64.jar" linux-x86-64/libtorchinfer.so) \
  "$BUILD_DIR/libtorchinfer.so" || fail "the natives jar's libtorchinfer.so is not $BUILD_DIR's"
echo "installed: $(cd "$installed" && ls ./*.jar | tr '\n' ' ')"

echo "== consumer: a new project in $tmp/app"
app="$tmp/app"
mkdir -p "$app/src/main/java/example"
cat >"$app/pom.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>consumer</artifactId>
  <version>1</version>
  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>17</maven.compiler.release>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.torchinfer</groupId>
      <artifactId>torchinfer</artifactId>
      <version>0.1.0-SNAPSHOT</version>
    </dependency>
    <dependency>
      <groupId>org.torchinfer</groupId>
      <artifactId>torchinfer</artifactId>
      <version>0.1.0-SNAPSHOT</version>
      <classifier>linux-x86_64</classifier>
      <scope>runtime</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.13.0</version>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-resources-plugin</artifactId>
        <version>3.3.1</version>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.6.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
cat >"$app/src/main/java/example/Main.java" <<'EOF'
package example;

import java.nio.file.Path;
import java.util.Arrays;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;

public final class Main {
  public static void main(String[] args) {
    try (Model model = Model.load(Path.of(args[0]));
         Tensor x = Tensor.of(new float[] {0.5f, -1f, 2f, 0.1f}, 1, 4);
         Outputs out = model.predict(x)) {
      float[] probs = new float[3];
      out.copyTo(out.index("probs"), probs);
      System.out.println("logits: " + Arrays.toString(out.get("logits").toFloatArray()));
      System.out.println("probs: " + Arrays.toString(probs));
    }
    System.out.println("library: " + TorchInfer.libraryFile());
    System.out.println("hot path: " + TorchInfer.hotPath());
    System.out.println("live handles: " + TorchInfer.liveHandles());
  }
}
EOF
(cd "$app" && "${MVN[@]}" -q package dependency:build-classpath -Dmdep.outputFile="$app/cp.txt") \
  || fail "the consumer project does not build"
cp_app="$app/target/classes:$(cat "$app/cp.txt")"
grep -q 'torchinfer-0.1.0-SNAPSHOT-linux-x86_64.jar' <<<"$cp_app" || fail "natives jar not on the classpath"

# Runs the consumer with a clean environment: no LD_LIBRARY_PATH, no JAVA_TOOL_OPTIONS; "$@" are
# extra JVM options. Output (stdout and stderr) in $tmp/run.out.
run_app() {
  local java="$1"
  shift
  (cd "$app" && env -u LD_LIBRARY_PATH -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS -u JDK_JAVA_OPTIONS \
    "$java" "$@" -cp "$cp_app" example.Main "$MODELS/demo.pt") >"$tmp/run.out" 2>&1 \
    || { cat "$tmp/run.out"; fail "the consumer failed ($java $*)"; }
}

check_values() {
  python3 - "$MODELS/reference.json" "$tmp/run.out" <<'EOF'
import json, re, sys
ref = json.load(open(sys.argv[1]))
case = next(c for c in ref["cases"] if c["model"] == "demo.pt" and c["name"] == "demo")
assert case["inputs"][0]["data"][:3] == [0.5, -1.0, 2.0], "reference input changed"
got = {}
for line in open(sys.argv[2]):
    m = re.match(r"^(logits|probs): \[(.*)\]$", line.strip())
    if m:
        got[m.group(1)] = [float(v) for v in m.group(2).split(", ")]
for out in case["outputs"]:
    want, have = out["data"], got.get(out["name"])
    if have is None or len(have) != len(want) or any(abs(a - b) > 1e-5 for a, b in zip(have, want)):
        sys.exit(f"FAIL: {out['name']} = {have}, reference.json says {want}")
print("values match reference.json:", ", ".join(f"{k}={v}" for k, v in got.items()))
EOF
}

echo "== consumer: no property, no LD_LIBRARY_PATH (library from the natives jar)"
run_app java
cat "$tmp/run.out"
check_values
lib="$(sed -n 's/^library: //p' "$tmp/run.out")"
[[ "$lib" == /* && "$lib" != "$BUILD_DIR"/* && "$lib" != "$repo"/* ]] \
  || fail "library loaded from '$lib', expected a file extracted from the natives jar"
grep -q '^live handles: 0$' "$tmp/run.out" || fail "live handles not back at 0"
grep -q '^hot path: jna$' "$tmp/run.out" || fail "expected the JNA hot path on $(java -version 2>&1 | head -1)"

echo "== consumer: explicit paths still win over the natives jar"
for prop in jna.library.path torchinfer.library.path; do
  run_app java "-D$prop=$BUILD_DIR"
  check_values >/dev/null
  lib="$(sed -n 's/^library: //p' "$tmp/run.out")"
  [[ "$lib" == "$BUILD_DIR/libtorchinfer.so" ]] || fail "-D$prop=$BUILD_DIR loaded '$lib'"
  echo "-D$prop: $lib"
done

if [[ -n "$java22" ]]; then
  echo "== consumer: JDK $("$java22/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p') ($java22)"
  run_app "$java22/bin/java"
  check_values >/dev/null
  grep -q '^WARNING: A restricted method in java.lang.System has been called' "$tmp/run.out" \
    || { cat "$tmp/run.out"; fail "expected JNA's restricted-method warning without --enable-native-access"; }
  echo "without --enable-native-access: $(grep -c '^WARNING' "$tmp/run.out") WARNING lines (JNA's System::load)"
  run_app "$java22/bin/java" --enable-native-access=ALL-UNNAMED
  check_values >/dev/null
  if grep -q '^WARNING' "$tmp/run.out"; then cat "$tmp/run.out"; fail "warnings despite --enable-native-access=ALL-UNNAMED"; fi
  grep -q '^hot path: ffm$' "$tmp/run.out" || fail "expected the FFM hot path on a JDK 22+"
  echo "with --enable-native-access=ALL-UNNAMED: no warning, same values, hot path: ffm"
else
  echo "== consumer: no JDK 22+ found (set JAVA22_HOME): --enable-native-access check skipped"
fi
echo "consumer: ok"

#!/usr/bin/env bash
# Reports how the bindings' public APIs changed since a base commit: Go with apidiff
# (golang.org/x/exp/cmd/apidiff), Rust with cargo-semver-checks, Java with japicmp's Maven
# plugin (tests/abi/japicmp/pom.xml). A report, not a gate: it exits 0 whatever changed, unless
# --strict is given (then an incompatible change in any binding that was checked fails it).
# A tool that is missing is said and skipped (apidiff is installed on first use, about 20 s);
# for Rust, without cargo-semver-checks (not installed here: see README.md), the public items
# of rustdoc's JSON are compared (rustdoc_diff.py).
#
#   tests/abi/api-report.sh [--base REF] [--head REF] [--strict] [go] [rust] [java]
#
#   --base REF  the old side (default: the commit tests/abi/libtorchinfer.abi was made from,
#               BASE below; move both together when a release is cut)
#   --head REF  the new side (default: the working tree, uncommitted changes included)
#   go rust java  the bindings to report on (default: all three)
# Needs git, and per binding: go (and gcc: cgo), cargo + python3, mvn + a JDK 17. No library build is
# needed: each side is type-checked or compiled from its own sources and headers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BASE=8e649d2 # the commit tests/abi/libtorchinfer.abi was generated from
APIDIFF_VERSION=v0.0.0-20261113113407-e3970619a1a4
tools="${TI_CACHE_DIR:-$HOME/.cache/torchinfer}/tools"

base="$BASE" head="" strict=0 langs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --head) head="$2"; shift 2 ;;
    --strict) strict=1; shift ;;
    go | rust | java) langs+=("$1"); shift ;;
    *) echo "usage: $0 [--base REF] [--head REF] [--strict] [go] [rust] [java]" >&2; exit 2 ;;
  esac
done
((${#langs[@]})) || langs=(go rust java)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
step() { printf '\n==> %s\n' "$*"; }

# The two sides as plain trees: old from git, new from git or the working tree.
paths=(include cmake bindings/go bindings/rust bindings/java examples/rust)
mkdir -p "$tmp/old" "$tmp/new"
git -C "$repo" archive "$base" "${paths[@]}" | tar -x -C "$tmp/old"
if [[ -n "$head" ]]; then
  git -C "$repo" archive "$head" "${paths[@]}" | tar -x -C "$tmp/new"
  new_name="$head"
else
  # the working tree without build outputs (bindings/rust/target alone may hold gigabytes)
  tar -C "$repo" --exclude=target -cf - "${paths[@]}" | tar -x -C "$tmp/new"
  new_name="the working tree"
fi
# Each side's generated header (version macros only) from its own template.
for side in old new; do
  mkdir -p "$tmp/$side/gen/torchinfer"
  sed 's/@[A-Z_]*@/0/g' "$tmp/$side/cmake/version.h.in" >"$tmp/$side/gen/torchinfer/version.h"
done
echo "api-report: $base ($(git -C "$repo" log -1 --format='%h %s' "$base" | cut -c1-60)) -> $new_name"

broken=()
declare -A took

go_report() {
  step "Go: apidiff (bindings/go)"
  command -v go >/dev/null || { echo "go not found: skipped"; return; }
  local apidiff="$tools/bin/apidiff"
  if [[ ! -x "$apidiff" ]]; then
    echo "installing apidiff $APIDIFF_VERSION into $tools/bin"
    GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "golang.org/x/exp/cmd/apidiff@$APIDIFF_VERSION"
  fi
  local module=github.com/torchinfer/libtorchinfer/bindings/go side
  for side in old new; do
    # cgo only needs the headers to type-check: flags by hand instead of pkg-config.
    (cd "$tmp/$side/bindings/go" &&
      CGO_ENABLED=1 GOFLAGS=-tags=torchinfer_nopkgconfig \
        CGO_CFLAGS="-I$tmp/$side/include -I$tmp/$side/gen" \
        "$apidiff" -m -w "$tmp/go-$side.api" "$module") 2>&1 | grep -v '^Ignoring internal package' || true
    [[ -s "$tmp/go-$side.api" ]] || { echo "apidiff could not load the $side side"; broken+=("go (not loaded)"); return; }
  done
  local report
  report="$(cd "$tmp" && "$apidiff" -m "$tmp/go-old.api" "$tmp/go-new.api" 2>&1 | grep -v '^Ignoring internal package')"
  echo "${report:-no changes}"
  if (cd "$tmp" && "$apidiff" -m -incompatible "$tmp/go-old.api" "$tmp/go-new.api" 2>/dev/null) | grep -q .; then
    broken+=(go)
  fi
}

rust_report() {
  step "Rust: bindings/rust (torchinfer-sys, torchinfer)"
  command -v cargo >/dev/null || { echo "cargo not found: skipped"; return; }
  # DOCS_RS: torchinfer-sys's build script then looks for no library (rustdoc needs none).
  # Both workspaces list examples/rust (publish = false, so not checked), which the archive
  # brings along.
  if cargo semver-checks --version >/dev/null 2>&1; then
    echo "cargo-semver-checks $(cargo semver-checks --version | awk '{print $2}')"
    if ! DOCS_RS=1 CARGO_TARGET_DIR="$tmp/cargo-target" cargo semver-checks check-release \
      --manifest-path "$tmp/new/bindings/rust/Cargo.toml" --workspace \
      --baseline-root "$tmp/old/bindings/rust" --release-type minor 2>&1; then
      broken+=(rust)
    fi
    return
  fi
  # Without cargo-semver-checks (its build takes far longer than a report may here): the public
  # items of each side's rustdoc JSON (RUSTC_BOOTSTRAP: the JSON output is unstable), compared by
  # rustdoc_diff.py. A removed item or a changed signature is flagged.
  echo "cargo-semver-checks not installed (cargo install cargo-semver-checks --locked):" \
    "comparing the public items of rustdoc's JSON instead"
  local side crate
  for side in old new; do
    for crate in torchinfer-sys torchinfer; do
      (cd "$tmp/$side/bindings/rust" && DOCS_RS=1 RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$tmp/rustdoc-$side" \
        cargo rustdoc -q -p "$crate" --lib -- -Z unstable-options --output-format json) >"$tmp/rustdoc-$side.log" 2>&1 || {
        tail -20 "$tmp/rustdoc-$side.log"
        echo "rustdoc failed on the $side side"
        broken+=("rust (no rustdoc)")
        return
      }
    done
  done
  for crate in torchinfer_sys torchinfer; do
    echo "-- $crate"
    python3 "$here/rustdoc_diff.py" "$tmp/rustdoc-old/doc/$crate.json" "$tmp/rustdoc-new/doc/$crate.json" ||
      broken+=("rust ($crate)")
  done
}

java_report() {
  step "Java: japicmp (bindings/java, public API of the main jar)"
  command -v mvn >/dev/null || { echo "mvn not found: skipped"; return; }
  local side
  for side in old new; do
    (cd "$tmp/$side/bindings/java" &&
      mvn -B -ntp -q -Dstyle.color=never package -DskipTests -Dtorchinfer.natives.skip=true \
        -Dmaven.javadoc.skip=true -Dmaven.source.skip=true) >"$tmp/mvn-$side.log" 2>&1 || {
      tail -20 "$tmp/mvn-$side.log"
      echo "the $side jar did not build"
      broken+=("java (not built)")
      return
    }
  done
  local jar old_jar
  jar="$(cd "$tmp/new/bindings/java/target" && ls torchinfer-*.jar | grep -v -- '-linux-\|-sources\|-javadoc' | head -1)"
  old_jar="$(cd "$tmp/old/bindings/java/target" && ls torchinfer-*.jar | grep -v -- '-linux-\|-sources\|-javadoc' | head -1)"
  mvn -B -ntp -q -Dstyle.color=never -f "$here/japicmp/pom.xml" verify \
    -Dold.jar="$tmp/old/bindings/java/target/$old_jar" -Dnew.jar="$tmp/new/bindings/java/target/$jar" \
    -Dreport.dir="$tmp/japicmp" >"$tmp/japicmp.log" 2>&1 || { cat "$tmp/japicmp.log"; broken+=("java (japicmp failed)"); return; }
  cat "$tmp/japicmp/japicmp/japicmp.diff"
  echo
  # japicmp marks an incompatible change with "!" after its ***, +++ or --- prefix.
  if grep -Eq '^ *(\*\*\*|\+\+\+|---)!' "$tmp/japicmp/japicmp/japicmp.diff"; then broken+=(java); fi
}

for lang in "${langs[@]}"; do
  start=$SECONDS
  "${lang}_report"
  took[$lang]=$((SECONDS - start))
done

step "summary"
for lang in "${langs[@]}"; do echo "$lang: ${took[$lang]} s"; done
if ((${#broken[@]})); then
  echo "incompatible changes (or a report that could not run): ${broken[*]}"
  ((strict)) && exit 1
else
  echo "no incompatible changes in: ${langs[*]}"
fi
exit 0

#!/usr/bin/env bash
# Uses the crates the way README.md ("Use it from your crate") tells a user to, in a new cargo
# project outside the repository: runs the README's install block, writes the README's quick
# start as src/main.rs, runs the README's build-and-run block, and checks the printed values
# against reference.json. The blocks are read from README.md (between the `consumer-test:`
# markers) and run as they are, with HOME pointing at a temporary directory (so `~` and `cd ~`
# stay inside it) and, when BUILD_DIR is not <repo>/build, that directory in place of `build`.
#
# Then checks what the README claims about it: no bindgen/libclang in the dependency tree, the
# binary's RUNPATH names the install prefix and it runs without LD_LIBRARY_PATH, and
# DEP_TORCHINFER_LIB_DIR follows the library when it moves (another prefix found through
# pkg-config; a bare directory holding libtorchinfer.so, without any header, through
# TORCHINFER_LIB_DIR).
#
#   BUILD_DIR=<libtorchinfer build dir> (default <repo>/build)
#   TORCHINFER_TEST_MODELS=<fixtures dir> (default $BUILD_DIR/models)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD_DIR=$(cd "${BUILD_DIR:-$repo/build}" && pwd)
models=${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}
readme="$here/README.md"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/torchinfer-rust-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"

fail() {
  echo "consumer-test: $*" >&2
  exit 1
}

# The first fenced block after the line `<!-- consumer-test: NAME -->` in README.md.
block() {
  awk -v marker="<!-- consumer-test: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$readme"
}

# The README's blocks, with the build directory substituted when it is not <repo>/build.
readme_block() {
  local text
  text=$(block "$1")
  [[ -n "$text" ]] || fail "README.md has no block after <!-- consumer-test: $1 -->"
  if [[ "$BUILD_DIR" != "$repo/build" ]]; then
    text=${text//"cmake --install build "/"cmake --install $BUILD_DIR "}
    text=${text//'$TORCHINFER_REPO/build/'/"$BUILD_DIR/"}
  fi
  printf '%s\n' "$text"
}

# Runs a README block in a clean user environment: HOME is the temporary directory, the
# toolchain stays the one of this machine, and nothing of this repository's test environment
# (library paths, target directory) leaks in.
run_as_user() {
  local dir=$1 script=$2
  (
    cd "$dir"
    env -u LD_LIBRARY_PATH -u CARGO_TARGET_DIR -u PKG_CONFIG_PATH -u TORCHINFER_DIR \
      -u TORCHINFER_LIB_DIR -u TORCHINFER_INCLUDE_DIR -u TORCHINFER_TEST_MODELS \
      CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
      HOME="$tmp/home" bash -euo pipefail -c "$script"
  )
}

install_block=$(readme_block install)
main_rs=$(readme_block main.rs)
run_block=$(readme_block run)

echo "== README install block (in $repo, HOME=$tmp/home)"
printf '%s\n' "$install_block" | sed 's/^/    /'
# The quick start goes into src/main.rs between the install and the run block, as the README
# says; both blocks share one shell so that the install block's exports reach the run block.
main_file="$tmp/main.rs"
printf '%s\n' "$main_rs" >"$main_file"
out=$(run_as_user "$repo" "$install_block
cp '$main_file' src/main.rs
$run_block") || fail "the README's blocks failed"
echo "$out"

app="$tmp/home/myapp"
[[ -x "$app/target/debug/myapp" ]] || fail "no binary at $app/target/debug/myapp"
prefix="$tmp/home/.local/torchinfer"
[[ -f "$prefix/lib/pkgconfig/torchinfer.pc" ]] || fail "the install block made no prefix at $prefix"

# Values: demo.pt on [0.5, -1, 2, 0.1], against reference.json.
check_values() {
  python3 - "$models/reference.json" "$1" <<'EOF'
import json, re, sys
ref = json.load(open(sys.argv[1]))
case = next(c for c in ref["cases"] if c["name"] == "demo")
printed = {}
for line in sys.argv[2].splitlines():
    m = re.match(r"^(\w+): \[([\d, ]*)\] \[(.*)\]$", line)
    if m:
        printed[m.group(1)] = ([int(s) for s in m.group(2).split(",")], [float(v) for v in m.group(3).split(",")])
for o in case["outputs"]:
    shape, values = printed.get(o["name"], (None, None))
    if shape != o["shape"]:
        sys.exit(f"{o['name']}: shape {shape}, expected {o['shape']}")
    for got, want in zip(values, o["data"]):
        if abs(got - want) > 1e-5 * max(1.0, abs(want)):
            sys.exit(f"{o['name']}: {values}, expected {o['data']}")
    print(f"  {o['name']}: {shape} matches reference.json")
EOF
}
check_values "$out" || fail "printed values do not match reference.json"

echo "== checks"
# Pre-generated bindings: nothing in the build needs libclang.
tree=$(cd "$app" && env -u CARGO_TARGET_DIR cargo tree --prefix none -e normal,build)
if grep -Eq '^(bindgen|clang-sys) ' <<<"$tree"; then
  fail "the default build depends on bindgen/clang-sys:\n$tree"
fi
echo "  no bindgen or clang-sys in the dependency tree"

runpath() {
  readelf -d "$app/target/debug/myapp" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p'
}
[[ "$(runpath)" == *"$prefix/lib"* ]] || fail "RUNPATH '$(runpath)' lacks $prefix/lib"
echo "  RUNPATH $(runpath)"
out=$(env -u LD_LIBRARY_PATH "$app/target/debug/myapp" "$models/demo.pt")
check_values "$out" >/dev/null || fail "the binary run directly printed other values"
echo "  runs without LD_LIBRARY_PATH"

# Another prefix, found through pkg-config: the build script reruns and the rpath follows.
cmake --install "$BUILD_DIR" --prefix "$tmp/prefix2" >/dev/null
run_as_user "$app" "export PKG_CONFIG_PATH='$tmp/prefix2/lib/pkgconfig'; cargo build -q"
[[ "$(runpath)" == *"$tmp/prefix2/lib"* && "$(runpath)" != *"$prefix/lib"* ]] ||
  fail "after switching to pkg-config, RUNPATH is '$(runpath)'"
env -u LD_LIBRARY_PATH "$app/target/debug/myapp" "$models/demo.pt" >/dev/null
echo "  pkg-config prefix: RUNPATH $(runpath)"

# A directory holding just the library (a build tree anywhere; no header anywhere near it).
mkdir -p "$tmp/bare"
cp -P "$BUILD_DIR"/libtorchinfer.so* "$tmp/bare/"
[[ -e "$tmp/bare/libtorchinfer.so" ]] || fail "no libtorchinfer.so in $BUILD_DIR"
run_as_user "$app" "export TORCHINFER_LIB_DIR='$tmp/bare'; cargo build -q"
[[ "$(runpath)" == *"$tmp/bare"* ]] || fail "with TORCHINFER_LIB_DIR, RUNPATH is '$(runpath)'"
out=$(env -u LD_LIBRARY_PATH "$app/target/debug/myapp" "$models/demo.pt")
check_values "$out" >/dev/null || fail "the binary linked from $tmp/bare printed other values"
echo "  TORCHINFER_LIB_DIR without headers: RUNPATH $(runpath)"

echo "consumer: all checks passed"

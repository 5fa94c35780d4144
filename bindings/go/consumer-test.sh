#!/usr/bin/env bash
# Uses the Go binding from outside the repository, the way README.md ("Use it from your own
# module") tells a user to: install the library with `cmake --install` into a temporary prefix,
# make a new module in a temporary directory that requires the binding through a `replace`
# directive, build it against the installed torchinfer.pc, and run it on demo.pt. main.go and the
# expected output are taken from README.md itself, so the README cannot drift from what works.
# Env: BUILD_DIR (default <repo>/build), TORCHINFER_TEST_MODELS (default $BUILD_DIR/models).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
models="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
readme="$here/README.md"

fail() { echo "consumer-test.sh: $*" >&2; exit 1; }

# main.go: the heredoc after `cat > main.go <<'EOF'`; the expected line: after `# prints: `.
main_go="$(awk '/^cat > main.go <<.EOF.$/ {on = 1; next} on && /^EOF$/ {exit} on {print}' "$readme")"
want="$(sed -n 's/.*# prints: //p' "$readme" | head -n 1)"
[ -n "$main_go" ] || fail "no main.go heredoc in $readme"
[ -n "$want" ] || fail "no '# prints:' line in $readme"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/torchinfer-go-consumer.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
case "$tmp/" in "$repo"/*) fail "temporary directory $tmp is inside the repository" ;; esac

# The user's environment: nothing inherited from run-tests.sh or the build tree.
unset CGO_CFLAGS CGO_LDFLAGS LD_LIBRARY_PATH GOFLAGS
prefix="$tmp/prefix"
cmake --install "$BUILD_DIR" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export CGO_LDFLAGS="-Wl,-rpath,$prefix/lib"
pkg-config --exists torchinfer || fail "pkg-config cannot find torchinfer.pc under $prefix"

mkdir "$tmp/hello"
cd "$tmp/hello"
go mod init example.com/hello >/dev/null 2>&1
go mod edit -require=github.com/torchinfer/libtorchinfer/bindings/go@v0.0.0 \
  -replace=github.com/torchinfer/libtorchinfer/bindings/go="$repo/bindings/go"
printf '%s\n' "$main_go" >main.go
go build -o hello .

# The binary must load the installed library, not the build tree's: Go's build cache does not
# key cgo packages on pkg-config's output (see README.md), CGO_LDFLAGS makes the key differ.
lib="$(ldd ./hello | awk '$1 == "libtorchinfer.so.0" {print $3}')"
[ "$lib" = "$prefix/lib/libtorchinfer.so.0" ] || fail "hello loads libtorchinfer from '$lib', not $prefix/lib"
got="$(./hello "$models/demo.pt")"
echo "hello $models/demo.pt: $got"
[ "$got" = "$want" ] || fail "printed '$got', README.md says '$want'"

# Without the rpath, the installed library is found through LD_LIBRARY_PATH (LibTorch itself is
# found through libtorchinfer's own RUNPATH in both cases).
export CGO_LDFLAGS="-L$prefix/lib"
go build -o hello-norpath .
if ! ldconfig -p 2>/dev/null | grep -q 'libtorchinfer\.so\.0 '; then
  if out="$(./hello-norpath "$models/demo.pt" 2>&1)"; then
    fail "hello without rpath ran without LD_LIBRARY_PATH (README says it needs it): $out"
  fi
  case "$out" in *"libtorchinfer.so.0: cannot open shared object file"*) ;; *) fail "unexpected failure: $out" ;; esac
fi
got="$(LD_LIBRARY_PATH="$prefix/lib" ./hello-norpath "$models/demo.pt")"
[ "$got" = "$want" ] || fail "with LD_LIBRARY_PATH: printed '$got', README.md says '$want'"
echo "consumer module outside the repository: ok (installed library, rpath and LD_LIBRARY_PATH)"

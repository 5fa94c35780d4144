#!/usr/bin/env bash
# Runs every Go test: the binding (plain and -race), a module outside the repository that uses it
# from an installed copy of the library (consumer-test.sh), and the example service.
# Env: BUILD_DIR (default <repo>/build) holds libtorchinfer.so and torchinfer.pc;
#      TORCHINFER_TEST_MODELS (default $BUILD_DIR/models) holds the fixtures.
# Benchmarks are compiled (go vet / go test build them) but not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
export PKG_CONFIG_PATH="$BUILD_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CGO_ENABLED=1
# Go's build cache does not key cgo packages on pkg-config's output, so a package built against
# another build directory (another LibTorch leg) would be reused, library path and all. CGO_LDFLAGS
# is part of the key: naming the build directory in it rebuilds the binding per directory.
export CGO_LDFLAGS="${CGO_LDFLAGS:+$CGO_LDFLAGS }-Wl,-rpath,$BUILD_DIR"

if ! pkg-config --exists torchinfer; then
  echo "run-tests.sh: pkg-config cannot find torchinfer.pc in $BUILD_DIR (build the library first)" >&2
  exit 1
fi

step() { echo "==> $*"; }
step "$(go version); library and pkg-config from $BUILD_DIR; fixtures from $TORCHINFER_TEST_MODELS"

cd "$here"
step "bindings/go: gofmt + go vet"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
go vet ./...
step "bindings/go: go test (leak test: 10000 cycles)"
go test -count=1 ./...
step "bindings/go: go test -race -short (leak test: 1000 cycles)"
go test -race -short -count=1 ./...

step "bindings/go: a module outside the repository against an installed copy (consumer-test.sh)"
BUILD_DIR="$BUILD_DIR" "$here/consumer-test.sh"

cd "$repo/examples/go"
step "examples/go: gofmt + go vet + build"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
go vet ./...
go build -o /dev/null .
step "examples/go: go test"
go test -count=1 ./...
step "examples/go: go test -race"
go test -race -count=1 ./...
step "all Go tests passed"

# Shared by the .ci scripts: paths, setup, and the library build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
export BUILD_DIR
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

# Configure and build the library, its C tests, the C example and the fixtures.
build_library() {
  step "build ($BUILD_DIR)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$BUILD_DIR"
}

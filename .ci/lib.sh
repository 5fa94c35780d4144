# Shared by the .ci scripts: paths, the two LibTorch legs, and the library build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"
source "$ROOT/.ci/torch2.conf"

step() { printf '\n==> %s\n' "$*"; }

# The LibTorch legs to run, from TI_LIBTORCH: "debian" (Debian's 1.13), "torch2" (PyPI's
# 2.15 wheel) or "all" (the default: both).
legs() {
  case "${TI_LIBTORCH:-all}" in
    all) echo debian torch2 ;;
    debian | torch2) echo "$TI_LIBTORCH" ;;
    *) echo "TI_LIBTORCH must be debian, torch2 or all, not '$TI_LIBTORCH'" >&2; exit 2 ;;
  esac
}

# The build directory of a leg (BUILD_DIR overrides the Debian one, as before).
leg_build_dir() {
  case "$1" in
    debian) echo "${BUILD_DIR:-$ROOT/build}" ;;
    torch2) echo "$ROOT/build-torch2" ;;
  esac
}

# CMake arguments that select a leg's LibTorch and its exporter.
leg_cmake_args() {
  case "$1" in
    debian) echo "-DTI_TORCH_PYTHON= -DTI_TORCH_ROOT= -DTI_PYTHON=/usr/bin/python3" ;;
    torch2)
      local py
      py="$("$ROOT/.ci/torch2-env" --python)" || { echo "run .ci/setup first" >&2; exit 1; }
      echo "-DTI_TORCH_PYTHON=$py -DTI_PYTHON=$py" ;;
  esac
}

# Configure and build into DIR for LEG; the remaining arguments go to cmake. Every option that
# matters is passed explicitly, so a directory configured by another script is never reused
# with stale options.
build_library() {
  local leg="$1" dir="$2"
  shift 2
  step "build: LibTorch leg '$leg' in $dir"
  # shellcheck disable=SC2046
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(leg_cmake_args "$leg") "$@" >/dev/null
  cmake --build "$dir"
}

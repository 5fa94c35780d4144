#!/usr/bin/env bash
# Installs the library from BUILD_DIR into a scratch prefix, then builds a consumer against it
# twice: with CMake's find_package(torchinfer) and with pkg-config. Both must predict. The
# installed CLI must run from bin/ with no environment set.
set -euo pipefail
BUILD_DIR="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="$BUILD_DIR/install-check/prefix"
rm -rf "$BUILD_DIR/install-check"
cmake --install "$BUILD_DIR" --prefix "$PREFIX" >/dev/null
MODEL="$BUILD_DIR/models/mlp.pt"

cmake -S "$HERE" -B "$BUILD_DIR/install-check/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$BUILD_DIR/install-check/cmake" >/dev/null
LD_LIBRARY_PATH="$PREFIX/lib" "$BUILD_DIR/install-check/cmake/consumer" "$MODEL"

PC_DIR="$(dirname "$(find "$PREFIX" -name torchinfer.pc | head -1)")"
cc -std=c99 -Wall -Werror $(PKG_CONFIG_PATH="$PC_DIR" pkg-config --cflags torchinfer) "$HERE/consumer.c" \
  -o "$BUILD_DIR/install-check/consumer-pc" $(PKG_CONFIG_PATH="$PC_DIR" pkg-config --libs torchinfer)
LD_LIBRARY_PATH="$(PKG_CONFIG_PATH="$PC_DIR" pkg-config --variable=libdir torchinfer)" \
  "$BUILD_DIR/install-check/consumer-pc" "$MODEL"

# The CLI is installed to bin/ and finds the installed library through its RUNPATH alone.
if [[ -x "$PREFIX/bin/torchinfer" ]]; then
  env -u LD_LIBRARY_PATH "$PREFIX/bin/torchinfer" info "$MODEL" | tee "$BUILD_DIR/install-check/cli.out"
  grep -q '^format: *TorchScript' "$BUILD_DIR/install-check/cli.out"
  loaded="$(ldd "$PREFIX/bin/torchinfer" | awk '/libtorchinfer/ { print $3 }')"
  [[ "$(readlink -f "$loaded")" == "$(readlink -f "$PREFIX")"/lib* ]] || {
    echo "check_install: bin/torchinfer does not load the installed libtorchinfer" >&2
    exit 1
  }
  echo "installed CLI: ok"
elif grep -q 'TI_BUILD_CLI:BOOL=ON' "$BUILD_DIR/CMakeCache.txt"; then
  echo "check_install: TI_BUILD_CLI is ON but $PREFIX/bin/torchinfer was not installed" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs the soak program (tests/soak/soak.c, built as BUILD_DIR/tests/ti_soak) on a build's
# fixtures. Not a timed test: it runs a fixed number of rounds and checks results, the
# live-handle count (0 at the end) and that RSS stays flat after warm-up.
#
#   tests/soak/run.sh [--short | --long] [BUILD_DIR]
#
#   --short  (default) 4 threads x 2,000 rounds (8,000 steps): about 15 s with a RelWithDebInfo
#            build on the 2-core machine, 30-70 s (with other builds running) with the Debug
#            ASan+UBSan build, where CI runs it (BUILD_DIR = the -asan build).
#   --long   8 threads x 20,000 rounds, RSS every 30 s: before a release, on the Debian leg and
#            under ASan (about 7 minutes under ASan here). See tests/soak/README.md.
#   BUILD_DIR  a CMake build with TI_BUILD_TESTS=ON (default: $BUILD_DIR, else <repo>/build).
#            Without BUILD_DIR/tests/ti_soak (a build made before the target existed), the
#            program is compiled here against BUILD_DIR's library.
# Extra arguments for ti_soak go in SOAK_ARGS (e.g. SOAK_ARGS="--rss-bound 5").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

mode=short
if [[ "${1:-}" == --short || "${1:-}" == --long ]]; then mode="${1#--}"; shift; fi
build="$(cd "${1:-${BUILD_DIR:-$repo/build}}" && pwd)"
models="${TORCHINFER_TEST_MODELS:-$build/models}"

case "$mode" in
  short) args=(--threads 4 --rounds 2000 --report-ms 10000) ;;
  long) args=(--threads 8 --rounds 20000 --report-ms 30000) ;;
esac

lib="$build/libtorchinfer.so"
[[ -e "$lib" ]] || { echo "soak: no $lib: build the library first" >&2; exit 1; }
asan=0
if ldd "$lib" | grep -q 'libasan'; then asan=1; fi

soak="$build/tests/ti_soak"
if [[ ! -x "$soak" ]]; then
  soak="$(mktemp -d)/ti_soak"
  flags=()
  ((asan)) && flags=(-fsanitize=address,undefined -fno-omit-frame-pointer)
  echo "soak: $build has no tests/ti_soak; compiling it against $lib"
  cc -std=c11 -O1 -g -Wall -Wextra "${flags[@]}" -I"$repo/include" -I"$build/include" "$here/soak.c" \
    -o "$soak" -L"$build" -Wl,-rpath,"$build" -ltorchinfer -lpthread -lm
fi

if ((asan)); then
  # RSS under ASan is ASan's as much as ours; two of its settings would make it grow by itself:
  #  - the quarantine (freed memory kept to catch use after free) fills up to its size: 16 MB
  #    fills within the warm-up quarter, the default 256 MB would not;
  #  - every allocation's stack goes into ASan's stack depot, which never shrinks, and the fast
  #    unwinder reads garbage frames through LibTorch (built without frame pointers), so nearly
  #    every stack is new: about 35 MB per 1,000 model loads. malloc_context_size=0 stores none
  #    (fast_unwind_on_malloc=0 also keeps RSS flat but makes a load ~20x slower).
  # Errors are still caught and reported where they happen, and leaks at exit, without the
  # allocation stacks; for them, rerun with ASAN_OPTIONS=malloc_context_size=30:fast_unwind_on_malloc=0
  # (the caller's ASAN_OPTIONS come last and win).
  export ASAN_OPTIONS="quarantine_size_mb=16:malloc_context_size=0:detect_leaks=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  echo "soak: AddressSanitizer build (ASAN_OPTIONS=$ASAN_OPTIONS)"
fi

# shellcheck disable=SC2086
exec "$soak" --models "$models" "${args[@]}" ${SOAK_ARGS:-}

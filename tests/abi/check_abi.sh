#!/usr/bin/env bash
# The ABI guard: compares a built libtorchinfer.so against the committed baseline
# (tests/abi/libtorchinfer.abi, libabigail's XML) and fails on an incompatible change.
#
#   tests/abi/check_abi.sh LIBPATH          e.g. tests/abi/check_abi.sh build/libtorchinfer.so
#   tests/abi/check_abi.sh --write LIBPATH  regenerate the baseline from LIBPATH (see README.md)
#
# Fails (exit 1) on: a removed function; a function whose parameters or return type changed; a
# changed public type (size, layout, a typedef's target); an enumerator removed, renamed or
# given another value; a SONAME change. Passes, listing them, on additions: new functions, new
# types, enumerators appended at the end of an enum. Only types declared in the public headers
# (include/) count: the library's own structs behind the opaque handles may change freely.
# LIBPATH must carry debug info (RelWithDebInfo or Debug; a Release build has none).
# Exit 77 (ctest: skipped) when abidiff is missing, except under CI (CI set): then 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
baseline="$here/libtorchinfer.abi"
headers="${TI_ABI_HEADERS:-$repo/include}" # the public headers (the selftest points it elsewhere)

write=0
if [[ "${1:-}" == --write ]]; then write=1; shift; fi
if [[ $# -ne 1 ]]; then
  echo "usage: $0 [--write] LIBPATH" >&2
  exit 2
fi
lib="$1"
[[ -f "$lib" ]] || { echo "check_abi: no library at $lib" >&2; exit 1; }

for tool in abidw abidiff; do
  if ! command -v "$tool" >/dev/null; then
    echo "check_abi: $tool not found: install Debian's abigail-tools (.ci/setup does)" >&2
    if [[ -n "${CI:-}" ]]; then exit 1; fi
    exit 77
  fi
done

# What abidw records: public types only, no paths or line numbers (the baseline changes only
# when the ABI does).
ABIDW_FLAGS=(--headers-dir "$headers" --drop-private-types --exported-interfaces-only
  --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed --type-id-style hash)

if ((write)); then
  abidw "${ABIDW_FLAGS[@]}" --out-file "$baseline" "$lib"
  # Source paths relative to the repository (the baseline names no build machine's directories).
  sed -i "s|path='[^']*/src/|path='src/|" "$baseline"
  echo "check_abi: wrote $baseline from $lib ($(grep -c '<elf-symbol ' "$baseline") symbols)"
  exit 0
fi

[[ -f "$baseline" ]] || { echo "check_abi: no baseline at $baseline" >&2; exit 1; }

# Both sides go through abidw with the same flags, so the comparison sees the same view of each.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! readelf -S --wide "$lib" | grep -q '[.]debug_info'; then
  echo "check_abi: $lib has no debug info: build it with RelWithDebInfo or Debug" >&2
  exit 1
fi
abidw "${ABIDW_FLAGS[@]}" --out-file "$tmp/current.abi" "$lib" 2>"$tmp/abidw.err" || {
  cat "$tmp/abidw.err" >&2
  echo "check_abi: abidw could not read $lib" >&2
  exit 1
}

DIFF_FLAGS=(--no-show-locs --no-corpus-path --no-architecture)

echo "check_abi: $baseline vs $lib"
echo "--- every change, additions included ---"
set +e
abidiff "${DIFF_FLAGS[@]}" --harmless "$baseline" "$tmp/current.abi"
rc=$?
set -e
if ((rc & 3)); then
  echo "check_abi: abidiff failed (exit $rc)" >&2
  exit 1
fi
if ((rc == 0)); then
  echo "(none)"
fi

# The verdict: the same comparison without the added functions and without the harmless
# changes (libabigail's category for enumerators appended to an enum, among others). Anything
# left is a break: abidiff sets bit 4 (ABI change) or 8 (incompatible change).
echo "--- incompatible changes ---"
set +e
abidiff "${DIFF_FLAGS[@]}" --no-added-syms "$baseline" "$tmp/current.abi" >"$tmp/verdict.txt"
rc=$?
set -e
if ((rc & 3)); then
  cat "$tmp/verdict.txt"
  echo "check_abi: abidiff failed (exit $rc)" >&2
  exit 1
fi
if ((rc != 0)); then
  cat "$tmp/verdict.txt"
  echo "check_abi: FAIL: the ABI changed incompatibly (abidiff exit $rc). If the break is intended," \
    "bump the SONAME and regenerate the baseline: see tests/abi/README.md" >&2
  exit 1
fi
echo "(none)"
echo "check_abi: passed: the ABI is compatible with the baseline"

#!/usr/bin/env bash
# Proves that check_abi.sh tells additions from breaks, on deliberately broken builds: a stub
# library (every function of include/torchinfer.h returning zero, compiled with debug info and
# the baseline's SONAME) is built from the public header as it is, then from edited copies of
# it, and each goes through check_abi.sh against the committed baseline.
#   passes: the header as it is (new functions, TI_ERR_UNAVAILABLE appended to ti_code_t)
#   fails:  an enumerator inserted mid-enum (renumbers the rest), an enumerator removed, an
#           enumerator's value changed, a function removed, a parameter type changed, a return
#           type changed
#
#   tests/abi/check_abi_selftest.sh     (exit 77, skipped, where abidiff or g++ is missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
for tool in abidw abidiff g++ python3; do
  command -v "$tool" >/dev/null || { echo "selftest: $tool not found: skipped" >&2; [[ -n "${CI:-}" ]] && exit 1; exit 77; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gen/torchinfer"
sed 's/@[A-Z_]*@/0/g' "$repo/cmake/version.h.in" >"$tmp/gen/torchinfer/version.h"
soname="$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$here/libtorchinfer.abi" | head -1)"

# Builds $tmp/NAME/libtorchinfer.so from the header edited by the python snippet EDIT (which
# rewrites the string `h`), then runs check_abi.sh on it; prints the verdict line.
# Usage: variant NAME EXPECT(pass|fail) EDIT
failures=0
variant() {
  local name="$1" expect="$2" edit="$3" dir="$tmp/$1"
  mkdir -p "$dir/include"
  python3 - "$repo/include/torchinfer.h" "$dir/include/torchinfer.h" "$dir/stub.cpp" "$edit" <<'EOF'
import re, sys
src, dst, stub, edit = sys.argv[1:]
h = open(src).read()
exec(edit)
if edit.strip() != "pass" and h == open(src).read():
    sys.exit("selftest: the edit changed nothing (the header moved on: update the selftest)")
open(dst, "w").write(h)
# One definition per TI_API declaration: `return {}` (zero, NULL) or nothing for void.
body = re.sub(r"/\*.*?\*/", "", h, flags=re.S)
out = ['#include "torchinfer.h"', 'extern "C" {']
for m in re.finditer(r"TI_API\s+([^;]*?)\(([^;]*?)\)\s*;", body, flags=re.S):
    ret_and_name, params = m.group(1).strip(), m.group(2)
    name = re.search(r"(\w+)$", ret_and_name).group(1)
    ret = ret_and_name[: -len(name)].strip()
    stmt = "" if ret == "void" else "return {};"
    out.append(f"{ret_and_name}({params}) {{ {stmt} }}")
out.append("}")
open(stub, "w").write("\n".join(out) + "\n")
EOF
  g++ -std=c++17 -g -O0 -fPIC -shared -fvisibility=hidden -DTI_BUILDING_LIBRARY -Wno-unused-parameter \
    -I"$dir/include" -I"$tmp/gen" "$dir/stub.cpp" -Wl,-soname,"$soname" -o "$dir/libtorchinfer.so"
  # check_abi.sh reads the public headers from the repository: point it at the edited copy.
  local got=pass
  TI_ABI_HEADERS="$dir/include" "$here/check_abi.sh" "$dir/libtorchinfer.so" >"$dir/report.txt" 2>&1 || got=fail
  if [[ "$got" == "$expect" ]]; then
    # the first line of what check_abi.sh found incompatible (its summary), or that it found none
    printf 'selftest: %-26s %s (as expected): %s\n' "$name" "$got" \
      "$(sed -n '/^--- incompatible changes ---$/{n;p;q}' "$dir/report.txt")"
  else
    printf 'selftest: %-28s %s, EXPECTED %s; its report:\n' "$name" "$got" "$expect"
    cat "$dir/report.txt"
    failures=$((failures + 1))
  fi
}

variant header_as_is pass 'pass'
variant enumerator_inserted fail \
  'h = h.replace("TI_ERR_INVALID_ARGUMENT, ", "TI_ERR_INSERTED, TI_ERR_INVALID_ARGUMENT, ", 1)'
variant enumerator_removed fail \
  'h = re.sub(r"\n  TI_ERR_DEADLINE_EXCEEDED,?[^\n]*", "", h, count=1)'
variant enumerator_value_changed fail \
  'h = h.replace("TI_DTYPE_FLOAT32 = 0,", "TI_DTYPE_FLOAT32 = 100,", 1)'
variant function_removed fail \
  'h = re.sub(r"TI_API void ti_model_free\(ti_model_t \*m\);", "", h, count=1)'
variant parameter_type_changed fail \
  'h = h.replace("ti_tensor_create(ti_dtype_t dtype, const int64_t *shape, size_t ndim,", "ti_tensor_create(ti_dtype_t dtype, const int64_t *shape, int ndim,", 1)'
variant return_type_changed fail \
  'h = h.replace("TI_API int64_t ti_live_handles(void);", "TI_API int ti_live_handles(void);", 1)'

if ((failures)); then
  echo "selftest: $failures variant(s) gave the wrong verdict"
  exit 1
fi
echo "selftest: check_abi.sh passed the additions and failed every break"

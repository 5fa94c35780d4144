// BLAS detection from the shared objects mapped into this process (see blas.h).
#include "blas.h"

#include <climits>
#include <cstdlib>
#include <link.h>
#include <string>
#include <vector>

namespace blas {
namespace {

std::string base_name(const std::string &path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_name(const std::string &path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  const size_t before = path.rfind('/', slash - 1);
  return path.substr(before == std::string::npos ? 0 : before + 1, slash - (before == std::string::npos ? 0 : before + 1));
}

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

std::string resolved(const std::string &path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

int collect(struct dl_phdr_info *info, size_t, void *data) {
  if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0')
    static_cast<std::vector<std::string> *>(data)->push_back(info->dlpi_name);
  return 0;
}

// A name for the library at `real` (symlinks resolved), from its file and directory names.
Info classify(const std::string &real) {
  Info b;
  b.path = real;
  const std::string file = base_name(real), dir = parent_name(real);
  if (starts_with(file, "libmkl")) {
    b.name = "MKL";
  } else if (starts_with(dir, "openblas") || starts_with(dir, "blis") || starts_with(dir, "atlas")) {
    b.name = dir;  // Debian's alternatives: openblas-pthread, openblas-openmp, blis-pthread, atlas
  } else if (starts_with(file, "libopenblas")) {
    b.name = "OpenBLAS";
  } else if (starts_with(file, "libblis")) {
    b.name = "BLIS";
  } else if (dir == "blas" || starts_with(file, "libblas")) {
    b.name = "reference BLAS";  // Debian's libblas3 (/usr/lib/<triplet>/blas/libblas.so.3) or another netlib build
    b.slow = true;
  } else {
    b.name = file;
  }
  return b;
}

}  // namespace

std::string Info::text() const {
  if (path.empty()) return name;
  if (slow) return name + " (slow: install libopenblas0-pthread; " + path + ")";
  return name + " (" + path + ")";
}

Info detect() {
  std::vector<std::string> loaded;
  dl_iterate_phdr(collect, &loaded);
  const char *order[] = {"libmkl", "libblas.so", "libopenblas", "libblis"};
  for (const char *prefix : order)
    for (const std::string &lib : loaded)
      if (starts_with(base_name(lib), prefix)) return classify(resolved(lib));
  Info own;
  own.name = "LibTorch's own (no BLAS library loaded; PyPI and libtorch builds link MKL statically)";
  return own;
}

}  // namespace blas

// Which BLAS LibTorch's matrix products go through in this process, for `torchinfer --version`,
// `info` and benchmark headers. Standard library and <link.h> only: other programs (bench/)
// may compile blas.cpp in as it is.
#ifndef TORCHINFER_TOOLS_BLAS_H
#define TORCHINFER_TOOLS_BLAS_H

#include <string>

namespace blas {

struct Info {
  std::string name;  // "openblas-pthread", "reference BLAS", "MKL", "LibTorch's own", ...
  std::string path;  // the loaded library, symlinks resolved; empty when none is loaded
  bool slow = false; // the reference BLAS: every Linear runs several times slower
  std::string text() const;  // "openblas-pthread (/usr/lib/.../libblas.so.3)"
};

// Looks at the shared objects loaded in this process (dl_iterate_phdr), so call it after
// LibTorch is loaded (linking libtorchinfer is enough). In order: an MKL library; libblas.so.3
// (Debian's LibTorch links it; its alternative resolved with realpath: .../openblas-pthread/
// libblas.so.3 is OpenBLAS, .../blas/libblas.so.3 the reference BLAS); an OpenBLAS or BLIS
// library; otherwise "LibTorch's own" (the PyPI wheel and libtorch zips link MKL statically).
Info detect();

}  // namespace blas

#endif

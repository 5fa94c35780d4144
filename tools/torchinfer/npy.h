// NumPy .npy files: a bounds-checked parser and a writer.
//
// The parser reads untrusted bytes and depends on nothing but the C++ standard library (a
// fuzzing candidate). Supported: format versions 1.0, 2.0 and 3.0; C order only; little-endian
// (or byte-order-free) float32, float64, float16, int8, uint8, int16, int32, int64 and bool.
// bfloat16 is not a NumPy dtype: the CLI writes bfloat16 outputs as float32 (exact).
#ifndef TORCHINFER_TOOLS_NPY_H
#define TORCHINFER_TOOLS_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace npy {

enum class Dtype { f4, f8, f2, i1, u1, i2, i4, i8, b1 };

// The descr NumPy writes for `d` ("<f4", "|u1", ...).
const char *descr(Dtype d);
size_t itemsize(Dtype d);

// Where the array lies in the buffer that was parsed.
struct Array {
  Dtype dtype = Dtype::f4;
  std::vector<int64_t> shape;  // empty for a 0-dim array
  size_t data_offset = 0;      // the data starts at buf + data_offset
  size_t nbytes = 0;           // product(shape) * itemsize; data_offset + nbytes == len
};

// Parses a whole .npy file held in buf[0, len). On failure returns false and sets *error to a
// one-line reason ("header length 4096 runs past the end of the file (200 bytes)").
bool parse(const uint8_t *buf, size_t len, Array *out, std::string *error);

// The header of a .npy file holding a C-order array (magic, version, dict, padding), to be
// followed by the data: version 1.0 (2.0 if the dict does not fit in 64 KiB), padded so that
// the data starts at a multiple of 64 bytes, as NumPy writes it.
std::vector<uint8_t> header(Dtype d, const std::vector<int64_t> &shape);

}  // namespace npy

#endif

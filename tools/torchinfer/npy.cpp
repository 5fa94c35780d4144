// NumPy .npy parser and writer; see npy.h. Every read is bounds-checked against the buffer,
// every size computed with overflow checks; nothing here trusts a declared length.
#include "npy.h"

#include <cstring>

namespace npy {
namespace {

struct DtypeInfo {
  Dtype dtype;
  const char *code;  // descr without its byte-order character
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {Dtype::f4, "f4", 4}, {Dtype::f8, "f8", 8}, {Dtype::f2, "f2", 2},
    {Dtype::i1, "i1", 1}, {Dtype::u1, "u1", 1}, {Dtype::i2, "i2", 2},
    {Dtype::i4, "i4", 4}, {Dtype::i8, "i8", 8}, {Dtype::b1, "b1", 1},
};

constexpr size_t kMaxDims = 64;  // NumPy 2's limit

const DtypeInfo &info(Dtype d) {
  for (const DtypeInfo &i : kDtypes)
    if (i.dtype == d) return i;
  return kDtypes[0];
}

bool is_little_endian_host() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// A cursor over the header's dict text, a Python literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class Lexer {
 public:
  Lexer(const char *p, size_t n) : p_(p), end_(p + n) {}

  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool at_end() const { return p_ == end_; }
  bool eat(char c) {
    skip_space();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skip_space();
    return p_ < end_ && *p_ == c;
  }
  bool word(const char *w) {
    skip_space();
    const size_t n = std::strlen(w);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  // A quoted string without escapes (the only kind a header's keys and descr use).
  bool string(std::string *out) {
    skip_space();
    if (p_ >= end_ || (*p_ != '\'' && *p_ != '"')) return false;
    const char quote = *p_++;
    const char *start = p_;
    while (p_ < end_ && *p_ != quote) {
      if (*p_ == '\\') return false;
      ++p_;
    }
    if (p_ >= end_) return false;
    out->assign(start, p_);
    ++p_;
    return true;
  }
  // A non-negative decimal integer that fits in int64 (a Python 2 "L" suffix is accepted).
  bool integer(int64_t *out) {
    skip_space();
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    int64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      if (__builtin_mul_overflow(v, int64_t{10}, &v) ||
          __builtin_add_overflow(v, int64_t{*p_ - '0'}, &v))
        return false;
      ++p_;
    }
    if (p_ < end_ && *p_ == 'L') ++p_;
    *out = v;
    return true;
  }

 private:
  const char *p_;
  const char *end_;
};

bool fail(std::string *error, std::string msg) {
  if (error) *error = std::move(msg);
  return false;
}

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

bool parse_descr(const std::string &d, Dtype *out, std::string *error) {
  if (d.size() == 3) {
    const char order = d[0];
    for (const DtypeInfo &i : kDtypes) {
      if (d.compare(1, 2, i.code) != 0) continue;
      const bool ok = i.size == 1 ? (order == '|' || order == '<' || order == '>' || order == '=')
                                  : (order == '<' || (order == '=' && is_little_endian_host()));
      if (!ok) {
        if (order == '>' || order == '=')
          return fail(error, "big-endian data ('" + d + "') is not supported; save it as '<" +
                                 i.code + "' (arr.astype('<" + i.code + "'))");
        return fail(error, "unsupported dtype '" + d + "'");
      }
      *out = i.dtype;
      return true;
    }
  }
  return fail(error, "unsupported dtype '" + d +
                         "' (supported: <f4 <f8 <f2 |i1 |u1 <i2 <i4 <i8 |b1)");
}

}  // namespace

const char *descr(Dtype d) {
  switch (d) {
    case Dtype::f4: return "<f4";
    case Dtype::f8: return "<f8";
    case Dtype::f2: return "<f2";
    case Dtype::i1: return "|i1";
    case Dtype::u1: return "|u1";
    case Dtype::i2: return "<i2";
    case Dtype::i4: return "<i4";
    case Dtype::i8: return "<i8";
    case Dtype::b1: return "|b1";
  }
  return "<f4";
}

size_t itemsize(Dtype d) { return info(d).size; }

bool parse(const uint8_t *buf, size_t len, Array *out, std::string *error) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (buf == nullptr && len != 0) return fail(error, "no data");
  if (len < 8 || std::memcmp(buf, kMagic, 6) != 0)
    return fail(error, "not a .npy file (no \\x93NUMPY magic at the start)");
  const unsigned major = buf[6], minor = buf[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return fail(error, "unsupported .npy format version " + std::to_string(major) + "." +
                           std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  const size_t len_field = major == 1 ? 2 : 4;
  if (len < 8 + len_field)
    return fail(error, "truncated header: " + std::to_string(len) + " bytes");
  uint64_t hlen = 0;
  for (size_t i = 0; i < len_field; ++i) hlen |= uint64_t{buf[8 + i]} << (8 * i);
  const size_t start = 8 + len_field;
  if (hlen > len - start)
    return fail(error, "header length " + std::to_string(hlen) + " runs past the end of the file (" +
                           std::to_string(len) + " bytes)");
  const char *text = reinterpret_cast<const char *>(buf + start);
  for (size_t i = 0; i < hlen; ++i) {
    // 1.0/2.0 headers are latin-1, 3.0 UTF-8; a header we can use is plain ASCII either way.
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
      return fail(error, "header has a non-ASCII or control byte at offset " + std::to_string(start + i));
  }

  Lexer lx(text, static_cast<size_t>(hlen));
  bool have_descr = false, have_order = false, have_shape = false;
  Array a;
  if (!lx.eat('{')) return fail(error, "malformed header: expected '{'");
  while (!lx.peek('}')) {
    std::string key;
    if (!lx.string(&key)) return fail(error, "malformed header: expected a quoted key");
    if (!lx.eat(':')) return fail(error, "malformed header: expected ':' after '" + key + "'");
    if (key == "descr") {
      if (have_descr) return fail(error, "malformed header: 'descr' given twice");
      std::string d;
      if (!lx.string(&d))
        return fail(error, "unsupported dtype: 'descr' is not a simple type (structured dtypes are not supported)");
      if (!parse_descr(d, &a.dtype, error)) return false;
      have_descr = true;
    } else if (key == "fortran_order") {
      if (have_order) return fail(error, "malformed header: 'fortran_order' given twice");
      if (lx.word("True"))
        return fail(error, "fortran_order is True: only C-order arrays are supported "
                           "(save np.ascontiguousarray(arr))");
      if (!lx.word("False")) return fail(error, "malformed header: fortran_order is not True or False");
      have_order = true;
    } else if (key == "shape") {
      if (have_shape) return fail(error, "malformed header: 'shape' given twice");
      if (!lx.eat('(')) return fail(error, "malformed header: shape is not a tuple");
      while (!lx.peek(')')) {
        int64_t dim;
        if (!lx.integer(&dim)) return fail(error, "malformed header: bad dimension in shape");
        if (a.shape.size() == kMaxDims)
          return fail(error, "shape has more than " + std::to_string(kMaxDims) + " dimensions");
        a.shape.push_back(dim);
        if (!lx.eat(',')) break;
      }
      if (!lx.eat(')')) return fail(error, "malformed header: expected ',' or ')' in shape");
      have_shape = true;
    } else {
      return fail(error, "malformed header: unknown key '" + key + "'");
    }
    if (!lx.eat(',')) break;
  }
  if (!lx.eat('}')) return fail(error, "malformed header: expected '}'");
  lx.skip_space();
  if (!lx.at_end()) return fail(error, "malformed header: text after the closing '}'");
  if (!have_descr || !have_order || !have_shape)
    return fail(error, std::string("malformed header: missing '") +
                           (!have_descr ? "descr" : !have_order ? "fortran_order" : "shape") + "'");

  uint64_t numel = 1, nbytes = 0;
  for (int64_t d : a.shape)
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel))
      return fail(error, "shape " + shape_text(a.shape) + " is too large (element count overflows)");
  if (__builtin_mul_overflow(numel, uint64_t{itemsize(a.dtype)}, &nbytes) || nbytes > SIZE_MAX)
    return fail(error, "shape " + shape_text(a.shape) + " is too large (byte count overflows)");
  const size_t data_start = start + static_cast<size_t>(hlen);
  const size_t have = len - data_start;
  if (have < nbytes)
    return fail(error, "data is shorter than declared: shape " + shape_text(a.shape) + " of " +
                           descr(a.dtype) + " needs " + std::to_string(nbytes) + " bytes, the file has " +
                           std::to_string(have));
  if (have > nbytes)
    return fail(error, std::to_string(have - nbytes) + " bytes of unexpected data after the array (shape " +
                           shape_text(a.shape) + " of " + descr(a.dtype) + ")");
  if (a.dtype == Dtype::b1) {
    for (size_t i = 0; i < nbytes; ++i)
      if (buf[data_start + i] > 1)
        return fail(error, "bool element " + std::to_string(i) + " is " + std::to_string(buf[data_start + i]) +
                               ", not 0 or 1");
  }
  a.data_offset = data_start;
  a.nbytes = static_cast<size_t>(nbytes);
  *out = std::move(a);
  return true;
}

std::vector<uint8_t> header(Dtype d, const std::vector<int64_t> &shape) {
  const std::string dict = std::string("{'descr': '") + descr(d) +
                           "', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  // The dict is followed by spaces and '\n' so that the data starts at a multiple of 64.
  auto padded_len = [&](size_t prefix) { return (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix; };
  unsigned major = 1;
  size_t len_field = 2;
  if (padded_len(10) > 65535) {
    major = 2;
    len_field = 4;
  }
  const size_t hlen = padded_len(8 + len_field);
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < len_field; ++i) out.push_back(static_cast<uint8_t>(uint64_t{hlen} >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), hlen - dict.size() - 1, ' ');
  out.push_back('\n');
  return out;
}

}  // namespace npy

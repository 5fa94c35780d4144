// The .npy parser against well-formed and malformed files, and the writer's headers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "npy.h"

namespace {

using Bytes = std::vector<uint8_t>;

// A file of format `major`.0 with header text `dict` (padded with spaces and '\n' as NumPy
// does) followed by `data_len` bytes of data.
Bytes make_file(const std::string &dict, size_t data_len, unsigned major = 1, uint8_t fill = 0) {
  const size_t len_field = major == 1 ? 2 : 4;
  std::string h = dict;
  while ((8 + len_field + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < len_field; ++i) b.push_back(static_cast<uint8_t>(h.size() >> (8 * i)));
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), data_len, fill);
  return b;
}

std::string dict(const std::string &descr, const std::string &shape, const std::string &order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

// Parses and expects a failure whose message contains `want`.
void expect_error(const Bytes &b, const std::string &want) {
  npy::Array a;
  std::string err;
  EXPECT_FALSE(npy::parse(b.data(), b.size(), &a, &err)) << "accepted; wanted error: " << want;
  EXPECT_NE(err.find(want), std::string::npos) << "error was: " << err << "\nwanted: " << want;
}

TEST(NpyParse, NumPyHeaderFloat32) {
  const Bytes b = make_file(dict("<f4", "(2, 3)"), 24);
  npy::Array a;
  std::string err;
  ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << err;
  EXPECT_EQ(a.dtype, npy::Dtype::f4);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data_offset, 128u);  // "{'descr': ...}" padded to 128 as NumPy writes it
  EXPECT_EQ(a.nbytes, 24u);
}

TEST(NpyParse, ScalarEmptyAndOneDim) {
  npy::Array a;
  std::string err;
  Bytes b = make_file(dict("<f8", "()"), 8);
  ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << err;
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.nbytes, 8u);
  b = make_file(dict("<i8", "(0, 5)"), 0);
  ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << err;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(a.nbytes, 0u);
  b = make_file(dict("|u1", "(7,)"), 7);
  ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << err;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{7}));
}

TEST(NpyParse, Versions2And3AndKeyOrder) {
  npy::Array a;
  std::string err;
  for (unsigned major : {2u, 3u}) {
    const Bytes b = make_file("{\"shape\": (4,), \"fortran_order\": False, \"descr\": \"<i2\"}", 8, major);
    ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << major << ": " << err;
    EXPECT_EQ(a.dtype, npy::Dtype::i2);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{4}));
    EXPECT_EQ(a.data_offset, 128u);
  }
}

TEST(NpyParse, EveryDtype) {
  const struct { const char *descr; npy::Dtype dtype; size_t size; } cases[] = {
      {"<f4", npy::Dtype::f4, 4}, {"<f8", npy::Dtype::f8, 8}, {"<f2", npy::Dtype::f2, 2},
      {"|i1", npy::Dtype::i1, 1}, {"|u1", npy::Dtype::u1, 1}, {"<i2", npy::Dtype::i2, 2},
      {"<i4", npy::Dtype::i4, 4}, {"<i8", npy::Dtype::i8, 8}, {"|b1", npy::Dtype::b1, 1},
      {"<u1", npy::Dtype::u1, 1}, {"=f4", npy::Dtype::f4, 4}};
  for (const auto &c : cases) {
    const Bytes b = make_file(dict(c.descr, "(3,)"), 3 * c.size);
    npy::Array a;
    std::string err;
    ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << c.descr << ": " << err;
    EXPECT_EQ(a.dtype, c.dtype) << c.descr;
    EXPECT_EQ(a.nbytes, 3 * c.size) << c.descr;
  }
}

TEST(NpyParse, WriterRoundTrip) {
  for (npy::Dtype d : {npy::Dtype::f4, npy::Dtype::f8, npy::Dtype::f2, npy::Dtype::i1, npy::Dtype::u1,
                       npy::Dtype::i2, npy::Dtype::i4, npy::Dtype::i8, npy::Dtype::b1}) {
    for (const std::vector<int64_t> &shape : {std::vector<int64_t>{}, {0}, {5}, {2, 3}, {1, 2, 3, 4}}) {
      size_t numel = 1;
      for (int64_t s : shape) numel *= static_cast<size_t>(s);
      Bytes b = npy::header(d, shape);
      EXPECT_EQ(b.size() % 64, 0u);
      EXPECT_EQ(b.back(), '\n');
      const size_t head = b.size();
      b.insert(b.end(), numel * npy::itemsize(d), 1);
      npy::Array a;
      std::string err;
      ASSERT_TRUE(npy::parse(b.data(), b.size(), &a, &err)) << npy::descr(d) << ": " << err;
      EXPECT_EQ(a.dtype, d);
      EXPECT_EQ(a.shape, shape);
      EXPECT_EQ(a.data_offset, head);
      EXPECT_EQ(a.nbytes, numel * npy::itemsize(d));
    }
  }
  const Bytes b = npy::header(npy::Dtype::f4, {2, 3});
  const std::string text(b.begin() + 10, b.end());
  EXPECT_EQ(text.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u) << text;
  const Bytes one = npy::header(npy::Dtype::i8, {4});
  EXPECT_NE(std::string(one.begin(), one.end()).find("'shape': (4,)"), std::string::npos);
}

TEST(NpyMalformed, EmptyAndBadMagic) {
  expect_error({}, "not a .npy file");
  expect_error({0x93, 'N', 'U', 'M'}, "not a .npy file");
  Bytes b = make_file(dict("<f4", "(1,)"), 4);
  b[1] = 'X';
  expect_error(b, "not a .npy file");
  const std::string text = "x,y\n1,2\n";
  expect_error(Bytes(text.begin(), text.end()), "not a .npy file");
}

TEST(NpyMalformed, UnsupportedVersion) {
  Bytes b = make_file(dict("<f4", "(1,)"), 4);
  b[6] = 4;
  expect_error(b, "unsupported .npy format version 4.0");
  b[6] = 1;
  b[7] = 1;
  expect_error(b, "unsupported .npy format version 1.1");
}

TEST(NpyMalformed, TruncatedHeader) {
  const Bytes b = make_file(dict("<f4", "(1,)"), 4);
  expect_error(Bytes(b.begin(), b.begin() + 9), "truncated header");
  const Bytes v2 = make_file(dict("<f4", "(1,)"), 4, 2);
  expect_error(Bytes(v2.begin(), v2.begin() + 11), "truncated header");
  // The length field is intact but the header text is cut short.
  expect_error(Bytes(b.begin(), b.begin() + 40), "header length 118 runs past the end of the file (40 bytes)");
}

TEST(NpyMalformed, HeaderLengthPastEnd) {
  Bytes b = make_file(dict("<f4", "(1,)"), 4);
  b[8] = 0xff;
  b[9] = 0xff;
  expect_error(b, "header length 65535 runs past the end of the file");
  Bytes v2 = make_file(dict("<f4", "(1,)"), 4, 2);
  v2[8] = v2[9] = v2[10] = v2[11] = 0xff;
  expect_error(v2, "header length 4294967295 runs past the end of the file");
}

TEST(NpyMalformed, HeaderSyntax) {
  expect_error(make_file("not a dict", 4), "expected '{'");
  expect_error(make_file("{'descr' '<f4'}", 4), "expected ':'");
  expect_error(make_file("{descr: '<f4'}", 4), "expected a quoted key");
  expect_error(make_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4), "expected '}'");
  expect_error(make_file(dict("<f4", "(1,)") + " x", 4), "text after the closing '}'");
  expect_error(make_file("{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }", 4), "");
  expect_error(make_file("{'descr': '<f4', 'shape': (1,), }", 4), "missing 'fortran_order'");
  expect_error(make_file("{'fortran_order': False, 'shape': (1,), }", 4), "missing 'descr'");
  expect_error(make_file("{'descr': '<f4', 'fortran_order': False, }", 4), "missing 'shape'");
  expect_error(make_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4),
               "'descr' given twice");
  expect_error(make_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", 4),
               "unknown key 'extra'");
  expect_error(make_file(dict("<f4", "(1,)", "0"), 4), "fortran_order is not True or False");
  Bytes b = make_file(dict("<f4", "(1,)"), 4);
  b[20] = 0xe9;  // latin-1 'é' inside the dict
  expect_error(b, "non-ASCII or control byte at offset 20");
}

TEST(NpyMalformed, FortranOrder) {
  expect_error(make_file(dict("<f4", "(2, 3)", "True"), 24), "fortran_order is True");
}

TEST(NpyMalformed, UnsupportedDtype) {
  expect_error(make_file(dict("<c8", "(1,)"), 8), "unsupported dtype '<c8'");
  expect_error(make_file(dict("<u4", "(1,)"), 4), "unsupported dtype '<u4'");
  expect_error(make_file(dict("<U3", "(1,)"), 12), "unsupported dtype '<U3'");
  expect_error(make_file(dict("|O", "(1,)"), 8), "unsupported dtype '|O'");
  expect_error(make_file(dict(">f4", "(1,)"), 4), "big-endian data ('>f4') is not supported");
  expect_error(make_file(dict("|f4", "(1,)"), 4), "unsupported dtype '|f4'");
  expect_error(make_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4),
               "structured dtypes are not supported");
}

TEST(NpyMalformed, BadShape) {
  expect_error(make_file(dict("<f4", "[1, 2]"), 8), "shape is not a tuple");
  expect_error(make_file(dict("<f4", "(2, -1)"), 8), "bad dimension in shape");
  expect_error(make_file(dict("<f4", "(a,)"), 8), "bad dimension in shape");
  expect_error(make_file(dict("<f4", "(99999999999999999999,)"), 8), "bad dimension in shape");
  expect_error(make_file(dict("<f4", "(1 2)"), 8), "expected ',' or ')' in shape");
  std::string many = "(";
  for (int i = 0; i < 65; ++i) many += "1, ";
  expect_error(make_file(dict("<f4", many + ")"), 4), "more than 64 dimensions");
}

TEST(NpyMalformed, ShapeProductOverflow) {
  expect_error(make_file(dict("<f4", "(4294967296, 4294967296)"), 0), "element count overflows");
  expect_error(make_file(dict("<f8", "(9223372036854775807,)"), 0), "byte count overflows");
  // A huge declared size that does not overflow is still checked against the file.
  expect_error(make_file(dict("<f4", "(1000000000000,)"), 16),
               "needs 4000000000000 bytes, the file has 16");
}

TEST(NpyMalformed, DataShorterOrLongerThanDeclared) {
  expect_error(make_file(dict("<f4", "(2, 3)"), 23), "data is shorter than declared: shape (2, 3) of <f4 needs 24 bytes, the file has 23");
  expect_error(make_file(dict("<f4", "()"), 0), "needs 4 bytes, the file has 0");
  expect_error(make_file(dict("<f4", "(2, 3)"), 25), "1 bytes of unexpected data after the array");
}

TEST(NpyMalformed, BoolNotZeroOrOne) {
  Bytes b = make_file(dict("|b1", "(3,)"), 3, 1, 1);
  b[b.size() - 2] = 2;
  expect_error(b, "bool element 1 is 2, not 0 or 1");
}

// Every proper prefix of a valid file is rejected, and no single-byte change makes the parser
// read out of bounds (run under ASan in the sanitizer build) or accept inconsistent sizes.
TEST(NpyMalformed, EveryTruncationAndByteFlip) {
  const Bytes good = make_file(dict("<i4", "(2, 2)"), 16, 1, 7);
  for (size_t n = 0; n < good.size(); ++n) {
    npy::Array a;
    std::string err;
    EXPECT_FALSE(npy::parse(good.data(), n, &a, &err)) << "prefix of " << n << " bytes accepted";
    EXPECT_FALSE(err.empty());
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (int v : {0x00, 0x09, 0x20, 0x27, 0x28, 0x29, 0x2c, 0x30, 0x39, 0x7b, 0x7d, 0x80, 0xff}) {
      Bytes b = good;
      b[i] = static_cast<uint8_t>(v);
      npy::Array a;
      std::string err;
      if (npy::parse(b.data(), b.size(), &a, &err)) {
        EXPECT_EQ(a.data_offset + a.nbytes, b.size()) << "byte " << i << " = " << v;
      } else {
        EXPECT_FALSE(err.empty());
      }
    }
  }
}

}  // namespace

// torchinfer run: one call on .npy inputs; each output leaf written as DIR/<leaf>.npy.
#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <sys/stat.h>

#include "cli.h"
#include "npy.h"

namespace cli {
namespace {

const char kHelp[] =
    "Usage: torchinfer run MODEL [--method M] [--device D] [-o DIR] INPUT...\n"
    "\n"
    "Runs a method once and writes each output leaf to DIR/<leaf>.npy (leaf names as the\n"
    "library flattens results: \"0\" for a bare tensor, \"1.0\" in tuples, dict keys), then\n"
    "prints one line per leaf: name, dtype, shape, the first values and the file written.\n"
    "\n"
    "INPUT is FILE.npy (positional, in the method's argument order) or NAME=FILE.npy (by\n"
    "argument name; give all inputs one way). A NAME has no '/': ./a=b.npy is a file.\n"
    ".npy dtypes: <f4 <f8 <f2 |i1 |u1 <i2 <i4 <i8 |b1, C order, format 1.0/2.0/3.0.\n"
    "A bfloat16 output is written as float32 (exactly; NumPy has no bfloat16).\n"
    "\n"
    "  --method M   the method to run (default: forward)\n"
    "  --device D   load onto D: cpu, cuda, cuda:N (default: cpu for TorchScript)\n"
    "  -o, --output-dir DIR\n"
    "               where to write the .npy files (default: the current directory;\n"
    "               made if missing; existing files are replaced)\n"
    "  -h, --help   this help\n";

uint16_t load_u16(const uint8_t *p) { uint16_t v; std::memcpy(&v, p, 2); return v; }

float half_to_float(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp == 0 ? std::ldexp(static_cast<float>(mant), -24)
            : exp == 31 ? (mant ? NAN : INFINITY)
                        : std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  return (h & 0x8000) ? -v : v;
}

float bf16_to_float(uint16_t b) {
  const uint32_t bits = uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

npy::Dtype to_npy(ti_dtype_t d) {
  switch (d) {
    case TI_DTYPE_FLOAT32: return npy::Dtype::f4;
    case TI_DTYPE_FLOAT64: return npy::Dtype::f8;
    case TI_DTYPE_FLOAT16: return npy::Dtype::f2;
    case TI_DTYPE_BFLOAT16: return npy::Dtype::f4;  // widened, exact
    case TI_DTYPE_INT8: return npy::Dtype::i1;
    case TI_DTYPE_UINT8: return npy::Dtype::u1;
    case TI_DTYPE_INT16: return npy::Dtype::i2;
    case TI_DTYPE_INT32: return npy::Dtype::i4;
    case TI_DTYPE_INT64: return npy::Dtype::i8;
    case TI_DTYPE_BOOL: return npy::Dtype::b1;
  }
  throw Error(ti_code_name(TI_ERR_UNSUPPORTED), "output of unknown dtype " + std::to_string(d));
}

// "[0.1, -2, 3.5, ...]" with at most `max` values, from data already in the .npy dtype.
std::string values_text(npy::Dtype d, const std::vector<uint8_t> &data, size_t max) {
  const size_t size = npy::itemsize(d), n = data.size() / size;
  std::string s = "[";
  char buf[64];
  for (size_t i = 0; i < n && i < max; ++i) {
    const uint8_t *p = data.data() + i * size;
    switch (d) {
      case npy::Dtype::f4: { float v; std::memcpy(&v, p, 4); std::snprintf(buf, sizeof buf, "%.6g", v); break; }
      case npy::Dtype::f8: { double v; std::memcpy(&v, p, 8); std::snprintf(buf, sizeof buf, "%.8g", v); break; }
      case npy::Dtype::f2: std::snprintf(buf, sizeof buf, "%.4g", half_to_float(load_u16(p))); break;
      case npy::Dtype::i1: std::snprintf(buf, sizeof buf, "%d", static_cast<int8_t>(*p)); break;
      case npy::Dtype::u1: std::snprintf(buf, sizeof buf, "%u", *p); break;
      case npy::Dtype::i2: { int16_t v; std::memcpy(&v, p, 2); std::snprintf(buf, sizeof buf, "%d", v); break; }
      case npy::Dtype::i4: { int32_t v; std::memcpy(&v, p, 4); std::snprintf(buf, sizeof buf, "%d", v); break; }
      case npy::Dtype::i8: { long long v; std::memcpy(&v, p, 8); std::snprintf(buf, sizeof buf, "%lld", v); break; }
      case npy::Dtype::b1: std::snprintf(buf, sizeof buf, "%s", *p ? "true" : "false"); break;
    }
    s += (i ? ", " : "") + std::string(buf);
  }
  if (n > max) s += ", ... (" + std::to_string(n) + " values)";
  return s + "]";
}

// A leaf name as a file name: characters other than [A-Za-z0-9._-] become '_' (a dict key
// may hold '/'), and a clash with an earlier leaf gets a "-2", "-3", ... suffix.
std::string file_stem(const std::string &leaf, std::set<std::string> *taken) {
  std::string s = leaf.empty() ? "_" : leaf;
  for (char &c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  std::string stem = s;
  for (int k = 2; !taken->insert(stem).second; ++k) stem = s + "-" + std::to_string(k);
  return stem;
}

void write_npy(const std::string &path, npy::Dtype d, const std::vector<int64_t> &shape,
               const std::vector<uint8_t> &data) {
  const std::vector<uint8_t> head = npy::header(d, shape);
  FILE *f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "cannot write " + path + ": " + std::strerror(errno));
  const bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size() &&
                  (data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size());
  const int err = errno;
  if (std::fclose(f) != 0 || !ok)
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "cannot write " + path + ": " + std::strerror(ok ? errno : err));
}

}  // namespace

int cmd_run(int argc, char **argv) {
  std::string model_path, device, method = "forward", out_dir = ".";
  std::vector<std::string> specs;
  Args args("run", argc, argv);
  while (args.next()) {
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (args.is("--method")) {
      method = args.value();
    } else if (args.is("--device")) {
      device = args.value();
    } else if (args.is("-o") || args.is("--output-dir")) {
      out_dir = args.value();
    } else if (args.positional()) {
      if (model_path.empty())
        model_path = args.arg();
      else
        specs.push_back(args.arg());
    } else {
      args.unknown();
    }
  }
  if (model_path.empty()) usage_error("run", "missing MODEL");
  if (out_dir.empty()) usage_error("run", "-o needs a directory");

  ModelPtr model = load_model(model_path, device);
  const Inputs inputs = read_inputs("run", specs);
  std::vector<TensorPtr> tensors;
  std::vector<const ti_tensor_t *> ptrs;
  std::vector<const char *> names;
  for (const Input &in : inputs.items) {
    tensors.push_back(make_tensor(in));
    ptrs.push_back(tensors.back().get());
    names.push_back(in.name.c_str());
  }
  ti_outputs_t *raw = nullptr;
  check(ti_model_run(model.get(), method.c_str(), inputs.named() ? names.data() : nullptr, ptrs.data(), ptrs.size(),
                     nullptr, &raw));  // the message names the method
  OutputsPtr outputs(raw);

  struct stat st;
  if (::stat(out_dir.c_str(), &st) != 0) {
    if (errno != ENOENT || ::mkdir(out_dir.c_str(), 0777) != 0)
      throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "-o " + out_dir + ": " + std::strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "-o " + out_dir + ": not a directory");
  }

  struct Row { std::string name, dtype, shape, values, path; };
  std::vector<Row> rows;
  std::set<std::string> taken;
  const size_t count = ti_outputs_count(outputs.get());
  for (size_t i = 0; i < count; ++i) {
    ti_tensor_t *t_raw = nullptr;
    check(ti_outputs_get(outputs.get(), i, &t_raw));
    TensorPtr t(t_raw);
    const ti_dtype_t dtype = ti_tensor_dtype(t.get());
    const size_t ndim = ti_tensor_ndim(t.get());
    const int64_t *shape = ti_tensor_shape(t.get());
    std::vector<int64_t> shape_v(shape, shape + ndim);
    std::vector<uint8_t> data(ti_tensor_nbytes(t.get()));
    check(ti_tensor_copy_to(t.get(), data.data(), data.size()), ti_outputs_name(outputs.get(), i));
    const npy::Dtype nd = to_npy(dtype);
    if (dtype == TI_DTYPE_BFLOAT16) {
      std::vector<uint8_t> wide(data.size() * 2);
      for (size_t k = 0; k < data.size() / 2; ++k) {
        const float f = bf16_to_float(load_u16(data.data() + 2 * k));
        std::memcpy(wide.data() + 4 * k, &f, 4);
      }
      data.swap(wide);
    }
    Row r;
    r.name = ti_outputs_name(outputs.get(), i);
    r.dtype = ti_dtype_name(dtype);
    if (dtype == TI_DTYPE_BFLOAT16) r.dtype += " (saved as float32)";
    r.shape = shape_text(shape, ndim);
    r.values = values_text(nd, data, 6);
    r.path = (out_dir == "." ? "" : out_dir + (out_dir.back() == '/' ? "" : "/")) + file_stem(r.name, &taken) + ".npy";
    write_npy(r.path, nd, shape_v, data);
    rows.push_back(std::move(r));
  }

  size_t w_name = 4, w_dtype = 5, w_shape = 5;
  for (const Row &r : rows) {
    w_name = std::max(w_name, r.name.size());
    w_dtype = std::max(w_dtype, r.dtype.size());
    w_shape = std::max(w_shape, r.shape.size());
  }
  std::printf("%-*s  %-*s  %-*s  %s\n", static_cast<int>(w_name), "leaf", static_cast<int>(w_dtype), "dtype",
              static_cast<int>(w_shape), "shape", "values -> file");
  for (const Row &r : rows)
    std::printf("%-*s  %-*s  %-*s  %s -> %s\n", static_cast<int>(w_name), r.name.c_str(), static_cast<int>(w_dtype),
                r.dtype.c_str(), static_cast<int>(w_shape), r.shape.c_str(), r.values.c_str(), r.path.c_str());
  return 0;
}

}  // namespace cli

// torchinfer run: one call on .npy files and typed values set by path; each output leaf
// written as DIR/<leaf>.npy (a tensor) or DIR/<leaf>.txt (a str).
#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <sys/stat.h>

#include "cli.h"
#include "npy.h"

namespace cli {
namespace {

const char kHelp[] =
    "Usage: torchinfer run MODEL [OPTIONS] INPUT...\n"
    "\n"
    "Runs a method once and writes each output leaf next to the others in DIR: a tensor as\n"
    "<leaf>.npy, a str as <leaf>.txt (its UTF-8 bytes, nothing added); a None is only listed.\n"
    "Leaf names are the library's (\"0\" for a bare tensor, \"1.0\" in tuples and lists, dict\n"
    "keys, with '.' in a key escaped as '\\.'); in file names characters other than\n"
    "[A-Za-z0-9._-] become '_'. Then prints one line per leaf: name, dtype, shape, the first\n"
    "values (or the text, or None) and the file written.\n"
    "\n"
    "INPUT is FILE.npy (positional, in the method's argument order) or PATH=VALUE. PATH is an\n"
    "argument's name or position, then list/tuple indices and dict keys joined by '.'\n"
    "(images.0, batch.input_ids, pairs.1.0, by_id.-1; in a key '\\.' is a dot and '\\\\' a\n"
    "backslash); it contains no '/' (./a=b.npy is a file). VALUE is one of:\n"
    "  FILE.npy         a tensor\n"
    "  str:TEXT         a str             strfile:FILE   a str: FILE's bytes\n"
    "  int:N            an int            float:X        a float\n"
    "  bool:true|false  a bool            none           None (an Optional argument)\n"
    "  empty            an empty list or dict\n"
    "Give all inputs one way. Arguments not given take their defaults. Tensors given by\n"
    "position or by argument name alone go through ti_model_run; anything else through\n"
    "ti_inputs_t (ti_model_run_inputs), checked against the method's schema.\n"
    ".npy dtypes: <f4 <f8 <f2 |i1 |u1 <i2 <i4 <i8 |b1, C order, format 1.0/2.0/3.0.\n"
    "A bfloat16 output is written as float32 (exactly; NumPy has no bfloat16).\n"
    "\n"
    "  --method M   the method to run (default: forward)\n"
    "  -o, --output-dir DIR\n"
    "               where to write the output files (default: the current directory;\n"
    "               made if missing; existing files are replaced)\n"
    "  --json       print a JSON object instead of the summary: every leaf with its kind\n"
    "               (tensor: dtype, shape, data; string: value; none) and its file\n"
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

// Writes `head` then `body` to `path` (replaced if it exists).
void write_file(const std::string &path, const void *head, size_t head_len, const void *body, size_t body_len) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "cannot write " + path + ": " + std::strerror(errno));
  const bool ok = (head_len == 0 || std::fwrite(head, 1, head_len, f) == head_len) &&
                  (body_len == 0 || std::fwrite(body, 1, body_len, f) == body_len);
  const int err = errno;
  if (std::fclose(f) != 0 || !ok)
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "cannot write " + path + ": " + std::strerror(ok ? errno : err));
}

void write_npy(const std::string &path, npy::Dtype d, const std::vector<int64_t> &shape,
               const std::vector<uint8_t> &data) {
  const std::vector<uint8_t> head = npy::header(d, shape);
  write_file(path, head.data(), head.size(), data.data(), data.size());
}

// A str for the summary: JSON-quoted (escapes for control characters and NUL), cut at about
// `max` bytes on a character boundary.
std::string quoted(const std::string &text, size_t max) {
  size_t cut = text.size();
  if (cut > max) {
    cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  }
  std::string q = nlohmann::json(text.substr(0, cut)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (cut < text.size()) q += "... (" + std::to_string(text.size()) + " bytes)";
  return q;
}

// The data (already in the .npy dtype) as a flat JSON array.
nlohmann::json json_values(npy::Dtype d, const std::vector<uint8_t> &data) {
  const size_t size = npy::itemsize(d), n = data.size() / size;
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = data.data() + i * size;
    switch (d) {
      case npy::Dtype::f4: { float v; std::memcpy(&v, p, 4); a.push_back(static_cast<double>(v)); break; }
      case npy::Dtype::f8: { double v; std::memcpy(&v, p, 8); a.push_back(v); break; }
      case npy::Dtype::f2: a.push_back(static_cast<double>(half_to_float(load_u16(p)))); break;
      case npy::Dtype::i1: a.push_back(static_cast<int8_t>(*p)); break;
      case npy::Dtype::u1: a.push_back(*p); break;
      case npy::Dtype::i2: { int16_t v; std::memcpy(&v, p, 2); a.push_back(v); break; }
      case npy::Dtype::i4: { int32_t v; std::memcpy(&v, p, 4); a.push_back(v); break; }
      case npy::Dtype::i8: { int64_t v; std::memcpy(&v, p, 8); a.push_back(v); break; }
      case npy::Dtype::b1: a.push_back(*p != 0); break;
    }
  }
  return a;
}

void write_text(const std::string &path, const std::string &text) {
  write_file(path, nullptr, 0, text.data(), text.size());
}

}  // namespace

int cmd_run(int argc, char **argv) {
  std::string model_path, method = "forward", out_dir = ".";
  ModelOptions model_options;
  bool json = false;
  std::vector<std::string> specs;
  Args args("run", argc, argv);
  while (args.next()) {
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kHelp, stdout);
      std::fputs("\nLoading the model:\n", stdout);
      std::fputs(kModelOptionsHelp, stdout);
      return 0;
    } else if (args.is("--method")) {
      method = args.value();
    } else if (args.flag("--json")) {
      json = true;
    } else if (model_options.parse(args)) {
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

  const Inputs inputs = read_inputs("run", specs);
  ModelPtr model = load_model(model_path, model_options);
  const Call call(model.get(), method, inputs);
  ti_outputs_t *raw = nullptr;
  check(call.run(nullptr, &raw));  // the message names the method
  OutputsPtr outputs(raw);
  const ti_outputs_t *o = outputs.get();

  struct stat st;
  if (::stat(out_dir.c_str(), &st) != 0) {
    if (errno != ENOENT || ::mkdir(out_dir.c_str(), 0777) != 0)
      throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "-o " + out_dir + ": " + std::strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), "-o " + out_dir + ": not a directory");
  }
  const std::string prefix = out_dir == "." ? "" : out_dir + (out_dir.back() == '/' ? "" : "/");

  struct Row { std::string name, dtype, shape, values, path; };
  std::vector<Row> rows;
  nlohmann::ordered_json leaves = nlohmann::ordered_json::array();
  std::set<std::string> taken;
  const size_t count = ti_outputs_count(o);
  for (size_t i = 0; i < count; ++i) {
    Row r;
    r.name = ti_outputs_name(o, i);
    nlohmann::ordered_json leaf;
    leaf["name"] = r.name;
    const ti_kind_t kind = ti_outputs_kind(o, i);
    if (kind == TI_KIND_STRING) {
      const char *data = nullptr;
      size_t len = 0;
      check(ti_outputs_string(o, i, &data, &len), r.name);
      const std::string text(data, len);
      r.dtype = "str";
      r.shape = "-";
      r.values = quoted(text, 60);
      r.path = prefix + file_stem(r.name, &taken) + ".txt";
      write_text(r.path, text);
      leaf["kind"] = "string";
      leaf["value"] = text;
      leaf["file"] = r.path;
    } else if (kind == TI_KIND_NONE) {
      r.dtype = "None";
      r.shape = "-";
      r.values = "None";
      leaf["kind"] = "none";
    } else {
      const ti_dtype_t dtype = ti_outputs_dtype(o, i);
      const size_t ndim = ti_outputs_ndim(o, i);
      const int64_t *shape = ti_outputs_shape(o, i);
      std::vector<int64_t> shape_v(shape, shape + ndim);
      std::vector<uint8_t> data(ti_outputs_nbytes(o, i));
      check(ti_outputs_copy_to(o, i, data.data(), data.size()), r.name);
      const npy::Dtype nd = to_npy(dtype);
      if (dtype == TI_DTYPE_BFLOAT16) {
        std::vector<uint8_t> wide(data.size() * 2);
        for (size_t k = 0; k < data.size() / 2; ++k) {
          const float f = bf16_to_float(load_u16(data.data() + 2 * k));
          std::memcpy(wide.data() + 4 * k, &f, 4);
        }
        data.swap(wide);
      }
      r.dtype = ti_dtype_name(dtype);
      if (dtype == TI_DTYPE_BFLOAT16) r.dtype += " (saved as float32)";
      r.shape = shape_text(shape, ndim);
      r.values = values_text(nd, data, 6);
      r.path = prefix + file_stem(r.name, &taken) + ".npy";
      write_npy(r.path, nd, shape_v, data);
      leaf["kind"] = "tensor";
      leaf["dtype"] = ti_dtype_name(dtype);
      leaf["shape"] = shape_v;
      leaf["data"] = json_values(nd, data);
      leaf["file"] = r.path;
    }
    leaves.push_back(std::move(leaf));
    rows.push_back(std::move(r));
  }

  if (json) {
    nlohmann::ordered_json j;
    j["model"] = model_path;
    j["method"] = method;
    j["outputs"] = std::move(leaves);
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  size_t w_name = 4, w_dtype = 5, w_shape = 5;
  for (const Row &r : rows) {
    w_name = std::max(w_name, r.name.size());
    w_dtype = std::max(w_dtype, r.dtype.size());
    w_shape = std::max(w_shape, r.shape.size());
  }
  std::printf("%-*s  %-*s  %-*s  %s\n", static_cast<int>(w_name), "leaf", static_cast<int>(w_dtype), "dtype",
              static_cast<int>(w_shape), "shape", "values -> file");
  for (const Row &r : rows) {
    std::printf("%-*s  %-*s  %-*s  %s", static_cast<int>(w_name), r.name.c_str(), static_cast<int>(w_dtype),
                r.dtype.c_str(), static_cast<int>(w_shape), r.shape.c_str(), r.values.c_str());
    std::printf(r.path.empty() ? "\n" : " -> %s\n", r.path.c_str());
  }
  return 0;
}

}  // namespace cli

// Errors, argument scanning, model loading and .npy inputs for the torchinfer CLI.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "npy.h"

namespace cli {

void usage_error(const std::string &command, const std::string &message) {
  throw Error("", "torchinfer " + command + ": " + message + "\nTry 'torchinfer " + command + " --help'.",
              kExitUsage);
}

void check(ti_error_t *e, const std::string &context) {
  if (e == nullptr) return;
  const std::string code = ti_code_name(ti_error_code(e));
  std::string message = ti_error_message(e);
  ti_error_free(e);
  if (!context.empty()) message = context + ": " + message;
  throw Error(code, message);
}

const char kModelOptionsHelp[] =
    "  --device D   load onto D: cpu, cuda, cuda:N (default: cpu for TorchScript, the\n"
    "               compiled device for a .pt2)\n"
    "  --ops LIB    load the operator library LIB first (ti_op_library_load), e.g.\n"
    "               torchvision's _C.so for its detection models; repeatable\n"
    "  --no-native-code\n"
    "               load interpreted formats only: refuse a .pt2 (native code) before\n"
    "               anything from it is written or mapped\n";

bool ModelOptions::parse(Args &args) {
  if (args.is("--device")) {
    device = args.value();
  } else if (args.is("--ops")) {
    ops.push_back(args.value());
  } else if (args.flag("--no-native-code")) {
    allow_native_code = false;
  } else {
    return false;
  }
  return true;
}

ModelPtr load_model(const std::string &path, const ModelOptions &options) {
  for (const std::string &lib : options.ops) check(ti_op_library_load(lib.c_str()), "--ops");  // the message names the file
  std::unique_ptr<ti_load_options_t, void (*)(ti_load_options_t *)> opts(ti_load_options_create(),
                                                                          ti_load_options_free);
  if (!opts) throw Error(ti_code_name(TI_ERR_OUT_OF_MEMORY), "cannot allocate load options");
  if (!options.device.empty()) check(ti_load_options_set_device(opts.get(), options.device.c_str()), "--device");
  if (!options.allow_native_code)
    check(ti_load_options_set_allow_native_code(opts.get(), 0), "--no-native-code");
  ti_model_t *m = nullptr;
  check(ti_model_load(path.c_str(), opts.get(), &m));  // the message names the file
  return ModelPtr(m);
}

namespace {

// Reads a whole regular file; a missing file is TI_ERR_NOT_FOUND.
std::vector<uint8_t> read_file(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(ti_code_name(err == ENOENT || err == ENOTDIR ? TI_ERR_NOT_FOUND : TI_ERR_INVALID_ARGUMENT),
                path + ": " + std::strerror(err));
  }
  std::vector<uint8_t> buf;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), path + ": not a regular file");
  }
  buf.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT),
                  path + ": read failed: " + (n == 0 ? "file shrank while reading" : std::strerror(err)));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return buf;
}

ti_dtype_t to_ti(npy::Dtype d) {
  switch (d) {
    case npy::Dtype::f4: return TI_DTYPE_FLOAT32;
    case npy::Dtype::f8: return TI_DTYPE_FLOAT64;
    case npy::Dtype::f2: return TI_DTYPE_FLOAT16;
    case npy::Dtype::i1: return TI_DTYPE_INT8;
    case npy::Dtype::u1: return TI_DTYPE_UINT8;
    case npy::Dtype::i2: return TI_DTYPE_INT16;
    case npy::Dtype::i4: return TI_DTYPE_INT32;
    case npy::Dtype::i8: return TI_DTYPE_INT64;
    case npy::Dtype::b1: return TI_DTYPE_BOOL;
  }
  return TI_DTYPE_FLOAT32;
}

}  // namespace

namespace {

bool has_prefix(const std::string &s, const char *prefix, std::string *rest) {
  const size_t n = std::strlen(prefix);
  if (s.compare(0, n, prefix) != 0) return false;
  *rest = s.substr(n);
  return true;
}

void read_npy(Input *in) {
  std::vector<uint8_t> file = read_file(in->path);
  npy::Array a;
  std::string why;
  if (!npy::parse(file.data(), file.size(), &a, &why))
    throw Error(ti_code_name(TI_ERR_INVALID_ARGUMENT), in->path + ": not a usable .npy file: " + why);
  in->dtype = to_ti(a.dtype);
  in->shape = a.shape;
  in->data.assign(file.begin() + static_cast<std::ptrdiff_t>(a.data_offset), file.end());
}

// The typed VALUE of PATH=VALUE; false when it names a file.
bool parse_typed(const std::string &command, const std::string &value, Input *in) {
  std::string rest;
  auto bad = [&](const char *what) {
    usage_error(command, "'" + in->spec + "': " + what + ", not '" + rest + "'");
  };
  if (has_prefix(value, "str:", &rest)) {
    in->kind = Kind::string;
    in->text = rest;
  } else if (has_prefix(value, "strfile:", &rest)) {
    in->kind = Kind::string;
    in->path = rest;
    const std::vector<uint8_t> bytes = read_file(rest);
    in->text.assign(bytes.begin(), bytes.end());
  } else if (has_prefix(value, "int:", &rest)) {
    char *end = nullptr;
    errno = 0;
    const long long v = std::strtoll(rest.c_str(), &end, 10);
    if (rest.empty() || *end != '\0' || errno != 0) bad("int: needs a decimal 64-bit integer");
    in->kind = Kind::integer;
    in->int_value = v;
  } else if (has_prefix(value, "float:", &rest)) {
    char *end = nullptr;
    errno = 0;
    const double v = std::strtod(rest.c_str(), &end);
    if (rest.empty() || *end != '\0' || errno == ERANGE) bad("float: needs a number");
    in->kind = Kind::real;
    in->float_value = v;
  } else if (has_prefix(value, "bool:", &rest)) {
    if (rest == "true" || rest == "True" || rest == "1")
      in->bool_value = true;
    else if (rest == "false" || rest == "False" || rest == "0")
      in->bool_value = false;
    else
      bad("bool: needs true or false");
    in->kind = Kind::boolean;
  } else if (value == "none") {
    in->kind = Kind::none;
  } else if (value == "empty") {
    in->kind = Kind::empty;
  } else {
    return false;
  }
  return true;
}

bool is_decimal(const std::string &s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

Input read_input(const std::string &command, const std::string &spec) {
  Input in;
  in.spec = spec;
  in.path = spec;
  const size_t eq = spec.find('=');
  if (eq != std::string::npos && eq > 0 && spec.find('/') > eq) {
    in.name = spec.substr(0, eq);
    in.path = spec.substr(eq + 1);
    if (parse_typed(command, in.path, &in)) return in;
  }
  read_npy(&in);
  return in;
}

TensorPtr make_tensor(const Input &in) {
  ti_tensor_t *t = nullptr;
  check(ti_tensor_create(in.dtype, in.shape.data(), in.shape.size(), in.data.data(), in.data.size(), &t),
        in.path);
  return TensorPtr(t);
}

Inputs read_inputs(const std::string &command, const std::vector<std::string> &specs) {
  Inputs inputs;
  for (const std::string &s : specs) {
    inputs.items.push_back(read_input(command, s));
    if (inputs.items.back().name.empty() != inputs.items.front().name.empty())
      usage_error(command, "inputs must be all named (PATH=VALUE) or all positional (FILE.npy)");
  }
  return inputs;
}

bool Inputs::plain() const {
  for (const Input &in : items) {
    if (in.kind != Kind::tensor) return false;
    if (!in.name.empty() && (in.name.find_first_of(".\\") != std::string::npos || is_decimal(in.name)))
      return false;
  }
  return true;
}

Call::Call(ti_model_t *model, const std::string &method, const Inputs &inputs)
    : model_(model), method_(method), named_(inputs.named()) {
  if (inputs.plain()) {
    for (const Input &in : inputs.items) {
      tensors_.push_back(make_tensor(in));
      ptrs_.push_back(tensors_.back().get());
      names_.push_back(in.name.c_str());
    }
    return;
  }
  ti_inputs_t *raw = nullptr;
  check(ti_inputs_create(model, method.c_str(), &raw));  // the message names the method
  args_.reset(raw);
  ti_inputs_t *a = args_.get();
  for (size_t i = 0; i < inputs.items.size(); ++i) {
    const Input &in = inputs.items[i];
    const std::string path = in.name.empty() ? std::to_string(i) : in.name;
    const char *p = path.c_str();
    ti_error_t *e = nullptr;
    switch (in.kind) {
      case Kind::tensor: {
        TensorPtr t = make_tensor(in);
        e = ti_inputs_set_tensor(a, p, t.get());  // the inputs keep their own reference
        break;
      }
      case Kind::string: e = ti_inputs_set_string(a, p, in.text.data(), in.text.size()); break;
      case Kind::integer: e = ti_inputs_set_int(a, p, in.int_value); break;
      case Kind::real: e = ti_inputs_set_float(a, p, in.float_value); break;
      case Kind::boolean: e = ti_inputs_set_bool(a, p, in.bool_value ? 1 : 0); break;
      case Kind::none: e = ti_inputs_set_none(a, p); break;
      case Kind::empty: e = ti_inputs_set_empty(a, p); break;
    }
    check(e, path);  // the library's message names the argument, its declared type and the bad segment
  }
}

ti_error_t *Call::run(const ti_run_options_t *opts, ti_outputs_t **out) const {
  if (args_) return ti_model_run_inputs(model_, args_.get(), opts, out);
  return ti_model_run(model_, method_.c_str(), names(), ptrs_.data(), ptrs_.size(), opts, out);
}

bool Args::next() {
  if (++i_ >= argc_) return false;
  arg_ = argv_[i_];
  has_inline_ = false;
  positional_ = options_done_ || arg_.size() < 2 || arg_[0] != '-';
  if (!positional_ && arg_ == "--") {
    options_done_ = true;
    return next();
  }
  if (!positional_ && arg_.compare(0, 2, "--") == 0) {
    const size_t eq = arg_.find('=');
    if (eq != std::string::npos) {
      inline_value_ = arg_.substr(eq + 1);
      arg_.resize(eq);
      has_inline_ = true;
    }
  }
  return true;
}

bool Args::is(const char *name) const { return !positional_ && arg_ == name; }

bool Args::flag(const char *name) const {
  if (!is(name)) return false;
  if (has_inline_) usage_error(command_, std::string("option ") + name + " takes no value");
  return true;
}

std::string Args::value() {
  if (has_inline_) return inline_value_;
  if (i_ + 1 >= argc_) usage_error(command_, "option " + arg_ + " needs a value");
  return argv_[++i_];
}

int Args::int_value(int min) {
  const std::string opt = arg_, v = value();
  char *end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > 1000000000)
    usage_error(command_, "option " + opt + " needs an integer >= " + std::to_string(min) + ", not '" + v + "'");
  return static_cast<int>(n);
}

double Args::double_value(double min_exclusive) {
  const std::string opt = arg_, v = value();
  char *end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d > min_exclusive) || d > 1e9)
    usage_error(command_, "option " + opt + " needs a number > " + std::to_string(min_exclusive).substr(0, 3) +
                              ", not '" + v + "'");
  return d;
}

void Args::unknown() const {
  if (positional_) usage_error(command_, "unexpected argument '" + arg_ + "'");
  usage_error(command_, "unknown option '" + arg_ + "'");
}

std::string shape_text(const int64_t *shape, size_t ndim) {
  std::string s = "[";
  for (size_t i = 0; i < ndim; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace cli

#include "core/aotinductor/model.h"

#include "core/aotinductor/cpu_isa.h"

#include "core/device.h"
#include "core/error.h"

#if TI_HAVE_AOTI
#include "core/aotinductor/input_spec.h"
#include "core/aotinductor/tree_spec.h"
#include "core/tensor.h"

#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#endif

namespace ti::core::aotinductor {

#if !TI_HAVE_AOTI

std::unique_ptr<Model> load(const archive::ByteSource&, const archive::Sniffed&, const std::string*,
                            const LoadConfig&) {
  fail(ErrorKind::Unsupported,
       "this is an AOTInductor package (.pt2); loading one needs libtorchinfer built against "
       "LibTorch 2.6 or newer, and this one was built against LibTorch " TI_TORCH_VERSION_STRING);
}

#else

namespace {

constexpr size_t kMaxWrapperSource = 256u << 20;

std::optional<c10::ScalarType> scalar_type_of(const std::string& aoti_name) {
  static const std::pair<const char*, c10::ScalarType> table[] = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf},
      {"bfloat16", at::kBFloat16}, {"int8", at::kChar}, {"uint8", at::kByte},
      {"int16", at::kShort}, {"int32", at::kInt}, {"int64", at::kLong}, {"bool", at::kBool},
      {"complex64", at::kComplexFloat}, {"complex128", at::kComplexDouble},
  };
  for (const auto& [name, type] : table) {
    if (aoti_name == name) return type;
  }
  return std::nullopt;
}

// A private file holding the caller's buffer, for LibTorch's loader, which reads only files.
class TempFile {
 public:
  TempFile(const void* data, size_t len) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/torchinfer-XXXXXX.pt2";
    const int fd = ::mkstemps(path_.data(), 4);  // mode 0600
    if (fd < 0) fail(ErrorKind::Runtime, "cannot create a temporary file for the package: " + std::string(std::strerror(errno)));
    size_t done = 0;
    while (done < len) {
      const ssize_t n = ::write(fd, static_cast<const char*>(data) + done, len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(path_.c_str());
        fail(ErrorKind::Runtime, "cannot write the package to a temporary file: " + std::string(std::strerror(err)));
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Input {
  InputSpec spec;
  c10::ScalarType dtype;
  std::vector<int64_t> fixed_strides;  // all strides, when every one is static; else empty
};

// One model of the package: its loader, its checked inputs and its output names.
struct Entry {
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;
  std::vector<Input> inputs;
  bool dynamic = false;  // some size is not static: bind symbols and check ranges per call
  std::vector<std::string> output_names;
};

std::string describe(const Input& in) {
  std::string dims;
  for (const auto& d : in.spec.dims) dims += (dims.empty() ? "" : ", ") + d.text;
  return "Tensor(" + in.spec.dtype + ", [" + dims + "])";
}

std::string wrapper_source(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                           const std::string& model) {
  const archive::ZipEntry* best = nullptr;
  for (const archive::ZipEntry* e : archive::aoti_model_entries(sniffed, model)) {
    const std::string& n = e->name;
    const bool wrapper = n.size() > 12 && n.compare(n.size() - 12, 12, ".wrapper.cpp") == 0;
    const bool cpp = n.size() > 4 && n.compare(n.size() - 4, 4, ".cpp") == 0 &&
                     n.find(".kernel.cpp") == std::string::npos;
    if (wrapper || (cpp && !best)) best = e;
  }
  std::string text;
  if (!best) {
    fail(ErrorKind::ModelFormat, "model '" + model + "' of the package carries no wrapper source, "
                                 "so its inputs cannot be checked before its compiled code runs");
  }
  if (!archive::read_stored_entry(source.reader(), source.size(), *best, kMaxWrapperSource, text)) {
    fail(ErrorKind::ModelFormat, "cannot read '" + best->name + "' from the package (compressed, "
                                 "truncated or over " + std::to_string(kMaxWrapperSource >> 20) + " MiB)");
  }
  return text;
}

class AotiModel final : public Model {
 public:
  AotiModel(c10::Device device, std::vector<Entry> entries, std::vector<MethodSpec> specs,
            std::vector<std::pair<std::string, std::string>> aliases)
      : Model(device, std::move(specs), std::move(aliases)), entries_(std::move(entries)) {}

  const char* format() const noexcept override { return "aotinductor"; }
  bool stops_at_operators() const noexcept override { return false; }
  bool flat_inputs() const noexcept override { return true; }

 private:
  void call(const MethodSpec& m, const at::Tensor* const* slots, Leaves& out) const override {
    const Entry& e = entries_[m.index];
    std::vector<at::Tensor> inputs;
    inputs.reserve(e.inputs.size());
    std::map<std::string, int64_t> bindings;
    if (e.dynamic) {
      for (size_t i = 0; i < e.inputs.size(); ++i) {
        const auto sizes = slots[i]->sizes();
        bind_symbols(e.inputs[i].spec, sizes.data(), sizes.size(), bindings);
      }
    }
    for (size_t i = 0; i < e.inputs.size(); ++i) inputs.push_back(checked_input(m, e, i, *slots[i], bindings));
    std::vector<at::Tensor> results;
    try {
      results = e.loader->run(inputs);
    } catch (...) {
      auto info = describe_current_exception(ErrorKind::Runtime);
      fail(info.kind, "method '" + m.name + "' failed: " + info.message);
    }
    if (results.size() != e.output_names.size()) {
      fail(ErrorKind::Runtime, "method '" + m.name + "' returned " + std::to_string(results.size()) +
                                   " tensors; its output spec has " + std::to_string(e.output_names.size()));
    }
    for (size_t i = 0; i < results.size(); ++i) append_leaf(e.output_names[i], results[i], out);
  }

  at::Tensor checked_input(const MethodSpec& m, const Entry& e, size_t i, const at::Tensor& t,
                           const std::map<std::string, int64_t>& bindings) const {
    const Input& in = e.inputs[i];
    auto bad = [&](const std::string& what) {
      fail(ErrorKind::InvalidArgument, "input '" + m.args[i].name + "' of method '" + m.name + "' " +
                                           what + " (the model takes " + m.args[i].type + ")");
    };
    if (t.scalar_type() != in.dtype) bad("is " + std::string(c10::toString(t.scalar_type())));
    const auto sizes = t.sizes();
    const std::string problem = check_sizes(in.spec, sizes.data(), sizes.size(), bindings);
    if (!problem.empty()) bad(problem);
    at::Tensor arg = t.device() == device() ? t : t.to(device());
    // The compiled code assumes the strides it was exported with; inputs are contiguous.
    const auto strides = arg.strides();
    for (size_t d = 0; d < in.spec.strides.size(); ++d) {
      if (in.spec.strides[d] && *in.spec.strides[d] != strides[d] && sizes[d] > 1) {
        if (in.fixed_strides.empty()) bad("is not laid out with the strides the model was exported for");
        at::Tensor laid_out = at::empty_strided(sizes, in.fixed_strides, arg.options());
        laid_out.copy_(arg);
        return laid_out;
      }
    }
    return arg;
  }

  std::vector<Entry> entries_;
};

Entry load_entry(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                 const std::string& file, const std::string& model, const c10::Device& device,
                 MethodSpec& spec) {
  Entry e;
  std::vector<InputSpec> specs;
  std::string why;
  if (!parse_input_specs(wrapper_source(source, sniffed, model), specs, why)) {
    fail(ErrorKind::ModelFormat, "cannot read the input spec of model '" + model + "' in the package: " + why);
  }
  for (auto& s : specs) {
    auto dtype = scalar_type_of(s.dtype);
    if (!dtype) fail(ErrorKind::Unsupported, "input " + s.internal_name + " of model '" + model + "' has dtype " + s.dtype);
    const int want = device.is_cuda() ? 1 : 0;
    if (s.device_type >= 0 && s.device_type != want) {
      fail(ErrorKind::Device, "model '" + model + "' was compiled for inputs on " +
                                  std::string(s.device_type == 1 ? "cuda" : "another device type") +
                                  ", not " + device_name(device));
    }
    Input in{std::move(s), *dtype, {}};
    bool all_static = true;
    for (const auto& st : in.spec.strides) all_static = all_static && st.has_value();
    if (all_static) {
      for (const auto& st : in.spec.strides) in.fixed_strides.push_back(*st);
    }
    for (const auto& d : in.spec.dims) e.dynamic = e.dynamic || !d.fixed;
    e.inputs.push_back(std::move(in));
  }
  const size_t runners = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  try {
    e.loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
        file, model, /*run_single_threaded=*/false, runners,
        static_cast<c10::DeviceIndex>(device.is_cuda() ? device.index() : -1));
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::ModelFormat);
    fail(info.kind, "cannot load model '" + model + "' of the AOTInductor package: " + info.message);
  }
  const auto call_spec = e.loader->get_call_spec();
  if (call_spec.size() != 2) fail(ErrorKind::ModelFormat, "model '" + model + "' has no call spec");
  std::vector<std::string> names = input_leaf_names(call_spec[0]);
  e.output_names = output_leaf_names(call_spec[1]);
  if (names.size() != e.inputs.size()) {
    // Non-tensor arguments were specialised away: name the tensor inputs by position.
    names.clear();
    for (size_t i = 0; i < e.inputs.size(); ++i) names.push_back(std::to_string(i));
  }
  spec.args.clear();
  for (size_t i = 0; i < e.inputs.size(); ++i) {
    const auto& dims = e.inputs[i].spec.dims;
    spec.args.push_back({names[i], describe(e.inputs[i]), ArgKind::Tensor, false, c10::IValue(),
                         c10::TensorType::get(), !dims.empty() && dims[0].fixed.has_value()});
  }
  spec.required = spec.args.size();
  // A signature for ti_model_method_schema: "forward(Tensor(float32, [s0, 8]) x) -> (sum, relu)".
  spec.schema = spec.name + "(";
  for (size_t i = 0; i < spec.args.size(); ++i) {
    spec.schema += (i ? ", " : "") + spec.args[i].type + " " + spec.args[i].name;
  }
  spec.schema += ") -> (";
  for (size_t i = 0; i < e.output_names.size(); ++i) spec.schema += (i ? ", " : "") + e.output_names[i];
  spec.schema += ")";
  return e;
}

}  // namespace

std::unique_ptr<Model> load(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                            const std::string* path, const LoadConfig& config) {
  std::unique_ptr<TempFile> temp;
  if (!path) {
    temp = std::make_unique<TempFile>(source.memory_data(), static_cast<size_t>(source.size()));
  }
  const std::string& file = path ? *path : temp->path();

  // The device: the one asked for, which must be the kind the package was compiled for, or
  // by default the package's own. Never a silent fallback.
  std::string compiled_for, machine, isa;
  try {
    auto metadata = torch::inductor::AOTIModelPackageLoader::load_metadata_from_package(file, sniffed.aoti_models.front());
    compiled_for = metadata["AOTI_DEVICE_KEY"];
    if (metadata.count("AOTI_MACHINE")) machine = metadata["AOTI_MACHINE"];
    if (metadata.count("AOTI_CPU_ISA")) isa = metadata["AOTI_CPU_ISA"];
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::ModelFormat);
    fail(info.kind, "cannot read the AOTInductor package's metadata: " + info.message);
  }
  if (compiled_for.empty()) compiled_for = "cpu";
  if (compiled_for == "cpu") {
    // Code for an instruction set this CPU lacks would die with SIGILL on its first call. A
    // package without AOTI_CPU_ISA cannot be checked (see the README: export with a portable ISA).
    const std::string why = check_cpu_isa(machine, isa, this_cpu());
    if (!why.empty()) fail(ErrorKind::Unsupported, "cannot run this AOTInductor package here: " + why);
  }
  c10::Device device = c10::kCPU;
  if (config.device_set) {
    device = resolve_device(config.device);
    if (c10::DeviceTypeName(device.type(), /*lower_case=*/true) != compiled_for) {
      fail(ErrorKind::Device, "the package was compiled for " + compiled_for + " and cannot run on " +
                                  device_name(device));
    }
  } else if (compiled_for == "cuda") {
    try {
      device = resolve_device(parse_device("cuda"));
    } catch (const Error&) {
      fail(ErrorKind::Device, "the package was compiled for CUDA and no CUDA device is present");
    }
  } else if (compiled_for != "cpu") {
    fail(ErrorKind::Device, "the package was compiled for '" + compiled_for + "', which this library does not run");
  }

  std::vector<Entry> entries;
  std::vector<MethodSpec> specs;
  std::vector<std::pair<std::string, std::string>> aliases;
  for (const std::string& model : sniffed.aoti_models) {
    // AOTInductor's default model name is "model": that one is forward (and keeps its name as
    // an alias); a package with a single model of another name runs it as forward too.
    const bool is_forward = model == "model" || sniffed.aoti_models.size() == 1;
    MethodSpec spec{is_forward ? "forward" : model, entries.size(), {}, 0, {}};
    if (is_forward && model != "forward") aliases.emplace_back(model, "forward");
    entries.push_back(load_entry(source, sniffed, file, model, device, spec));
    specs.push_back(std::move(spec));
  }
  return std::make_unique<AotiModel>(device, std::move(entries), std::move(specs), std::move(aliases));
}

#endif  // TI_HAVE_AOTI

}  // namespace ti::core::aotinductor

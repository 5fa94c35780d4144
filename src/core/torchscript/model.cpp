#include "core/torchscript/model.h"

#include "core/torchscript/pickle_check.h"
#include "core/torchscript/source_check.h"

#include "core/device.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/tensor.h"

#include <caffe2/serialize/read_adapter_interface.h>
#include <caffe2/serialize/versions.h>
#include <torch/csrc/jit/api/method.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/serialization/import.h>

#include <pthread.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <exception>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace ti::core::torchscript {
namespace {

// Serves torch::jit::load from the model's bytes (pread on a file, or the caller's buffer,
// which load reads completely before returning), with a few bytes replaced: the renamed
// central-directory names that hide records from LibTorch.
class ArchiveReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  ArchiveReader(archive::ByteSource source, std::vector<std::pair<uint64_t, char>> patches)
      : source_(std::move(source)), patches_(std::move(patches)) {
    std::sort(patches_.begin(), patches_.end());
  }
  size_t size() const override { return static_cast<size_t>(source_.size()); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    const size_t got = source_.reader()(pos, buf, n);
    auto it = std::lower_bound(patches_.begin(), patches_.end(), std::make_pair(pos, '\0'));
    for (; it != patches_.end() && it->first < pos + got; ++it) {
      static_cast<char*>(buf)[it->first - pos] = it->second;
    }
    return got;
  }

 private:
  archive::ByteSource source_;
  std::vector<std::pair<uint64_t, char>> patches_;
};

ArgKind classify_argument(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType: return ArgKind::Tensor;
    case c10::TypeKind::IntType: return ArgKind::Int;
    case c10::TypeKind::FloatType: return ArgKind::Float;
    case c10::TypeKind::BoolType: return ArgKind::Bool;
    case c10::TypeKind::OptionalType: {
      auto element = type->expectRef<c10::OptionalType>().getElementType();
      return element->kind() == c10::TypeKind::TensorType ? ArgKind::OptionalTensor : ArgKind::Other;
    }
    default: return ArgKind::Other;
  }
}

// Which arguments (without self) the method may write to, through any alias: alias analysis
// of its graph with every call inlined. When the analysis fails, every argument counts as
// written (a copy too many costs time; a copy too few would change the caller's data).
std::vector<bool> written_arguments(const torch::jit::Method& method) {
  const size_t n = method.function().getSchema().arguments().size() - 1;
  try {
    auto graph = method.graph()->copy();
    torch::jit::Inline(*graph);
    torch::jit::AliasDb alias_db(graph);
    std::vector<bool> written(n, false);
    for (size_t i = 0; i < n && i + 1 < graph->inputs().size(); ++i) {
      written[i] = alias_db.hasWriters(graph->inputs()[i + 1]);
    }
    return written;
  } catch (...) {
    return std::vector<bool>(n, true);
  }
}

MethodSpec describe_method(const torch::jit::Method& method, size_t index) {
  MethodSpec spec{method.name(), index, {}, 0, {}};
  const auto& schema = method.function().getSchema();
  const auto& arguments = schema.arguments();
  bool seen_default = false;
  for (size_t i = 1; i < arguments.size(); ++i) {  // 0 is self
    const auto& arg = arguments[i];
    ArgSpec a{arg.name(), arg.type()->annotation_str(), classify_argument(arg.type()),
              arg.default_value().has_value(), arg.default_value().value_or(c10::IValue()), arg.type()};
    if (!a.has_default && !seen_default) spec.required = spec.args.size() + 1;
    seen_default = seen_default || a.has_default;
    spec.args.push_back(std::move(a));
  }
  std::vector<c10::Argument> without_self(arguments.begin() + (arguments.empty() ? 0 : 1), arguments.end());
  std::ostringstream printed;
  printed << schema.cloneWithArguments(std::move(without_self));
  spec.schema = printed.str();
  return spec;
}

class TorchScriptModel final : public Model {
 public:
  TorchScriptModel(torch::jit::Module module, std::vector<torch::jit::Method> methods,
                   std::vector<MethodSpec> specs, c10::Device device)
      : Model(device, std::move(specs)),
        module_(std::move(module)),
        methods_(std::move(methods)),
        written_(new Written[methods_.size()]) {
    // Storages of the module's state (parameters, buffers, other tensor attributes, in every
    // submodule): a result leaf sharing one would change when a later call updates the state.
    for (const auto& attribute : module_.named_attributes(/*recurse=*/true)) {
      if (attribute.value.isTensor()) {
        const auto& t = attribute.value.toTensor();
        if (t.defined() && t.has_storage()) state_storages_.insert(t.storage().unsafeGetStorageImpl());
      }
    }
  }

  const char* format() const noexcept override { return "torchscript"; }
  bool stops_at_operators() const noexcept override { return true; }

 private:
  void call(const MethodSpec& m, const at::Tensor* const* slots, Leaves& out) const override {
    // Alias analysis runs on a method's first call rather than at load: inlining the graph
    // builds the callees' optimised graphs, which LibTorch's executor builds (and caches) on
    // that first call anyway.
    const std::vector<bool>& written = written_arguments_of(m);
    std::vector<c10::IValue> stack;
    stack.reserve(m.args.size() + 1);  // + self, which Method inserts in front
    for (size_t i = 0; i < m.args.size(); ++i) {
      stack.push_back(slots[i] ? convert(m, i, *slots[i], written[i]) : m.args[i].default_value);
    }
    run_stack(m, std::move(stack), out);
  }

  void call_values(const MethodSpec& m, const BuildArgument& build, Leaves& out) const override {
    const std::vector<bool>& written = written_arguments_of(m);
    std::vector<c10::IValue> stack;
    stack.reserve(m.args.size() + 1);
    for (size_t i = 0; i < m.args.size(); ++i) {
      std::optional<c10::IValue> v = build(i, written[i], device());
      stack.push_back(v ? std::move(*v) : m.args[i].default_value);
    }
    run_stack(m, std::move(stack), out);
  }

  const std::vector<bool>& written_arguments_of(const MethodSpec& m) const {
    Written& written = written_[m.index];
    std::call_once(written.once, [&] { written.args = written_arguments(methods_[m.index]); });
    return written.args;
  }

  void run_stack(const MethodSpec& m, std::vector<c10::IValue> stack, Leaves& out) const {
    c10::IValue result;
    try {
      result = methods_[m.index](std::move(stack));
    } catch (...) {
      auto info = describe_current_exception(ErrorKind::Runtime);
      fail(info.kind, "method '" + m.name + "' failed: " + info.message);
    }
    const size_t first = out.size();
    flatten_result(result, out);
    if (state_storages_.empty()) return;
    for (size_t i = first; i < out.size(); ++i) {
      auto& t = out[i].tensor;
      if (t.defined() && t.has_storage() && state_storages_.count(t.storage().unsafeGetStorageImpl())) t = t.clone();
    }
  }

  // `written`: the method may write to this argument, so it gets a private copy (the library
  // promises never to modify the caller's tensors).
  c10::IValue convert(const MethodSpec& m, size_t index, const at::Tensor& input, bool written) const {
    const ArgSpec& arg = m.args[index];
    const std::string what = "input '" + arg.name + "' of method '" + m.name + "' is " + arg.type;
    switch (arg.kind) {
      case ArgKind::Tensor:
      case ArgKind::OptionalTensor:
        if (input.device() != device()) return input.to(device());  // a copy already
        return written ? input.clone() : input;
      case ArgKind::Int: return scalar_from_tensor(input, c10::TypeKind::IntType, what);
      case ArgKind::Float: return scalar_from_tensor(input, c10::TypeKind::FloatType, what);
      case ArgKind::Bool: return scalar_from_tensor(input, c10::TypeKind::BoolType, what);
      case ArgKind::Other: break;
    }
    fail(ErrorKind::Unsupported, "input '" + arg.name + "' of method '" + m.name + "' has type " +
                                     arg.type + "; the C API passes tensors (and one-element "
                                     "tensors to int, float and bool arguments)");
  }

  torch::jit::Module module_;  // owns what methods_ refer to
  std::vector<torch::jit::Method> methods_;
  std::unordered_set<const c10::StorageImpl*> state_storages_;
  struct Written {
    std::once_flag once;
    std::vector<bool> args;
  };
  std::unique_ptr<Written[]> written_;  // per method, filled on its first call
};

// "Unknown builtin op: torchvision::nms." followed by a long traceback: the operator's name.
std::string unknown_operator(const std::string& message) {
  static const std::string marker = "Unknown builtin op: ";
  const size_t at = message.find(marker);
  if (at == std::string::npos) return std::string();
  size_t end = at + marker.size();
  while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) ||
                                  message[end] == '_' || message[end] == ':')) {
    ++end;
  }
  return message.substr(at + marker.size(), end - at - marker.size());
}

template <typename LoadFn>
torch::jit::Module load_module(const std::string& what, LoadFn&& load) {
  try {
    return load();
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::ModelFormat);
    const std::string op = unknown_operator(info.message);
    if (!op.empty()) {
      const std::string ns = op.substr(0, op.find("::"));
      fail(ErrorKind::ModelFormat, "cannot load " + what + ": it uses the operator " + op +
                                       ", which is not registered; load the library that registers " +
                                       "the '" + ns + "' operators (torchvision's _C, torchaudio, ...) " +
                                       "with ti_op_library_load before the model");
    }
    fail(info.kind, "cannot load " + what + " as a TorchScript model: " + info.message);
  }
}

// Level 1: freeze (attributes become constants, calls are inlined) and LibTorch's inference
// passes. Methods other than forward are kept by naming them.
torch::jit::Module optimize(torch::jit::Module module) {
  std::vector<std::string> others;
  for (const auto& method : module.get_methods()) {
    if (method.name() != "forward") others.push_back(method.name());
  }
  try {
    auto frozen = torch::jit::freeze(module, others);
    return torch::jit::optimize_for_inference(frozen, others);
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::Unsupported);
    fail(info.kind == ErrorKind::OutOfMemory ? info.kind : ErrorKind::Unsupported,
         "cannot optimise this model (optimize level 1: freeze + optimize_for_inference): " + info.message +
             "; load it with level 0");
  }
}

std::unique_ptr<Model> finish_load(torch::jit::Module module, const c10::Device& device, int optimize_level) {
  module.eval();
  if (optimize_level >= 1) module = optimize(std::move(module));
  std::vector<torch::jit::Method> methods;
  std::vector<MethodSpec> specs;
  for (const auto& method : module.get_methods()) {
    specs.push_back(describe_method(method, methods.size()));
    methods.push_back(method);
  }
  return std::make_unique<TorchScriptModel>(std::move(module), std::move(methods), std::move(specs),
                                            device);
}

// Runs fn() to completion on a new thread with a 256 MiB stack (reserved, touched only as
// deep as fn goes) and returns its result or rethrows its exception here. If no thread can be
// started, runs fn() on the caller's thread.
template <typename Fn>
std::unique_ptr<Model> on_large_stack(Fn& fn) {
  struct Task {
    Fn* fn;
    std::unique_ptr<Model> result;
    std::exception_ptr error;
    static void* run(void* p) {
      auto* t = static_cast<Task*>(p);
      try {
        t->result = (*t->fn)();
      } catch (...) {
        t->error = std::current_exception();
      }
      return nullptr;
    }
  };
  Task task{&fn, nullptr, nullptr};
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return fn();
  pthread_t thread;
  const bool started = pthread_attr_setstacksize(&attr, size_t{256} << 20) == 0 &&
                       pthread_create(&thread, &attr, &Task::run, &task) == 0;
  pthread_attr_destroy(&attr);
  if (!started) return fn();
  pthread_join(thread, nullptr);
  if (task.error) std::rethrow_exception(task.error);
  return std::move(task.result);
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// LibTorch's ZIP reader (miniz) finds a record whatever the case of its name: "CODE/x.PY" is
// read as code/x.py. Names are compared as it does, in ASCII lower case.
std::string lower_case(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Every record LibTorch will parse: the code, and the pickles data.pkl and constants.pkl (whose
// tensors point at data/<key> and constants/<key>). Debug pickles are hidden from LibTorch (see
// load), so never read; one named in another case would not be hidden, and is refused.
void check_records(const archive::ByteSource& source, const archive::Sniffed& sniffed, SourceShape& shape) {
  constexpr size_t kMaxRecordBytes = size_t{256} << 20;
  auto read = [&](const archive::ZipEntry& e) {
    std::string bytes;
    if (!archive::read_entry(source.reader(), source.size(), e, kMaxRecordBytes, bytes)) {
      fail(ErrorKind::ModelFormat, "archive record '" + e.name + "' is damaged or over " +
                                       std::to_string(kMaxRecordBytes >> 20) + " MiB");
    }
    return bytes;
  };
  std::unordered_map<std::string, uint64_t> sizes;
  for (const auto& e : sniffed.entries) sizes.emplace(lower_case(e.name), e.uncompressed_size);
  for (const auto& e : sniffed.entries) {
    const std::string name = lower_case(e.name);
    const size_t slash = name.find('/');
    if (slash == std::string::npos) continue;
    const std::string dir = name.substr(0, slash + 1);
    if (ends_with(name, ".debug_pkl") && !ends_with(e.name, ".debug_pkl")) {
      fail(ErrorKind::ModelFormat, "archive entry '" + e.name + "' is a debug pickle named in another case than "
                                   "torch.jit.save writes");
    }
    if (name.compare(0, dir.size() + 5, dir + "code/") == 0 && ends_with(name, ".py")) {
      const std::string problem = check_source(read(e), &shape);
      if (!problem.empty()) fail(ErrorKind::ModelFormat, "TorchScript source '" + e.name + "' is refused: " + problem);
      continue;
    }
    std::string records;
    if (name == dir + "data.pkl") {
      records = dir + "data/";
    } else if (name == dir + "constants.pkl") {
      records = dir + "constants/";
    } else {
      continue;
    }
    const RecordSize record_size = [&](const std::string& key) -> std::optional<uint64_t> {
      auto it = sizes.find(lower_case(records + key));
      if (it == sizes.end()) return std::nullopt;
      return it->second;
    };
    const std::string problem = check_pickle(read(e), record_size);
    if (!problem.empty()) fail(ErrorKind::ModelFormat, "archive record '" + e.name + "' is malformed: " + problem);
  }
}

}  // namespace

bool check_archive(const archive::ByteSource& source, const archive::Sniffed& sniffed) {
  if (sniffed.entries.empty()) {
    // Not a ZIP archive that our reader accepts. LibTorch's reader is more lenient, and what it
    // would read past our checks is exactly what they exist for: refuse. (torch::jit::load
    // reads TorchScript from a stream as ZIP only; flatbuffer modules are for PyTorch Mobile.)
    fail(ErrorKind::ModelFormat, "not a model: not a well-formed ZIP archive (truncated, damaged, or "
                                 "not written by torch.jit.save / torch.export)");
  }
  std::string version_text;
  bool have_version = false;
  for (const auto& e : sniffed.entries) {
    const bool fits = e.local_offset <= source.size() && e.compressed_size <= source.size() - e.local_offset;
    if (!fits) fail(ErrorKind::ModelFormat, "archive entry '" + e.name + "' extends past the end of the file");
    if (e.method == 0 && e.compressed_size != e.uncompressed_size) {
      fail(ErrorKind::ModelFormat, "archive entry '" + e.name + "' is stored with inconsistent sizes");
    }
    // Deflate expands at most 1032:1; LibTorch allocates the declared size up front.
    if (e.method == 8 && e.uncompressed_size / 1032 > e.compressed_size + 1024) {
      fail(ErrorKind::ModelFormat, "archive entry '" + e.name + "' declares an impossible size");
    }
    if (e.method != 0 && e.method != 8) {
      fail(ErrorKind::ModelFormat, "archive entry '" + e.name + "' uses compression method " +
                                       std::to_string(e.method) + ", which LibTorch does not read");
    }
    const std::string name = lower_case(e.name);
    const size_t slash = name.find('/');
    const bool version_record = slash != std::string::npos &&
                                (name.compare(slash, std::string::npos, "/version") == 0 ||
                                 name.compare(slash, std::string::npos, "/.data/version") == 0);
    if (version_record && !have_version) {
      have_version = archive::read_stored_entry(source.reader(), source.size(), e, 64, version_text);
    }
  }
  SourceShape shape;
  check_records(source, sniffed, shape);
  // Ordinary serialized code is a few levels deep (see SourceShape).
  const bool large_stack = shape.needs_large_stack();
  if (!have_version) return large_stack;  // missing or compressed: LibTorch's own check applies
  uint64_t version = 0;
  size_t i = 0;
  while (i < version_text.size() && version_text[i] >= '0' && version_text[i] <= '9' && version < (1u << 30)) {
    version = version * 10 + static_cast<uint64_t>(version_text[i++] - '0');
  }
  while (i < version_text.size() && (version_text[i] == '\n' || version_text[i] == '\r' || version_text[i] == ' ')) ++i;
  if (i == 0 || i != version_text.size()) {
    fail(ErrorKind::ModelFormat, "the archive's version record is not a number");
  }
  if (version < caffe2::serialize::kMinSupportedFileFormatVersion ||
      version > caffe2::serialize::kMaxSupportedFileFormatVersion) {
    fail(ErrorKind::ModelFormat,
         "the archive's file format version is " + std::to_string(version) + "; this LibTorch reads versions " +
             std::to_string(caffe2::serialize::kMinSupportedFileFormatVersion) + " to " +
             std::to_string(caffe2::serialize::kMaxSupportedFileFormatVersion) +
             (version > caffe2::serialize::kMaxSupportedFileFormatVersion
                  ? " (it was written by a newer PyTorch)" : ""));
  }
  return large_stack;
}

std::unique_ptr<Model> load(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                            const std::string& what, const LoadConfig& config, bool large_stack) {
  const c10::Device device = resolve_device(config.device);
  std::vector<std::pair<uint64_t, char>> patches;
  for (const auto& e : sniffed.entries) {
    if (ends_with(e.name, ".debug_pkl")) patches.emplace_back(e.name_offset + e.name.size() - 1, '_');
  }
  auto load_it = [&] {
    QuietBacktraces quiet;  // per thread
    auto module = load_module(what, [&] {
      return torch::jit::load(std::make_shared<ArchiveReader>(source, std::move(patches)), device);
    });
    return finish_load(std::move(module), device, config.optimize);
  };
  return large_stack ? on_large_stack(load_it) : load_it();
}

}  // namespace ti::core::torchscript

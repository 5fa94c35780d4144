#include "core/model.h"

#include "core/device.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/tensor.h"

#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/serialization/import.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace ti::core {
namespace {

// Serves torch::jit::load straight from the caller's buffer; load reads everything it keeps
// before returning, so the buffer is free to go when the call returns.
class MemoryReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  MemoryReader(const void* data, size_t size) : data_(static_cast<const char*>(data)), size_(size) {}
  size_t size() const override { return size_; }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= size_) return 0;
    n = std::min<size_t>(n, size_ - pos);
    std::memcpy(buf, data_ + pos, n);
    return n;
  }

 private:
  const char* data_;
  size_t size_;
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

MethodSpec describe_method(const torch::jit::Method& method) {
  MethodSpec spec{method.name(), method, {}, 0};
  const auto& arguments = method.function().getSchema().arguments();
  bool seen_default = false;
  for (size_t i = 1; i < arguments.size(); ++i) {  // 0 is self
    const auto& arg = arguments[i];
    ArgSpec a{arg.name(), arg.type()->annotation_str(), classify_argument(arg.type()),
              arg.default_value().has_value(), arg.default_value().value_or(c10::IValue())};
    if (!a.has_default && !seen_default) spec.required = spec.args.size() + 1;
    seen_default = seen_default || a.has_default;
    spec.args.push_back(std::move(a));
  }
  return spec;
}

// "ids, mask, bias=None"
std::string signature(const MethodSpec& m) {
  std::ostringstream s;
  for (size_t i = 0; i < m.args.size(); ++i) {
    if (i) s << ", ";
    s << m.args[i].name;
    if (m.args[i].has_default) s << "=" << m.args[i].default_value;
  }
  return s.str();
}

std::string count_message(const MethodSpec& m, size_t got) {
  std::ostringstream s;
  s << "method '" << m.name << "' takes ";
  if (m.required == m.args.size()) {
    s << m.args.size();
  } else {
    s << m.required << " to " << m.args.size();
  }
  s << " input(s) (" << signature(m) << "), got " << got;
  return s.str();
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void check_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) fail(ErrorKind::NotFound, "model file '" + path + "' does not exist");
    fail(ErrorKind::ModelFormat, "cannot read model file '" + path + "': " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) fail(ErrorKind::ModelFormat, "'" + path + "' is a directory, not a model file");
}

template <typename LoadFn>
torch::jit::Module load_module(const std::string& what, LoadFn&& load) {
  try {
    return load();
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::ModelFormat);
    fail(info.kind, "cannot load " + what + " as a TorchScript model: " + info.message);
  }
}

}  // namespace

Model::Model(torch::jit::Module module, c10::Device device)
    : module_(std::move(module)), device_(device), device_name_(core::device_name(device)) {}

std::unique_ptr<Model> Model::finish_load(torch::jit::Module module, const c10::Device& device) {
  module.eval();
  std::unique_ptr<Model> model(new Model(std::move(module), device));
  for (const auto& method : model->module_.get_methods()) {
    model->methods_.push_back(describe_method(method));
  }
  std::sort(model->methods_.begin(), model->methods_.end(),
            [](const MethodSpec& a, const MethodSpec& b) { return a.name < b.name; });
  for (const auto& m : model->methods_) model->method_names_.push_back(m.name);
  model->forward_ = model->find_method("forward");
  return model;
}

std::unique_ptr<Model> Model::load_file(const std::string& path, const LoadConfig& config) {
  const c10::Device device = resolve_device(config.device);
  check_file(path);
  auto module = load_module("'" + path + "'", [&] { return torch::jit::load(path, device); });
  return finish_load(std::move(module), device);
}

std::unique_ptr<Model> Model::load_buffer(const void* data, size_t len, const LoadConfig& config) {
  const c10::Device device = resolve_device(config.device);
  if (len == 0) fail(ErrorKind::ModelFormat, "cannot load an empty buffer as a TorchScript model");
  auto module = load_module("the buffer", [&] {
    return torch::jit::load(std::make_shared<MemoryReader>(data, len), device);
  });
  return finish_load(std::move(module), device);
}

const MethodSpec* Model::find_method(std::string_view name) const {
  auto it = std::lower_bound(methods_.begin(), methods_.end(), name,
                             [](const MethodSpec& m, std::string_view n) { return m.name < n; });
  return it != methods_.end() && it->name == name ? &*it : nullptr;
}

size_t Model::input_count() const { return forward_ ? forward_->args.size() : 0; }

const std::string* Model::input_name(size_t i) const {
  return forward_ && i < forward_->args.size() ? &forward_->args[i].name : nullptr;
}

const MethodSpec& Model::forward() const {
  if (!forward_) fail(ErrorKind::NotFound, "the model has no forward method; its methods are: " + join_names(method_names_));
  return *forward_;
}

const MethodSpec& Model::method(std::string_view name) const {
  const MethodSpec* m = find_method(name);
  if (!m) {
    fail(ErrorKind::NotFound, "the model has no method '" + std::string(name) +
                                  "'; its methods are: " + join_names(method_names_));
  }
  return *m;
}

c10::IValue Model::convert(const MethodSpec& m, size_t index, const at::Tensor& input) const {
  const ArgSpec& arg = m.args[index];
  auto scalar_check = [&](bool integral_only) {
    if (input.numel() != 1) {
      fail(ErrorKind::InvalidArgument, "input '" + arg.name + "' of method '" + m.name + "' is " +
                                           arg.type + ": pass a one-element tensor, got shape " +
                                           shape_string(input.sizes()));
    }
    if (integral_only && input.is_floating_point()) {
      fail(ErrorKind::InvalidArgument, "input '" + arg.name + "' of method '" + m.name +
                                           "' is int: pass an integer tensor, got " +
                                           c10::toString(input.scalar_type()));
    }
  };
  switch (arg.kind) {
    case ArgKind::Tensor:
    case ArgKind::OptionalTensor:
      return input.device() == device_ ? input : input.to(device_);
    case ArgKind::Int: scalar_check(true); return input.item<int64_t>();
    case ArgKind::Float: scalar_check(false); return input.item<double>();
    case ArgKind::Bool: scalar_check(false); return input.item<bool>();
    case ArgKind::Other: break;
  }
  fail(ErrorKind::Unsupported, "input '" + arg.name + "' of method '" + m.name + "' has type " +
                                   arg.type + "; the C API passes tensors (and one-element "
                                   "tensors to int, float and bool arguments)");
}

void Model::invoke(const MethodSpec& m, std::vector<c10::IValue> stack, Leaves& out) const {
  c10::IValue result;
  try {
    result = m.method(std::move(stack));
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::Runtime);
    fail(info.kind, "method '" + m.name + "' failed: " + info.message);
  }
  flatten_result(result, out);
}

void Model::run(const MethodSpec& m, const at::Tensor* const* inputs, size_t n, Leaves& out) const {
  if (n > m.args.size() || n < m.required) fail(ErrorKind::InvalidArgument, count_message(m, n));
  CallScope scope(device_);
  std::vector<c10::IValue> stack;
  stack.reserve(m.args.size() + 1);  // + self, which Method inserts in front
  for (size_t i = 0; i < n; ++i) stack.push_back(convert(m, i, *inputs[i]));
  for (size_t i = n; i < m.args.size(); ++i) stack.push_back(m.args[i].default_value);
  invoke(m, std::move(stack), out);
}

void Model::run_named(const MethodSpec& m, const char* const* names, const at::Tensor* const* inputs,
                      size_t n, Leaves& out) const {
  auto valid_names = [&m] {
    std::string list;
    for (const auto& a : m.args) list += (list.empty() ? "" : ", ") + a.name;
    return list;
  };
  std::vector<const at::Tensor*> slots(m.args.size(), nullptr);
  for (size_t i = 0; i < n; ++i) {
    if (names[i] == nullptr) fail(ErrorKind::InvalidArgument, "names[" + std::to_string(i) + "] is NULL");
    auto it = std::find_if(m.args.begin(), m.args.end(), [&](const ArgSpec& a) { return a.name == names[i]; });
    if (it == m.args.end()) {
      fail(ErrorKind::InvalidArgument, "unknown input name '" + std::string(names[i]) + "'; method '" +
                                           m.name + "' takes: " + valid_names());
    }
    const size_t slot = static_cast<size_t>(it - m.args.begin());
    if (slots[slot]) fail(ErrorKind::InvalidArgument, "input '" + it->name + "' is given twice");
    slots[slot] = inputs[i];
  }
  std::vector<std::string> missing;
  for (size_t j = 0; j < slots.size(); ++j) {
    if (!slots[j] && !m.args[j].has_default) missing.push_back(m.args[j].name);
  }
  if (!missing.empty()) {
    fail(ErrorKind::InvalidArgument, "missing input(s) " + join_names(missing) + " for method '" +
                                         m.name + "', which takes: " + signature(m));
  }
  CallScope scope(device_);
  std::vector<c10::IValue> stack;
  stack.reserve(m.args.size() + 1);
  for (size_t j = 0; j < slots.size(); ++j) {
    stack.push_back(slots[j] ? convert(m, j, *slots[j]) : m.args[j].default_value);
  }
  invoke(m, std::move(stack), out);
}

}  // namespace ti::core

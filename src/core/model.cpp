#include "core/model.h"

#include "core/aotinductor/model.h"
#include "core/archive/format.h"
#include "core/device.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/torchscript/model.h"

#include <c10/util/SmallVector.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace ti::core {
namespace {

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

}  // namespace

namespace {

// Either format from its bytes, told apart by content; `path` is null for a buffer.
std::unique_ptr<Model> load_source(const archive::ByteSource& source, const std::string* path,
                                   const LoadConfig& config) {
  const archive::Sniffed sniffed = archive::sniff(source);
  if (sniffed.format == archive::Format::AotInductor) {
    if (!config.allow_native_code) {
      fail(ErrorKind::Unsupported, (path ? "'" + *path + "'" : std::string("the buffer")) +
                                       " is an AOTInductor package, which runs native code when loaded, and the "
                                       "load options do not allow native code (TorchScript only)");
    }
    return aotinductor::load(source, sniffed, path, config);
  }
  const bool large_stack = torchscript::check_archive(source, sniffed);
  return torchscript::load(source, sniffed, path ? "'" + *path + "'" : "the buffer", config, large_stack);
}

}  // namespace

std::unique_ptr<Model> Model::load_file(const std::string& path, const LoadConfig& config) {
  QuietBacktraces quiet;
  const auto source = archive::ByteSource::open_file(path);
  // A FIFO or a device would block the loader or never end.
  if (!source.regular()) fail(ErrorKind::ModelFormat, "'" + path + "' is not a regular file");
  return load_source(source, &path, config);
}

std::unique_ptr<Model> Model::load_buffer(const void* data, size_t len, const LoadConfig& config) {
  QuietBacktraces quiet;
  if (len == 0) fail(ErrorKind::ModelFormat, "cannot load an empty buffer as a model");
  return load_source(archive::ByteSource::memory(data, len), nullptr, config);
}

Model::Model(c10::Device device, std::vector<MethodSpec> methods,
             std::vector<std::pair<std::string, std::string>> aliases)
    : device_(device), device_name_(core::device_name(device)), methods_(std::move(methods)) {
  std::sort(methods_.begin(), methods_.end(),
            [](const MethodSpec& a, const MethodSpec& b) { return a.name < b.name; });
  for (const auto& m : methods_) method_names_.push_back(m.name);
  for (auto& [alias, target] : aliases) {
    if (const MethodSpec* m = find_method(target)) {
      aliases_.emplace_back(std::move(alias), static_cast<size_t>(m - methods_.data()));
    }
  }
  forward_ = find_method("forward");
}

const MethodSpec* Model::find_method(std::string_view name) const {
  auto it = std::lower_bound(methods_.begin(), methods_.end(), name,
                             [](const MethodSpec& m, std::string_view n) { return m.name < n; });
  if (it != methods_.end() && it->name == name) return &*it;
  for (const auto& [alias, index] : aliases_) {
    if (alias == name) return &methods_[index];
  }
  return nullptr;
}

void Model::check_input_count(const MethodSpec& m, size_t n) {
  if (n > m.args.size()) fail(ErrorKind::InvalidArgument, count_message(m, n));
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

const std::string* Model::input_type(size_t i) const {
  return forward_ && i < forward_->args.size() ? &forward_->args[i].type : nullptr;
}

void Model::invoke(const MethodSpec& m, const at::Tensor* const* slots, Leaves& out,
                   const RunControl* control) const {
  invoke_scoped([&] { call(m, slots, out); }, control);
}

void Model::run_values(const MethodSpec& m, const BuildArgument& build, Leaves& out,
                       const RunControl* control) const {
  invoke_scoped([&] { call_values(m, build, out); }, control);
}

void Model::call_values(const MethodSpec& m, const BuildArgument& build, Leaves& out) const {
  std::vector<at::Tensor> tensors(m.args.size());
  c10::SmallVector<const at::Tensor*, 8> slots(m.args.size(), nullptr);
  for (size_t i = 0; i < m.args.size(); ++i) {
    std::optional<c10::IValue> v = build(i, false, device_);
    if (!v) continue;
    if (!v->isTensor()) fail(ErrorKind::InvalidArgument, "input '" + m.args[i].name + "' must be a tensor");
    tensors[i] = v->toTensor();
    slots[i] = &tensors[i];
  }
  call(m, slots.data(), out);
}

void Model::invoke_scoped(c10::function_ref<void()> call_fn, const RunControl* control) const {
  CallScope scope(device_);
  if (!control) {
    call_fn();
    return;
  }
  CallControl call_control(*control);
  try {
    std::optional<OperatorChecks> checks;
    if (stops_at_operators()) checks.emplace(call_control);
    call_fn();
    checks.reset();
    // Cancelled or out of time while the last operator (or a whole .pt2 call) ran.
    call_control.check();
  } catch (...) {
    call_control.rethrow_if_tripped();
    throw;
  }
}

void Model::run(const MethodSpec& m, const at::Tensor* const* inputs, size_t n, Leaves& out,
                const RunControl* control) const {
  if (n > m.args.size() || n < m.required) fail(ErrorKind::InvalidArgument, count_message(m, n));
  if (n == m.args.size()) {
    invoke(m, inputs, out, control);
    return;
  }
  c10::SmallVector<const at::Tensor*, 8> slots(inputs, inputs + n);
  slots.resize(m.args.size(), nullptr);
  invoke(m, slots.data(), out, control);
}

void Model::run_named(const MethodSpec& m, const char* const* names, const at::Tensor* const* inputs,
                      size_t n, Leaves& out, const RunControl* control) const {
  auto valid_names = [&m] {
    std::string list;
    for (const auto& a : m.args) list += (list.empty() ? "" : ", ") + a.name;
    return list;
  };
  c10::SmallVector<const at::Tensor*, 8> slots(m.args.size(), nullptr);
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
  invoke(m, slots.data(), out, control);
}

}  // namespace ti::core

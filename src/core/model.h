// A loaded TorchScript module and the checked, thread-safe way to run its methods.
#pragma once

#include "core/output_tree.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/csrc/jit/api/method.h>
#include <torch/csrc/jit/api/module.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ti::core {

struct LoadConfig {
  c10::Device device{c10::kCPU};
};

// How a tensor handed in by the caller reaches an argument.
enum class ArgKind { Tensor, OptionalTensor, Int, Float, Bool, Other };

struct ArgSpec {
  std::string name;
  std::string type;  // TorchScript annotation, for messages
  ArgKind kind;
  bool has_default;
  c10::IValue default_value;
};

struct MethodSpec {
  std::string name;
  torch::jit::Method method;
  std::vector<ArgSpec> args;  // without self
  size_t required;            // leading args without defaults
};

// Immutable after load: run() may be called from any number of threads at once.
class Model {
 public:
  static std::unique_ptr<Model> load_file(const std::string& path, const LoadConfig& config);
  static std::unique_ptr<Model> load_buffer(const void* data, size_t len, const LoadConfig& config);

  // nullptr when there is no such method.
  const MethodSpec* find_method(std::string_view name) const;
  const MethodSpec& forward() const;
  // Throws NotFound, listing the methods there are.
  const MethodSpec& method(std::string_view name) const;

  // Positional inputs in schema order; trailing defaults may be left out. The result's leaves
  // are appended to `out`.
  void run(const MethodSpec& method, const at::Tensor* const* inputs, size_t n, Leaves& out) const;
  // Inputs matched to argument names, in any order.
  void run_named(const MethodSpec& method, const char* const* names, const at::Tensor* const* inputs,
                 size_t n, Leaves& out) const;

  // forward's arguments (0 / nullptr when there is no forward or i is out of range).
  size_t input_count() const;
  const std::string* input_name(size_t i) const;
  const std::vector<std::string>& method_names() const { return method_names_; }
  const std::string& device_name() const { return device_name_; }
  const c10::Device& device() const { return device_; }

 private:
  Model(torch::jit::Module module, c10::Device device);
  static std::unique_ptr<Model> finish_load(torch::jit::Module module, const c10::Device& device);
  c10::IValue convert(const MethodSpec& method, size_t index, const at::Tensor& input) const;
  void invoke(const MethodSpec& method, std::vector<c10::IValue> stack, Leaves& out) const;

  torch::jit::Module module_;
  c10::Device device_;
  std::string device_name_;
  std::vector<MethodSpec> methods_;  // sorted by name
  const MethodSpec* forward_ = nullptr;
  std::vector<std::string> method_names_;
};

}  // namespace ti::core

// The one model interface. A loaded model is a set of named methods with argument specs; each
// model format (TorchScript in torchscript/, AOTInductor .pt2 in aotinductor/) implements how a
// method is called. Argument matching (positional, by name, defaults), the messages that name
// what is wrong, and LibTorch's per-call thread-local state live here, once for both formats.
#pragma once

#include "core/interrupt.h"
#include "core/output_tree.h"

#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <c10/core/Device.h>
#include <c10/util/FunctionRef.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ti::core {

struct LoadConfig {
  c10::Device device{c10::kCPU};
  bool device_set = false;  // false: the format's default (a .pt2 runs where it was compiled for)
  int optimize = 0;         // TorchScript: 1 = freeze + optimize_for_inference
  bool allow_native_code = true;  // false: refuse .pt2 packages (compiled code) before touching them
};

// How a tensor handed in by the caller reaches an argument.
enum class ArgKind { Tensor, OptionalTensor, Int, Float, Bool, Other };

struct ArgSpec {
  std::string name;
  std::string type;  // for messages: a TorchScript annotation, or "Tensor(float32, [s0, 8])"
  ArgKind kind;
  bool has_default;
  c10::IValue default_value;
  c10::TypePtr declared;  // the schema's type (a .pt2 input: Tensor); structured inputs build from it
  bool static_batch = false;  // a .pt2 input whose dimension 0 was fixed at export (cannot batch)
};

struct MethodSpec {
  std::string name;
  size_t index;               // the implementation's own index of this method
  std::vector<ArgSpec> args;  // without self
  size_t required;            // leading args without defaults
  std::string schema;         // "forward(Tensor x, int k=2) -> Tensor", for ti_model_method_schema
};

// Builds argument `index` of a structured call (core/values): nullopt when it was not set (the
// argument's default applies). `copy_tensors`: the method may write to this argument, so every
// tensor in it must be a private copy. Tensors are moved to `device`.
using BuildArgument =
    c10::function_ref<std::optional<c10::IValue>(size_t index, bool copy_tensors, const c10::Device& device)>;

// Immutable after load: run() may be called from any number of threads at once.
class Model {
 public:
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Loads a TorchScript archive or an AOTInductor package, told apart by content.
  static std::unique_ptr<Model> load_file(const std::string& path, const LoadConfig& config);
  static std::unique_ptr<Model> load_buffer(const void* data, size_t len, const LoadConfig& config);

  // "torchscript" or "aotinductor" (static storage).
  virtual const char* format() const noexcept = 0;

  // nullptr when there is no such method.
  const MethodSpec* find_method(std::string_view name) const;
  const MethodSpec& forward() const;
  // Throws NotFound, listing the methods there are.
  const MethodSpec& method(std::string_view name) const;

  // Positional inputs in argument order; trailing defaults may be left out. The result's leaves
  // are appended to `out`. `control` (may be null) carries a timeout and a cancel switch.
  void run(const MethodSpec& method, const at::Tensor* const* inputs, size_t n, Leaves& out,
           const RunControl* control = nullptr) const;
  // Inputs matched to argument names, in any order.
  void run_named(const MethodSpec& method, const char* const* names, const at::Tensor* const* inputs,
                 size_t n, Leaves& out, const RunControl* control = nullptr) const;

  // A call whose arguments are built by `build` (structured inputs: lists, dicts, str, ...).
  void run_values(const MethodSpec& method, const BuildArgument& build, Leaves& out,
                  const RunControl* control = nullptr) const;

  // Whether arguments are addressed by their whole path (a .pt2: each input is one flattened
  // leaf of the exported pytree, named by its path) rather than by name then structure.
  virtual bool flat_inputs() const noexcept { return false; }

  // Throws InvalidArgument when `n` inputs are more than `method` takes: callers check this
  // before they read the inputs.
  static void check_input_count(const MethodSpec& method, size_t n);

  // forward's arguments (0 / nullptr when there is no forward or i is out of range).
  size_t input_count() const;
  const std::string* input_name(size_t i) const;
  const std::string* input_type(size_t i) const;
  const std::vector<std::string>& method_names() const { return method_names_; }
  const std::string& device_name() const { return device_name_; }
  const c10::Device& device() const { return device_; }

 protected:
  // `methods` in any order; `aliases` maps extra names (not listed) to listed methods.
  Model(c10::Device device, std::vector<MethodSpec> methods,
        std::vector<std::pair<std::string, std::string>> aliases = {});

  // Runs `method` with one entry per argument in `slots` (nullptr: the argument's default),
  // after the count and names were checked and inside the per-call scope.
  virtual void call(const MethodSpec& method, const at::Tensor* const* slots, Leaves& out) const = 0;

  // As call(), with arguments of any type. The default (formats whose arguments are tensors)
  // builds each argument as a tensor and calls call().
  virtual void call_values(const MethodSpec& method, const BuildArgument& build, Leaves& out) const;

  // Whether a call can be stopped between the operators it dispatches (TorchScript); if not
  // (compiled .pt2 code), run options are checked only before and after the call.
  virtual bool stops_at_operators() const noexcept = 0;

 private:
  // call() inside the per-call scope, under `control` when there is one.
  void invoke(const MethodSpec& method, const at::Tensor* const* slots, Leaves& out,
              const RunControl* control) const;
  void invoke_scoped(c10::function_ref<void()> call, const RunControl* control) const;

  c10::Device device_;
  std::string device_name_;
  std::vector<MethodSpec> methods_;  // sorted by name
  std::vector<std::pair<std::string, size_t>> aliases_;
  const MethodSpec* forward_ = nullptr;
  std::vector<std::string> method_names_;
};

}  // namespace ti::core

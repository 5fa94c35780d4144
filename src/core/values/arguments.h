// The arguments of one structured call (ti_inputs_t): values set by path, each checked against
// the method's declared types when it is set, and built into IValues of exactly those types
// when the method runs (a typed empty list, Dict[str, Tensor] rather than Dict[Any, Any], a
// tuple as a tuple whatever its length). Nothing is inferred from counts or first elements.
#pragma once

#include "core/model.h"

#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ti::core::values {

// A value handed in by the caller, before it is fitted to a declared type.
struct Value {
  enum class Kind { Tensor, Int, Float, Bool, String, None, Empty };
  explicit Value(Kind k) : kind(k) {}
  Kind kind;
  at::Tensor tensor;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;

  static Value of_tensor(at::Tensor t) { Value x(Kind::Tensor); x.tensor = std::move(t); return x; }
  static Value of_int(int64_t v) { Value x(Kind::Int); x.i = v; return x; }
  static Value of_float(double v) { Value x(Kind::Float); x.f = v; return x; }
  static Value of_bool(bool v) { Value x(Kind::Bool); x.b = v; return x; }
  static Value of_string(std::string v) { Value x(Kind::String); x.s = std::move(v); return x; }
  static Value none() { return Value(Kind::None); }
  static Value empty() { return Value(Kind::Empty); }
};

class Arguments {
 public:
  // `model` and `method` must outlive this object.
  Arguments(const Model& model, const MethodSpec& method);
  ~Arguments();
  Arguments(const Arguments&) = delete;
  Arguments& operator=(const Arguments&) = delete;

  // Sets the value at `path`, replacing what was there (and everything below it). Throws
  // InvalidArgument naming the path and the declared type; on a throw nothing changed.
  void set(std::string_view path, Value value);

  // Builds argument `index` for a call (see BuildArgument); throws InvalidArgument for a list
  // with a gap, a tuple with a missing element, or a required argument that was not set.
  // Only reads this object: any number of threads may build at once.
  std::optional<c10::IValue> build(size_t index, bool copy_tensors, const c10::Device& device) const;

  const Model& model() const { return model_; }
  const MethodSpec& method() const { return method_; }

  struct Node;

 private:
  const Model& model_;
  const MethodSpec& method_;
  std::vector<std::unique_ptr<Node>> roots_;  // one per argument, null when not set
};

}  // namespace ti::core::values

// The structs behind the C API's opaque handles, and the exception firewall.
// Internal to the library: nothing here is visible to callers.
#pragma once

#include "torchinfer.h"

#include "core/batching/batcher.h"
#include "core/error.h"
#include "core/model.h"
#include "core/output_tree.h"
#include "core/values/arguments.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace ti::capi {

// Counts every live handle for ti_live_handles(); each handle struct derives from it.
struct Uncounted {};
class LiveHandle {
 public:
  LiveHandle() noexcept { count().fetch_add(1, std::memory_order_relaxed); }
  explicit LiveHandle(Uncounted) noexcept : counted_(false) {}
  LiveHandle(const LiveHandle&) = delete;
  LiveHandle& operator=(const LiveHandle&) = delete;
  ~LiveHandle() {
    if (counted_) count().fetch_sub(1, std::memory_order_relaxed);
  }
  static std::atomic<int64_t>& count() noexcept {
    static std::atomic<int64_t> live{0};
    return live;
  }

 private:
  bool counted_ = true;
};

// Builds a caller-owned error. Never throws and never returns NULL: if the error itself cannot
// be allocated, a static out-of-memory error (which ti_error_free ignores) is returned.
ti_error_t* make_error(ti_code_t code, const std::string& message) noexcept;
ti_error_t* make_error(const core::ErrorInfo& info) noexcept;

// Turns the exception being handled into an error; `fallback` is the code for LibTorch or
// standard exceptions that the core did not classify. Call only inside a catch block.
ti_error_t* error_from_exception(core::ErrorKind fallback) noexcept;

// "<what> is NULL" as TI_ERR_INVALID_ARGUMENT.
ti_error_t* null_argument(const char* what) noexcept;

// The ScalarType of a C dtype; throws InvalidArgument for values outside ti_dtype_t.
c10::ScalarType to_scalar_type(ti_dtype_t dtype);
// The C dtype of a tensor the library made (only representable dtypes reach handles).
ti_dtype_t to_dtype(c10::ScalarType st) noexcept;

}  // namespace ti::capi

struct ti_error : ti::capi::LiveHandle {
  ti_error(ti_code_t c, std::string m) : code(c), message(std::move(m)) {}
  ti_error(ti::capi::Uncounted u, ti_code_t c, std::string m)
      : LiveHandle(u), code(c), message(std::move(m)) {}
  ti_code_t code;
  std::string message;
};

struct ti_tensor : ti::capi::LiveHandle {
  explicit ti_tensor(at::Tensor t);
  at::Tensor tensor;        // contiguous; may share storage with other handles; never mutated
  std::string device_name;  // empty for CPU tensors ("cpu" is returned)
};

struct ti_outputs : ti::capi::LiveHandle {
  ti::core::Leaves leaves;
};

struct ti_model : ti::capi::LiveHandle {
  explicit ti_model(std::unique_ptr<ti::core::Model> m) : model(std::move(m)) {}
  std::unique_ptr<ti::core::Model> model;
};

struct ti_load_options : ti::capi::LiveHandle {
  ti::core::LoadConfig config;
};

struct ti_run_options : ti::capi::LiveHandle {
  ti::core::RunControl control;
};

struct ti_batcher_options : ti::capi::LiveHandle {
  ti::core::batching::BatcherOptions options;
};

struct ti_batcher : ti::capi::LiveHandle {
  explicit ti_batcher(std::unique_ptr<ti::core::batching::Batcher> b) : batcher(std::move(b)) {}
  std::unique_ptr<ti::core::batching::Batcher> batcher;
};

struct ti_inputs : ti::capi::LiveHandle {
  ti_inputs(const ti_model* m, const ti::core::MethodSpec& method) : model(m), arguments(*m->model, method) {}
  const ti_model* model;  // the model it was made for (ti_model_run_inputs checks it)
  ti::core::values::Arguments arguments;
};

// The firewall: every exported function that returns ti_error_t* wraps its body in these.
// Nothing thrown inside escapes; LibTorch errors not classified by the core get `fallback`.
#define TI_TRY try {
#define TI_CATCH(fallback)                                                   \
  }                                                                          \
  catch (...) {                                                              \
    return ::ti::capi::error_from_exception(::ti::core::ErrorKind::fallback); \
  }

// Argument checks at the top of a TI_TRY body.
#define TI_CHECK_NOT_NULL(arg) \
  do {                         \
    if ((arg) == nullptr) return ::ti::capi::null_argument(#arg); \
  } while (0)

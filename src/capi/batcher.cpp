#include "capi/handles.h"

#include <c10/util/SmallVector.h>

using ti::capi::make_error;
using ti::capi::null_argument;

namespace {

template <typename T>
ti_error_t* out_of_range(const char* what, T value, const char* range) {
  return make_error(TI_ERR_INVALID_ARGUMENT, std::string(what) + " must be " + range + ", got " + std::to_string(value));
}

}  // namespace

extern "C" {

ti_batcher_options_t* ti_batcher_options_create(void) {
  try {
    return new ti_batcher_options;
  } catch (...) {
    return nullptr;
  }
}

void ti_batcher_options_free(ti_batcher_options_t* o) { delete o; }

ti_error_t* ti_batcher_options_set_max_batch(ti_batcher_options_t* o, int64_t rows) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (rows < 1) return out_of_range("max_batch", rows, ">= 1 row");
  o->options.limits.max_batch = rows;
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_batcher_options_set_max_delay_us(ti_batcher_options_t* o, int64_t us) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (us < 0 || us > 10'000'000) return out_of_range("max_delay_us", us, "0 to 10000000");
  o->options.limits.max_delay = std::chrono::microseconds(us);
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_batcher_options_set_max_queue(ti_batcher_options_t* o, int64_t requests) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (requests < 1) return out_of_range("max_queue", requests, ">= 1 request");
  o->options.max_queue = requests;
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_batcher_options_set_workers(ti_batcher_options_t* o, int n) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (n < 1 || n > 256) return out_of_range("workers", n, "1 to 256");
  o->options.workers = n;
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_batcher_create(ti_model_t* m, const char* method, const ti_batcher_options_t* o, ti_batcher_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(m);
  const auto& spec = method ? m->model->method(method) : m->model->forward();
  auto batcher = std::make_unique<ti::core::batching::Batcher>(*m->model, spec,
                                                               o ? o->options : ti::core::batching::BatcherOptions{});
  *out = new ti_batcher(std::move(batcher));
  return nullptr;
  TI_CATCH(Internal)
}

void ti_batcher_free(ti_batcher_t* b) {
  try {
    delete b;
  } catch (...) {
    // A destructor that joins threads does not throw; nothing may cross the boundary anyway.
  }
}

ti_error_t* ti_batcher_run(ti_batcher_t* b, const char* const* names, const ti_tensor_t* const* inputs,
                           size_t n_inputs, const ti_run_options_t* opts, ti_outputs_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(b);
  if (n_inputs != 0 && inputs == nullptr) return null_argument("inputs");
  c10::SmallVector<const at::Tensor*, 8> tensors;
  for (size_t i = 0; i < n_inputs; ++i) {
    if (inputs[i] == nullptr) return make_error(TI_ERR_INVALID_ARGUMENT, "inputs[" + std::to_string(i) + "] is NULL");
    if (names && names[i] == nullptr) return make_error(TI_ERR_INVALID_ARGUMENT, "names[" + std::to_string(i) + "] is NULL");
    tensors.push_back(&inputs[i]->tensor);
  }
  auto outputs = std::make_unique<ti_outputs>();
  b->batcher->run(names, tensors.data(), n_inputs, opts ? &opts->control : nullptr, outputs->leaves);
  *out = outputs.release();
  return nullptr;
  TI_CATCH(Internal)
}

void ti_batcher_stats(const ti_batcher_t* b, int64_t* requests, int64_t* batches) {
  if (requests) *requests = b ? b->batcher->requests() : 0;
  if (batches) *batches = b ? b->batcher->batches() : 0;
}

}  // extern "C"

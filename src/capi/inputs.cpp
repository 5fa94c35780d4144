#include "capi/handles.h"

using ti::capi::null_argument;
using ti::core::values::Value;

namespace {

ti_error_t* set(ti_inputs_t* in, const char* path, Value&& v) {
  TI_TRY
  TI_CHECK_NOT_NULL(in);
  TI_CHECK_NOT_NULL(path);
  in->arguments.set(path, std::move(v));
  return nullptr;
  TI_CATCH(Internal)
}

}  // namespace

extern "C" {

ti_error_t* ti_inputs_create(const ti_model_t* m, const char* method, ti_inputs_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(m);
  const auto& spec = method ? m->model->method(method) : m->model->forward();
  *out = new ti_inputs(m, spec);
  return nullptr;
  TI_CATCH(Internal)
}

void ti_inputs_free(ti_inputs_t* in) { delete in; }

ti_error_t* ti_inputs_set_tensor(ti_inputs_t* in, const char* path, const ti_tensor_t* t) {
  if (t == nullptr) return null_argument("t");
  return set(in, path, Value::of_tensor(t->tensor));
}

ti_error_t* ti_inputs_set_int(ti_inputs_t* in, const char* path, int64_t v) { return set(in, path, Value::of_int(v)); }

ti_error_t* ti_inputs_set_float(ti_inputs_t* in, const char* path, double v) {
  return set(in, path, Value::of_float(v));
}

ti_error_t* ti_inputs_set_bool(ti_inputs_t* in, const char* path, int v) { return set(in, path, Value::of_bool(v != 0)); }

ti_error_t* ti_inputs_set_string(ti_inputs_t* in, const char* path, const char* data, size_t len) {
  if (data == nullptr && len != 0) return null_argument("data");
  TI_TRY
  return set(in, path, Value::of_string(len ? std::string(data, len) : std::string()));
  TI_CATCH(Internal)
}

ti_error_t* ti_inputs_set_none(ti_inputs_t* in, const char* path) { return set(in, path, Value::none()); }

ti_error_t* ti_inputs_set_empty(ti_inputs_t* in, const char* path) { return set(in, path, Value::empty()); }

ti_error_t* ti_model_run_inputs(ti_model_t* m, const ti_inputs_t* in, const ti_run_options_t* opts,
                                ti_outputs_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(m);
  TI_CHECK_NOT_NULL(in);
  if (in->model != m) {
    return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT, "the inputs were made for another model");
  }
  auto outputs = std::make_unique<ti_outputs>();
  const auto& arguments = in->arguments;
  m->model->run_values(
      arguments.method(),
      [&arguments](size_t i, bool copy, const c10::Device& device) { return arguments.build(i, copy, device); },
      outputs->leaves, opts ? &opts->control : nullptr);
  *out = outputs.release();
  return nullptr;
  TI_CATCH(Internal)
}

}  // extern "C"

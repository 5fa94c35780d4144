#include "capi/handles.h"

#include "core/device.h"

#include <c10/util/SmallVector.h>

using ti::capi::null_argument;

namespace {

// ti_model_run and its four shorthands: argument checks, then the core. `method` NULL means
// forward; `by_name` selects matching inputs to `names`.
ti_error_t* run(ti_model_t* m, const char* method, bool by_name, const char* const* names,
                const ti_tensor_t* const* inputs, size_t n_inputs, const ti_run_options_t* opts,
                ti_outputs_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(m);
  if (by_name && names == nullptr && n_inputs != 0) return null_argument("names");
  if (n_inputs != 0 && inputs == nullptr) return null_argument("inputs");
  const auto& model = *m->model;
  const auto& spec = method ? model.method(method) : model.forward();
  ti::core::Model::check_input_count(spec, n_inputs);  // before inputs[] is read
  c10::SmallVector<const at::Tensor*, 8> tensors;
  tensors.reserve(n_inputs);
  for (size_t i = 0; i < n_inputs; ++i) {
    if (inputs[i] == nullptr) {
      return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT, "inputs[" + std::to_string(i) + "] is NULL");
    }
    tensors.push_back(&inputs[i]->tensor);
  }
  auto outputs = std::make_unique<ti_outputs>();
  const ti::core::RunControl* control = opts ? &opts->control : nullptr;
  if (by_name) {
    model.run_named(spec, names, tensors.data(), n_inputs, outputs->leaves, control);
  } else {
    model.run(spec, tensors.data(), n_inputs, outputs->leaves, control);
  }
  *out = outputs.release();
  return nullptr;
  TI_CATCH(Internal)
}

// run_method* with a NULL method name (NULL means forward only inside run()).
ti_error_t* run_without_method(ti_outputs_t** out) {
  if (out) *out = nullptr;
  return null_argument("method");
}

}  // namespace

extern "C" {

ti_load_options_t* ti_load_options_create(void) {
  try {
    return new ti_load_options;
  } catch (...) {
    return nullptr;
  }
}

void ti_load_options_free(ti_load_options_t* o) { delete o; }

ti_error_t* ti_load_options_set_device(ti_load_options_t* o, const char* device) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  TI_CHECK_NOT_NULL(device);
  o->config.device = ti::core::parse_device(device);
  o->config.device_set = true;
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_load_options_set_optimize(ti_load_options_t* o, int level) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (level < 0 || level > 1) {
    return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT,
                                "optimize level must be 0 or 1, got " + std::to_string(level));
  }
  o->config.optimize = level;
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_load_options_set_allow_native_code(ti_load_options_t* o, int allow) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (allow != 0 && allow != 1) {
    return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT, "allow_native_code must be 0 or 1, got " + std::to_string(allow));
  }
  o->config.allow_native_code = allow == 1;
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_model_load(const char* path, const ti_load_options_t* opts, ti_model_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(path);
  auto model = ti::core::Model::load_file(path, opts ? opts->config : ti::core::LoadConfig{});
  *out = new ti_model(std::move(model));
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_model_load_buffer(const void* data, size_t len, const ti_load_options_t* opts,
                                 ti_model_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  if (data == nullptr && len != 0) return null_argument("data");
  auto model = ti::core::Model::load_buffer(data, len, opts ? opts->config : ti::core::LoadConfig{});
  *out = new ti_model(std::move(model));
  return nullptr;
  TI_CATCH(Internal)
}

void ti_model_free(ti_model_t* m) { delete m; }

ti_error_t* ti_model_predict(ti_model_t* m, const ti_tensor_t* const* inputs, size_t n_inputs,
                             ti_outputs_t** out) {
  return run(m, nullptr, false, nullptr, inputs, n_inputs, nullptr, out);
}

ti_error_t* ti_model_predict_named(ti_model_t* m, const char* const* names,
                                   const ti_tensor_t* const* inputs, size_t n_inputs,
                                   ti_outputs_t** out) {
  return run(m, nullptr, true, names, inputs, n_inputs, nullptr, out);
}

ti_error_t* ti_model_run_method(ti_model_t* m, const char* method, const ti_tensor_t* const* inputs,
                                size_t n_inputs, ti_outputs_t** out) {
  if (method == nullptr) return run_without_method(out);
  return run(m, method, false, nullptr, inputs, n_inputs, nullptr, out);
}

ti_error_t* ti_model_run_method_named(ti_model_t* m, const char* method, const char* const* names,
                                      const ti_tensor_t* const* inputs, size_t n_inputs,
                                      ti_outputs_t** out) {
  if (method == nullptr) return run_without_method(out);
  return run(m, method, true, names, inputs, n_inputs, nullptr, out);
}

ti_error_t* ti_model_run(ti_model_t* m, const char* method, const char* const* names,
                         const ti_tensor_t* const* inputs, size_t n_inputs,
                         const ti_run_options_t* opts, ti_outputs_t** out) {
  return run(m, method, names != nullptr, names, inputs, n_inputs, opts, out);
}

ti_run_options_t* ti_run_options_create(void) {
  try {
    return new ti_run_options;
  } catch (...) {
    return nullptr;
  }
}

void ti_run_options_free(ti_run_options_t* o) { delete o; }

ti_error_t* ti_run_options_set_timeout_us(ti_run_options_t* o, int64_t us) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (us < 0) {
    return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT,
                                "timeout must be >= 0 microseconds (0: none), got " + std::to_string(us));
  }
  o->control.timeout_us.store(us, std::memory_order_relaxed);
  return nullptr;
  TI_CATCH(Internal)
}

void ti_run_options_cancel(ti_run_options_t* o) {
  if (o) o->control.cancelled.store(true, std::memory_order_relaxed);
}

size_t ti_model_input_count(const ti_model_t* m) { return m ? m->model->input_count() : 0; }

const char* ti_model_input_name(const ti_model_t* m, size_t i) {
  const std::string* name = m ? m->model->input_name(i) : nullptr;
  return name ? name->c_str() : nullptr;
}

const char* ti_model_input_type(const ti_model_t* m, size_t i) {
  const std::string* type = m ? m->model->input_type(i) : nullptr;
  return type ? type->c_str() : nullptr;
}

size_t ti_model_method_count(const ti_model_t* m) { return m ? m->model->method_names().size() : 0; }

const char* ti_model_method_name(const ti_model_t* m, size_t i) {
  if (!m || i >= m->model->method_names().size()) return nullptr;
  return m->model->method_names()[i].c_str();
}

const char* ti_model_device(const ti_model_t* m) { return m ? m->model->device_name().c_str() : ""; }

const char* ti_model_format(const ti_model_t* m) { return m ? m->model->format() : ""; }

const char* ti_model_method_schema(const ti_model_t* m, const char* method) {
  if (!m) return nullptr;
  const ti::core::MethodSpec* spec = m->model->find_method(method ? method : "forward");
  return spec ? spec->schema.c_str() : nullptr;
}

}  // extern "C"

// Every function in the header, called with the edge values of issue 9: NULL handles and
// out-pointers, out-of-range indices, hostile counts and sizes, invalid enum values, embedded
// NULs. Each call must return the documented code or neutral value, never crash, never leave
// *out set on failure, and leak nothing (CapiTest checks the live-handle count).
#include "fixture.h"

#include <climits>
#include <cstdint>
#include <string>

using namespace ti_test;

namespace {

// A pointer value that a failing call must overwrite with NULL.
template <typename T>
T* garbage() {
  static char byte;
  return reinterpret_cast<T*>(&byte);
}

}  // namespace

TEST_F(CapiTest, EveryFunctionSurvivesNullAndEdgeArguments) {
  // Errors and runtime.
  EXPECT_EQ(ti_error_code(nullptr), TI_OK);
  EXPECT_STREQ(ti_error_message(nullptr), "");
  ti_error_free(nullptr);
  EXPECT_STREQ(ti_code_name(static_cast<ti_code_t>(-1)), "TI_ERR_UNKNOWN");
  EXPECT_STREQ(ti_code_name(static_cast<ti_code_t>(TI_ERR_UNAVAILABLE + 1)), "TI_ERR_UNKNOWN");
  EXPECT_STREQ(ti_code_name(TI_ERR_UNAVAILABLE), "TI_ERR_UNAVAILABLE");
  EXPECT_TRUE(Fails(ti_op_library_load(nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_op_library_load(""), TI_ERR_NOT_FOUND));
  EXPECT_NE(ti_version(), nullptr);
  EXPECT_NE(ti_torch_version(), nullptr);
  EXPECT_TRUE(Fails(ti_set_num_threads(INT_MIN), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_set_num_threads(INT_MAX), TI_ERR_INVALID_ARGUMENT));
  EXPECT_GE(ti_get_num_threads(), 1);
  EXPECT_GE(ti_cuda_device_count(), 0);
  EXPECT_EQ(ti_dtype_size(static_cast<ti_dtype_t>(-1)), 0u);
  EXPECT_EQ(ti_dtype_size(static_cast<ti_dtype_t>(TI_DTYPE_BOOL + 1)), 0u);
  EXPECT_STREQ(ti_dtype_name(static_cast<ti_dtype_t>(1000)), "unknown");

  // Tensors.
  const int64_t shape[] = {2};
  float two[2] = {1, 2};
  ti_tensor_t* t = garbage<ti_tensor_t>();
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 1, two, sizeof two, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_create(static_cast<ti_dtype_t>(99), shape, 1, two, sizeof two, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(t, nullptr);
  t = garbage<ti_tensor_t>();
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, nullptr, 1, two, sizeof two, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(t, nullptr);
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 1, nullptr, sizeof two, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 1, two, SIZE_MAX, &t), TI_ERR_INVALID_ARGUMENT));
  const int64_t negative[] = {-1};
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, negative, 1, two, 0, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 1, two, sizeof two, nullptr, nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
  t = garbage<ti_tensor_t>();
  EXPECT_TRUE(Fails(ti_tensor_wrap(static_cast<ti_dtype_t>(-5), shape, 1, two, sizeof two, nullptr, nullptr, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(t, nullptr);
  ti_tensor_free(nullptr);
  EXPECT_EQ(ti_tensor_dtype(nullptr), TI_DTYPE_FLOAT32);
  EXPECT_EQ(ti_tensor_ndim(nullptr), 0u);
  EXPECT_EQ(ti_tensor_shape(nullptr), nullptr);
  EXPECT_EQ(ti_tensor_numel(nullptr), 0);
  EXPECT_EQ(ti_tensor_nbytes(nullptr), 0u);
  EXPECT_STREQ(ti_tensor_device(nullptr), "");
  const void* data = garbage<const void>();
  EXPECT_TRUE(Fails(ti_tensor_data(nullptr, &data), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(data, nullptr);
  auto x = make_f32({1, 2}, {2});
  EXPECT_TRUE(Fails(ti_tensor_data(x.get(), nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_copy_to(nullptr, two, sizeof two), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_copy_to(x.get(), nullptr, sizeof two), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_copy_to(x.get(), two, SIZE_MAX), TI_ERR_INVALID_ARGUMENT));

  // Load options.
  ti_load_options_free(nullptr);
  EXPECT_TRUE(Fails(ti_load_options_set_device(nullptr, "cpu"), TI_ERR_INVALID_ARGUMENT));
  Options opts(ti_load_options_create());
  EXPECT_TRUE(Fails(ti_load_options_set_device(opts.get(), nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_device(opts.get(), ""), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_device(opts.get(), "cpu:1"), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_optimize(opts.get(), INT_MIN), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_optimize(opts.get(), INT_MAX), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_allow_native_code(nullptr, 0), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_allow_native_code(opts.get(), 2), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_allow_native_code(opts.get(), -1), TI_ERR_INVALID_ARGUMENT));

  // Loading.
  ti_model_t* m = garbage<ti_model_t>();
  EXPECT_TRUE(Fails(ti_model_load(nullptr, nullptr, &m), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(m, nullptr);
  EXPECT_TRUE(Fails(ti_model_load(model_path("mlp.pt").c_str(), nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_load("", nullptr, &m), TI_ERR_NOT_FOUND));
  EXPECT_TRUE(Fails(ti_model_load("/dev/null", nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(nullptr, 10, nullptr, &m), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(nullptr, 0, nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(two, sizeof two, nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(two, sizeof two, nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(m, nullptr);
  ti_model_free(nullptr);

  // Model calls and introspection.
  auto mlp = load("mlp.pt");
  auto x16 = make_f32(std::vector<float>(16, 0.25f), {1, 16});
  const ti_tensor_t* in[] = {x16.get()};
  const ti_tensor_t* null_in[] = {nullptr};
  const char* names[] = {"x"};
  const char* null_name[] = {nullptr};
  const char* nul_name[] = {"x\0y"};  // "x" as C sees it: a NUL cuts the name
  ti_outputs_t* o = garbage<ti_outputs_t>();
  EXPECT_TRUE(Fails(ti_model_predict(nullptr, in, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(o, nullptr);
  EXPECT_TRUE(Fails(ti_model_predict(mlp.get(), in, 1, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_predict(mlp.get(), nullptr, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_predict(mlp.get(), null_in, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_predict(mlp.get(), nullptr, 0, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_predict_named(mlp.get(), nullptr, in, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_predict_named(mlp.get(), null_name, in, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_predict_named(mlp.get(), names, in, SIZE_MAX, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run_method(mlp.get(), nullptr, in, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run_method(mlp.get(), "", in, 1, &o), TI_ERR_NOT_FOUND));
  EXPECT_TRUE(Fails(ti_model_run_method_named(mlp.get(), nullptr, names, in, 1, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run_method_named(mlp.get(), "forward", names, in, SIZE_MAX, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run(mlp.get(), "forward", nullptr, in, SIZE_MAX, nullptr, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run(mlp.get(), nullptr, null_name, in, 1, nullptr, &o), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(o, nullptr);
  ASSERT_TRUE(Ok(ti_model_run(mlp.get(), nullptr, nul_name, in, 1, nullptr, &o)));
  Outputs result(o);
  EXPECT_EQ(ti_model_input_count(nullptr), 0u);
  EXPECT_EQ(ti_model_input_name(nullptr, 0), nullptr);
  EXPECT_EQ(ti_model_input_name(mlp.get(), SIZE_MAX), nullptr);
  EXPECT_EQ(ti_model_input_type(mlp.get(), SIZE_MAX), nullptr);
  EXPECT_EQ(ti_model_method_count(nullptr), 0u);
  EXPECT_EQ(ti_model_method_name(nullptr, 0), nullptr);
  EXPECT_EQ(ti_model_method_name(mlp.get(), SIZE_MAX), nullptr);
  EXPECT_STREQ(ti_model_device(nullptr), "");
  EXPECT_STREQ(ti_model_format(nullptr), "");
  EXPECT_EQ(ti_model_method_schema(nullptr, nullptr), nullptr);
  EXPECT_EQ(ti_model_method_schema(mlp.get(), ""), nullptr);
  EXPECT_STREQ(ti_model_method_schema(mlp.get(), nullptr), "forward(Tensor x) -> Tensor");

  // Structured inputs.
  ti_inputs_t* vi = garbage<ti_inputs_t>();
  EXPECT_TRUE(Fails(ti_inputs_create(nullptr, nullptr, &vi), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(vi, nullptr);
  EXPECT_TRUE(Fails(ti_inputs_create(mlp.get(), nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
  ti_inputs_free(nullptr);
  EXPECT_TRUE(Fails(ti_inputs_set_int(nullptr, "x", 1), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_float(nullptr, "x", 1), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_bool(nullptr, "x", 1), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_none(nullptr, "x"), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_empty(nullptr, "x"), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_string(nullptr, "x", "a", 1), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_tensor(nullptr, "x", x16.get()), TI_ERR_INVALID_ARGUMENT));
  ASSERT_TRUE(Ok(ti_inputs_create(mlp.get(), nullptr, &vi)));
  EXPECT_TRUE(Fails(ti_inputs_set_tensor(vi, "x", nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_string(vi, "x", nullptr, SIZE_MAX), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_inputs_set_string(vi, "x", "", 0), TI_ERR_INVALID_ARGUMENT, "a string where the type is not str"));
  ti_outputs_t* vo = garbage<ti_outputs_t>();
  EXPECT_TRUE(Fails(ti_model_run_inputs(nullptr, vi, nullptr, &vo), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(vo, nullptr);
  EXPECT_TRUE(Fails(ti_model_run_inputs(mlp.get(), vi, nullptr, &vo), TI_ERR_INVALID_ARGUMENT, "required argument 'x'"));
  ti_inputs_free(vi);

  // Run options.
  ti_run_options_free(nullptr);
  ti_run_options_cancel(nullptr);
  EXPECT_TRUE(Fails(ti_run_options_set_timeout_us(nullptr, 0), TI_ERR_INVALID_ARGUMENT));
  ti_run_options_t* ro = ti_run_options_create();
  EXPECT_TRUE(Fails(ti_run_options_set_timeout_us(ro, INT64_MIN), TI_ERR_INVALID_ARGUMENT));
  ti_run_options_free(ro);

  // Outputs.
  EXPECT_EQ(ti_outputs_count(nullptr), 0u);
  EXPECT_EQ(ti_outputs_name(nullptr, 0), nullptr);
  EXPECT_EQ(ti_outputs_name(result.get(), SIZE_MAX), nullptr);
  t = garbage<ti_tensor_t>();
  EXPECT_TRUE(Fails(ti_outputs_get(nullptr, 0, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(t, nullptr);
  EXPECT_TRUE(Fails(ti_outputs_get(result.get(), SIZE_MAX, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_get(result.get(), 0, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_find(result.get(), nullptr, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_find(result.get(), "", &t), TI_ERR_NOT_FOUND));
  EXPECT_TRUE(Fails(ti_outputs_find(nullptr, "0", &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_find(result.get(), "0", nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(ti_outputs_dtype(result.get(), SIZE_MAX), TI_DTYPE_FLOAT32);
  EXPECT_EQ(ti_outputs_ndim(result.get(), SIZE_MAX), 0u);
  EXPECT_EQ(ti_outputs_shape(nullptr, 0), nullptr);
  EXPECT_EQ(ti_outputs_nbytes(nullptr, 0), 0u);
  EXPECT_TRUE(Fails(ti_outputs_copy_to(result.get(), SIZE_MAX, two, sizeof two), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_copy_to(result.get(), 0, two, SIZE_MAX), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(ti_outputs_kind(result.get(), SIZE_MAX), TI_KIND_NONE);
  EXPECT_EQ(ti_outputs_kind(result.get(), 0), TI_KIND_TENSOR);
  const char* text = garbage<const char>();
  size_t len = 7;
  EXPECT_TRUE(Fails(ti_outputs_string(nullptr, 0, &text, &len), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(text, nullptr);
  EXPECT_EQ(len, 0u);
  EXPECT_TRUE(Fails(ti_outputs_string(result.get(), 0, nullptr, &len), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_string(result.get(), 0, &text, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_string(result.get(), 0, &text, &len), TI_ERR_INVALID_ARGUMENT, "is a tensor"));
  ti_outputs_free(nullptr);
}

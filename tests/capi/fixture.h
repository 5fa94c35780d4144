// Shared helpers for the C API tests: RAII owners for handles, error assertions, fixtures.
#pragma once

#include <torchinfer.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace ti_test {

struct ErrorDeleter { void operator()(ti_error_t* e) const { ti_error_free(e); } };
struct TensorDeleter { void operator()(ti_tensor_t* t) const { ti_tensor_free(t); } };
struct ModelDeleter { void operator()(ti_model_t* m) const { ti_model_free(m); } };
struct OutputsDeleter { void operator()(ti_outputs_t* o) const { ti_outputs_free(o); } };
struct OptionsDeleter { void operator()(ti_load_options_t* o) const { ti_load_options_free(o); } };
using Error = std::unique_ptr<ti_error_t, ErrorDeleter>;
using Tensor = std::unique_ptr<ti_tensor_t, TensorDeleter>;
using Model = std::unique_ptr<ti_model_t, ModelDeleter>;
using Outputs = std::unique_ptr<ti_outputs_t, OutputsDeleter>;
using Options = std::unique_ptr<ti_load_options_t, OptionsDeleter>;

// Directory with the fixtures made by tests/models/make_models.py.
std::string models_dir();
std::string model_path(const std::string& file);
std::vector<char> read_file(const std::string& path);

// Passes when `e` is NULL; otherwise fails with the error's code and message, and frees it.
::testing::AssertionResult Ok(ti_error_t* e);
// Passes when `e` carries `code`; frees it. `message_part`, when given, must occur in the message.
::testing::AssertionResult Fails(ti_error_t* e, ti_code_t code, const char* message_part = nullptr);

Model load(const std::string& file);
Tensor make_f32(const std::vector<float>& values, const std::vector<int64_t>& shape);
Tensor make_i64_scalar(int64_t value);
std::vector<float> to_f32(const ti_tensor_t* t);
std::vector<int64_t> shape_of(const ti_tensor_t* t);
Outputs predict(ti_model_t* m, const std::vector<const ti_tensor_t*>& inputs);
Tensor output(const ti_outputs_t* o, const std::string& name);

// Reference-file helpers (reference.json, values_reference.json).
ti_dtype_t dtype_from_name(const std::string& name);
// A tensor's values as doubles, whatever the dtype (not float16/bfloat16).
std::vector<double> values_of(const ti_tensor_t* t);
// A tensor from {"dtype", "shape", "data"} (float32, float64, int64).
Tensor make_input(const nlohmann::json& spec);

// Every test starts and ends with no live handle: the library leaks nothing.
class CapiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(ti_live_handles(), 0) << "a previous test leaked handles"; }
  void TearDown() override { EXPECT_EQ(ti_live_handles(), 0) << "this test leaked handles"; }
};

}  // namespace ti_test

#include "fixture.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace ti_test {

std::string models_dir() {
  const char* dir = std::getenv("TORCHINFER_TEST_MODELS");
  return dir && *dir ? dir : TI_TEST_MODELS_DIR;
}

std::string model_path(const std::string& file) { return models_dir() + "/" + file; }

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

::testing::AssertionResult Ok(ti_error_t* e) {
  if (e == nullptr) return ::testing::AssertionSuccess();
  Error owned(e);
  return ::testing::AssertionFailure()
         << ti_code_name(ti_error_code(e)) << ": " << ti_error_message(e);
}

::testing::AssertionResult Fails(ti_error_t* e, ti_code_t code, const char* message_part) {
  if (e == nullptr) return ::testing::AssertionFailure() << "expected " << ti_code_name(code) << ", got success";
  Error owned(e);
  if (ti_error_code(e) != code) {
    return ::testing::AssertionFailure() << "expected " << ti_code_name(code) << ", got "
                                         << ti_code_name(ti_error_code(e)) << ": " << ti_error_message(e);
  }
  if (message_part && std::strstr(ti_error_message(e), message_part) == nullptr) {
    return ::testing::AssertionFailure() << "message lacks '" << message_part << "': " << ti_error_message(e);
  }
  return ::testing::AssertionSuccess();
}

Model load(const std::string& file) {
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Ok(ti_model_load(model_path(file).c_str(), nullptr, &m))) << file;
  return Model(m);
}

Tensor make_f32(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Ok(ti_tensor_create(TI_DTYPE_FLOAT32, shape.data(), shape.size(), values.data(),
                                  values.size() * sizeof(float), &t)));
  return Tensor(t);
}

Tensor make_i64_scalar(int64_t value) {
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Ok(ti_tensor_create(TI_DTYPE_INT64, nullptr, 0, &value, sizeof value, &t)));
  return Tensor(t);
}

std::vector<float> to_f32(const ti_tensor_t* t) {
  EXPECT_EQ(ti_tensor_dtype(t), TI_DTYPE_FLOAT32);
  std::vector<float> v(static_cast<size_t>(ti_tensor_numel(t)));
  EXPECT_TRUE(Ok(ti_tensor_copy_to(t, v.data(), v.size() * sizeof(float))));
  return v;
}

std::vector<int64_t> shape_of(const ti_tensor_t* t) {
  const int64_t* s = ti_tensor_shape(t);
  return s ? std::vector<int64_t>(s, s + ti_tensor_ndim(t)) : std::vector<int64_t>();
}

Outputs predict(ti_model_t* m, const std::vector<const ti_tensor_t*>& inputs) {
  ti_outputs_t* o = nullptr;
  EXPECT_TRUE(Ok(ti_model_predict(m, inputs.data(), inputs.size(), &o)));
  return Outputs(o);
}

Tensor output(const ti_outputs_t* o, const std::string& name) {
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Ok(ti_outputs_find(o, name.c_str(), &t))) << name;
  return Tensor(t);
}

}  // namespace ti_test

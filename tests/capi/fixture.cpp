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

ti_dtype_t dtype_from_name(const std::string& name) {
  for (int d = TI_DTYPE_FLOAT32; d <= TI_DTYPE_BOOL; ++d) {
    if (name == ti_dtype_name(static_cast<ti_dtype_t>(d))) return static_cast<ti_dtype_t>(d);
  }
  ADD_FAILURE() << "unknown dtype " << name;
  return TI_DTYPE_FLOAT32;
}

// Reference values as doubles, whatever the dtype (float16/bfloat16 are not used by the cases).
std::vector<double> values_of(const ti_tensor_t* t) {
  const size_t n = static_cast<size_t>(ti_tensor_numel(t));
  std::vector<unsigned char> bytes(ti_tensor_nbytes(t));
  EXPECT_TRUE(Ok(ti_tensor_copy_to(t, bytes.data(), bytes.size())));
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (ti_tensor_dtype(t)) {
      case TI_DTYPE_FLOAT32: v[i] = reinterpret_cast<const float*>(bytes.data())[i]; break;
      case TI_DTYPE_FLOAT64: v[i] = reinterpret_cast<const double*>(bytes.data())[i]; break;
      case TI_DTYPE_INT64: v[i] = static_cast<double>(reinterpret_cast<const int64_t*>(bytes.data())[i]); break;
      case TI_DTYPE_INT32: v[i] = reinterpret_cast<const int32_t*>(bytes.data())[i]; break;
      case TI_DTYPE_BOOL: v[i] = bytes[i]; break;
      default: ADD_FAILURE() << "dtype not used by reference cases"; break;
    }
  }
  return v;
}

Tensor make_input(const nlohmann::json& spec) {
  const ti_dtype_t dtype = dtype_from_name(spec["dtype"]);
  const auto shape = spec["shape"].get<std::vector<int64_t>>();
  const auto data = spec["data"].get<std::vector<double>>();
  std::vector<unsigned char> bytes(data.size() * ti_dtype_size(dtype));
  for (size_t i = 0; i < data.size(); ++i) {
    switch (dtype) {
      case TI_DTYPE_FLOAT32: reinterpret_cast<float*>(bytes.data())[i] = static_cast<float>(data[i]); break;
      case TI_DTYPE_FLOAT64: reinterpret_cast<double*>(bytes.data())[i] = data[i]; break;
      case TI_DTYPE_INT64: reinterpret_cast<int64_t*>(bytes.data())[i] = static_cast<int64_t>(data[i]); break;
      default: ADD_FAILURE() << "dtype not used by reference inputs"; break;
    }
  }
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Ok(ti_tensor_create(dtype, shape.data(), shape.size(), bytes.data(), bytes.size(), &t)));
  return Tensor(t);
}

}  // namespace ti_test

// Every case of reference.json (the values every binding also checks) through the C API.
#include "fixture.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace ti_test;
using nlohmann::json;

namespace {

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

Tensor make_input(const json& spec) {
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

class Reference : public CapiTest {};

TEST_F(Reference, EveryCaseMatchesPyTorch) {
  std::ifstream in(model_path("reference.json"));
  ASSERT_TRUE(in.good()) << "missing " << model_path("reference.json");
  const json ref = json::parse(in);
  ASSERT_GE(ref["cases"].size(), 10u);
  for (const auto& c : ref["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto model = load(c["model"]);
    ASSERT_NE(model, nullptr);
    std::vector<Tensor> inputs;
    std::vector<const ti_tensor_t*> raw_inputs;
    std::vector<std::string> names;
    for (const auto& i : c["inputs"]) {
      inputs.push_back(make_input(i));
      raw_inputs.push_back(inputs.back().get());
      names.push_back(i["name"]);
    }
    std::vector<const char*> name_ptrs;
    for (const auto& n : names) name_ptrs.push_back(n.c_str());
    const std::string method = c["method"];
    ti_outputs_t* raw = nullptr;
    if (c["named"].get<bool>()) {
      ASSERT_EQ(method, "forward");
      ASSERT_TRUE(Ok(ti_model_predict_named(model.get(), name_ptrs.data(), raw_inputs.data(), raw_inputs.size(), &raw)));
    } else {
      ASSERT_TRUE(Ok(ti_model_run_method(model.get(), method.c_str(), raw_inputs.data(), raw_inputs.size(), &raw)));
    }
    Outputs outputs(raw);
    ASSERT_EQ(ti_outputs_count(raw), c["outputs"].size());
    for (size_t k = 0; k < c["outputs"].size(); ++k) {
      const auto& expected = c["outputs"][k];
      SCOPED_TRACE(expected["name"].get<std::string>());
      EXPECT_EQ(ti_outputs_name(raw, k), expected["name"].get<std::string>());
      auto t = output(raw, expected["name"]);
      EXPECT_EQ(ti_tensor_dtype(t.get()), dtype_from_name(expected["dtype"]));
      EXPECT_EQ(shape_of(t.get()), expected["shape"].get<std::vector<int64_t>>());
      const auto want = expected["data"].get<std::vector<double>>();
      const auto got = values_of(t.get());
      ASSERT_EQ(got.size(), want.size());
      for (size_t j = 0; j < want.size(); ++j) {
        EXPECT_NEAR(got[j], want[j], 1e-6 + 1e-5 * std::fabs(want[j])) << "element " << j;
      }
    }
  }
}

}  // namespace

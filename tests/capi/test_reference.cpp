// Every case of reference.json (the values every binding also checks) through the C API.
#include "fixture.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace ti_test;
using nlohmann::json;

namespace {

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

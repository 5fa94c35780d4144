// Versions, thread settings, dtype helpers, error accessors.
#include "fixture.h"

#include <thread>

using namespace ti_test;

namespace {

class Runtime : public CapiTest {};

TEST_F(Runtime, VersionsMatchTheHeaderAndLibTorch) {
  EXPECT_STREQ(ti_version(), TI_VERSION_STRING);
  const std::string expected = std::to_string(TI_VERSION_MAJOR) + "." + std::to_string(TI_VERSION_MINOR) +
                               "." + std::to_string(TI_VERSION_PATCH);
  EXPECT_EQ(expected, ti_version());
  const std::string torch = ti_torch_version();
  ASSERT_FALSE(torch.empty());
  EXPECT_TRUE(torch[0] >= '1' && torch[0] <= '9') << torch;
  EXPECT_NE(torch.find('.'), std::string::npos) << torch;
}

TEST_F(Runtime, NumThreadsIsValidatedAndKept) {
  EXPECT_TRUE(Fails(ti_set_num_threads(0), TI_ERR_INVALID_ARGUMENT, "from 1 to 1024"));
  EXPECT_TRUE(Fails(ti_set_num_threads(-3), TI_ERR_INVALID_ARGUMENT));
  ASSERT_TRUE(Ok(ti_set_num_threads(1)));
  EXPECT_EQ(ti_get_num_threads(), 1);
  ASSERT_TRUE(Ok(ti_set_num_threads(2)));
  EXPECT_EQ(ti_get_num_threads(), 2);
  // The setting is process-wide: a new thread sees it and predictions there still work.
  int seen = 0;
  std::vector<float> got;
  std::thread([&] {
    seen = ti_get_num_threads();
    auto model = load("mlp.pt");
    auto x = make_f32(std::vector<float>(16, 0.5f), {1, 16});
    auto out = predict(model.get(), {x.get()});
    auto y = output(out.get(), "0");
    got = to_f32(y.get());
  }).join();
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(got.size(), 4u);
  ASSERT_TRUE(Ok(ti_set_num_threads(1)));
}

TEST_F(Runtime, CudaDeviceCountIsNonNegative) { EXPECT_GE(ti_cuda_device_count(), 0); }

TEST_F(Runtime, LiveHandlesCountEveryKind) {
  ti_load_options_t* o = ti_load_options_create();
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(ti_live_handles(), 1);
  ti_error_t* e = ti_set_num_threads(0);
  EXPECT_EQ(ti_live_handles(), 2);
  ti_error_free(e);
  ti_load_options_free(o);
  EXPECT_EQ(ti_live_handles(), 0);
}

TEST_F(Runtime, DtypeSizesAndNames) {
  struct { ti_dtype_t d; size_t size; const char* name; } expected[] = {
      {TI_DTYPE_FLOAT32, 4, "float32"}, {TI_DTYPE_FLOAT64, 8, "float64"},
      {TI_DTYPE_FLOAT16, 2, "float16"}, {TI_DTYPE_BFLOAT16, 2, "bfloat16"},
      {TI_DTYPE_INT8, 1, "int8"},       {TI_DTYPE_UINT8, 1, "uint8"},
      {TI_DTYPE_INT16, 2, "int16"},     {TI_DTYPE_INT32, 4, "int32"},
      {TI_DTYPE_INT64, 8, "int64"},     {TI_DTYPE_BOOL, 1, "bool"},
  };
  for (const auto& e : expected) {
    EXPECT_EQ(ti_dtype_size(e.d), e.size) << e.name;
    EXPECT_STREQ(ti_dtype_name(e.d), e.name);
  }
  EXPECT_EQ(ti_dtype_size(static_cast<ti_dtype_t>(42)), 0u);
  EXPECT_STREQ(ti_dtype_name(static_cast<ti_dtype_t>(-1)), "unknown");
}

TEST_F(Runtime, ErrorAccessorsAcceptNull) {
  EXPECT_EQ(ti_error_code(nullptr), TI_OK);
  EXPECT_STREQ(ti_error_message(nullptr), "");
  ti_error_free(nullptr);
  EXPECT_STREQ(ti_code_name(TI_ERR_DEVICE), "TI_ERR_DEVICE");
  EXPECT_STREQ(ti_code_name(TI_ERR_INTERNAL), "TI_ERR_INTERNAL");
  EXPECT_STREQ(ti_code_name(static_cast<ti_code_t>(99)), "TI_ERR_UNKNOWN");
}

TEST_F(Runtime, ErrorsAreValuesReadableFromAnotherThread) {
  ti_error_t* e = ti_set_num_threads(0);
  ASSERT_NE(e, nullptr);
  ti_code_t code = TI_OK;
  std::string message;
  std::thread([&] {
    code = ti_error_code(e);
    message = ti_error_message(e);
    ti_error_free(e);
  }).join();
  EXPECT_EQ(code, TI_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("from 1 to 1024"), std::string::npos);
}

TEST_F(Runtime, FreeFunctionsAcceptNull) {
  ti_tensor_free(nullptr);
  ti_model_free(nullptr);
  ti_outputs_free(nullptr);
  ti_load_options_free(nullptr);
  ti_error_free(nullptr);
  EXPECT_EQ(ti_live_handles(), 0);
}

}  // namespace

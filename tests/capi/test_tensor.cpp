// Tensor creation, accessors, copies, and ti_tensor_wrap's release contract.
#include "fixture.h"

#include <atomic>
#include <cstdint>
#include <thread>

using namespace ti_test;

namespace {

class Tensors : public CapiTest {};

TEST_F(Tensors, CreateCopiesAndReportsShape) {
  std::vector<int32_t> data = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3};
  ti_tensor_t* t = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_INT32, shape, 2, data.data(), 24, &t)));
  Tensor owned(t);
  data[0] = 100;  // the tensor holds its own copy
  EXPECT_EQ(ti_tensor_dtype(t), TI_DTYPE_INT32);
  EXPECT_EQ(ti_tensor_ndim(t), 2u);
  EXPECT_EQ(shape_of(t), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ti_tensor_numel(t), 6);
  EXPECT_EQ(ti_tensor_nbytes(t), 24u);
  EXPECT_STREQ(ti_tensor_device(t), "cpu");
  const void* p = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_data(t, &p)));
  EXPECT_EQ(static_cast<const int32_t*>(p)[0], 1);
  EXPECT_EQ(static_cast<const int32_t*>(p)[5], 6);
  std::vector<int32_t> back(6);
  ASSERT_TRUE(Ok(ti_tensor_copy_to(t, back.data(), 24)));
  EXPECT_EQ(back, (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(Tensors, ScalarAndEmptyTensors) {
  double v = 2.5;
  ti_tensor_t* s = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_FLOAT64, nullptr, 0, &v, 8, &s)));
  Tensor scalar(s);
  EXPECT_EQ(ti_tensor_ndim(s), 0u);
  EXPECT_EQ(ti_tensor_shape(s), nullptr);
  EXPECT_EQ(ti_tensor_numel(s), 1);
  double back = 0;
  ASSERT_TRUE(Ok(ti_tensor_copy_to(s, &back, 8)));
  EXPECT_EQ(back, 2.5);

  const int64_t shape[] = {3, 0};
  ti_tensor_t* e = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, nullptr, 0, &e)));
  Tensor empty(e);
  EXPECT_EQ(ti_tensor_numel(e), 0);
  EXPECT_EQ(ti_tensor_nbytes(e), 0u);
  EXPECT_TRUE(Ok(ti_tensor_copy_to(e, nullptr, 0)));
}

TEST_F(Tensors, CreateRejectsBadArguments) {
  float data[6] = {};
  const int64_t shape[] = {2, 3};
  ti_tensor_t* t = reinterpret_cast<ti_tensor_t*>(0x1);
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, data, 20, &t), TI_ERR_INVALID_ARGUMENT,
                    "needs 24"));
  EXPECT_EQ(t, nullptr);  // *out is NULL on error
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, data, 24, nullptr), TI_ERR_INVALID_ARGUMENT,
                    "out is NULL"));
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, nullptr, 2, data, 24, &t), TI_ERR_INVALID_ARGUMENT,
                    "shape is NULL"));
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, nullptr, 24, &t), TI_ERR_INVALID_ARGUMENT,
                    "data is NULL"));
  EXPECT_TRUE(Fails(ti_tensor_create(static_cast<ti_dtype_t>(10), shape, 2, data, 24, &t),
                    TI_ERR_INVALID_ARGUMENT, "unknown dtype"));
  const int64_t negative[] = {2, -3};
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, negative, 2, data, 24, &t), TI_ERR_INVALID_ARGUMENT,
                    "negative"));
  const int64_t huge[] = {INT64_MAX / 2, 4};
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, huge, 2, data, 24, &t), TI_ERR_INVALID_ARGUMENT,
                    "too large"));
}

TEST_F(Tensors, CopyToChecksItsDestination) {
  auto t = make_f32({1, 2, 3}, {3});
  float dst[3];
  EXPECT_TRUE(Fails(ti_tensor_copy_to(t.get(), dst, 8), TI_ERR_INVALID_ARGUMENT, "12 bytes"));
  EXPECT_TRUE(Fails(ti_tensor_copy_to(t.get(), nullptr, 12), TI_ERR_INVALID_ARGUMENT, "dst is NULL"));
  EXPECT_TRUE(Fails(ti_tensor_copy_to(nullptr, dst, 12), TI_ERR_INVALID_ARGUMENT, "t is NULL"));
  const void* p = reinterpret_cast<const void*>(0x1);
  EXPECT_TRUE(Fails(ti_tensor_data(nullptr, &p), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(p, nullptr);
  EXPECT_TRUE(Fails(ti_tensor_data(t.get(), nullptr), TI_ERR_INVALID_ARGUMENT));
}

TEST_F(Tensors, AccessorsOnNull) {
  EXPECT_EQ(ti_tensor_ndim(nullptr), 0u);
  EXPECT_EQ(ti_tensor_shape(nullptr), nullptr);
  EXPECT_EQ(ti_tensor_numel(nullptr), 0);
  EXPECT_EQ(ti_tensor_nbytes(nullptr), 0u);
  EXPECT_STREQ(ti_tensor_device(nullptr), "");
  EXPECT_EQ(ti_tensor_dtype(nullptr), TI_DTYPE_FLOAT32);
}

// Counts release calls; a wrapped tensor's memory is released exactly once.
struct Released {
  std::atomic<int> calls{0};
  static void release(void* ctx) { static_cast<Released*>(ctx)->calls++; }
};

TEST_F(Tensors, WrapSharesMemoryAndReleasesOnceOnFree) {
  std::vector<float> data = {1, 2, 3, 4};
  const int64_t shape[] = {2, 2};
  Released r;
  ti_tensor_t* t = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 2, data.data(), 16, Released::release, &r, &t)));
  const void* p = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_data(t, &p)));
  EXPECT_EQ(p, data.data());  // no copy
  EXPECT_EQ(r.calls, 0);
  ti_tensor_free(t);
  EXPECT_EQ(r.calls, 1);
}

TEST_F(Tensors, WrapReleasesOnceOnEveryError) {
  float data[4] = {};
  const int64_t shape[] = {2, 2};
  Released r;
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 2, data, 12, Released::release, &r, &t),
                    TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(r.calls, 1);
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 2, data, 16, Released::release, &r, nullptr),
                    TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(r.calls, 2);
  EXPECT_TRUE(Fails(ti_tensor_wrap(static_cast<ti_dtype_t>(77), shape, 2, data, 16, Released::release, &r, &t),
                    TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(r.calls, 3);
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_FLOAT32, nullptr, 2, data, 16, Released::release, &r, &t),
                    TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(r.calls, 4);
  const int64_t negative[] = {-2, 2};
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_FLOAT32, negative, 2, data, 16, Released::release, &r, &t),
                    TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(r.calls, 5);
  // Without a release callback nothing is called and the wrap still works.
  ASSERT_TRUE(Ok(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 2, data, 16, nullptr, nullptr, &t)));
  ti_tensor_free(t);
  EXPECT_EQ(r.calls, 5);
}

TEST_F(Tensors, WrapReleaseWaitsForOutputsThatAliasTheInput) {
  // structured.dict_out returns its argument itself as "boxes.0": that output shares the
  // wrapped memory, so release must wait until the last tensor holding it is gone.
  auto model = load("structured.pt");
  std::vector<float> data = {1, 2, 3};
  const int64_t shape[] = {3};
  Released r;
  ti_tensor_t* x = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 1, data.data(), 12, Released::release, &r, &x)));
  ti_outputs_t* o = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method(model.get(), "dict_out", &x, 1, &o)));
  ti_tensor_free(x);  // the handle is gone, the data is still needed by the outputs
  EXPECT_EQ(r.calls, 0);
  Tensor alias = output(o, "boxes.0");
  ti_outputs_free(o);
  model.reset();
  EXPECT_EQ(r.calls, 0);
  const void* p = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_data(alias.get(), &p)));
  EXPECT_EQ(p, data.data());
  EXPECT_EQ(to_f32(alias.get()), (std::vector<float>{1, 2, 3}));
  alias.reset();
  EXPECT_EQ(r.calls, 1);
}

TEST_F(Tensors, WrapReleaseCanRunOnAnotherThread) {
  std::vector<float> data = {1, 2};
  const int64_t shape[] = {2};
  Released r;
  ti_tensor_t* t = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 1, data.data(), 8, Released::release, &r, &t)));
  std::thread([t] { ti_tensor_free(t); }).join();
  EXPECT_EQ(r.calls, 1);
}

}  // namespace

// Running methods: inputs, named inputs, output trees, dtypes, and every runtime error.
#include "fixture.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace ti_test;

namespace {

class Predict : public CapiTest {};

std::vector<std::string> names_of(const ti_outputs_t* o) {
  std::vector<std::string> names;
  for (size_t i = 0; i < ti_outputs_count(o); ++i) names.push_back(ti_outputs_name(o, i));
  return names;
}

TEST_F(Predict, NestedTupleLeavesAreNamedByPath) {
  auto m = load("structured.pt");
  auto x = make_f32({1, 2, 3, 4}, {2, 2});
  auto o = predict(m.get(), {x.get()});
  EXPECT_EQ(names_of(o.get()), (std::vector<std::string>{"0", "1.0", "1.1"}));
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ(to_f32(output(o.get(), "1.0").get()), (std::vector<float>{2, 4, 6, 8}));
  auto sum = output(o.get(), "1.1");
  EXPECT_EQ(ti_tensor_ndim(sum.get()), 0u);
  EXPECT_EQ(to_f32(sum.get()), (std::vector<float>{10}));
}

TEST_F(Predict, DictOfListsAndScalars) {
  auto m = load("structured.pt");
  auto x = make_f32({1, -2, 4}, {3});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method(m.get(), "dict_out", in, 1, &raw)));
  Outputs d(raw);
  EXPECT_EQ(names_of(d.get()), (std::vector<std::string>{"boxes.0", "boxes.1", "boxes.2", "scores.0"}));
  EXPECT_EQ(to_f32(output(d.get(), "boxes.2").get()), (std::vector<float>{3, 0, 6}));
  EXPECT_EQ(to_f32(output(d.get(), "scores.0").get()), (std::vector<float>{3}));

  ASSERT_TRUE(Ok(ti_model_run_method(m.get(), "scalars", in, 1, &raw)));
  Outputs s(raw);
  ASSERT_EQ(names_of(s.get()), (std::vector<std::string>{"0", "1", "2"}));
  auto n = output(s.get(), "0");
  auto f = output(s.get(), "1");
  auto b = output(s.get(), "2");
  EXPECT_EQ(ti_tensor_dtype(n.get()), TI_DTYPE_INT64);
  EXPECT_EQ(ti_tensor_dtype(f.get()), TI_DTYPE_FLOAT64);
  EXPECT_EQ(ti_tensor_dtype(b.get()), TI_DTYPE_BOOL);
  EXPECT_EQ(ti_tensor_ndim(n.get()), 0u);
  int64_t nv = 0;
  double fv = 0;
  uint8_t bv = 0;
  ASSERT_TRUE(Ok(ti_tensor_copy_to(n.get(), &nv, 8)));
  ASSERT_TRUE(Ok(ti_tensor_copy_to(f.get(), &fv, 8)));
  ASSERT_TRUE(Ok(ti_tensor_copy_to(b.get(), &bv, 1)));
  EXPECT_EQ(nv, 3);
  EXPECT_DOUBLE_EQ(fv, 3.0);
  EXPECT_EQ(bv, 1);
}

TEST_F(Predict, OutputsOutliveTheirSetAndTheModel) {
  auto m = load("identity.pt");
  auto x = make_f32({7, 8}, {2});
  auto o = predict(m.get(), {x.get()});
  ti_tensor_t* kept = nullptr;
  ASSERT_TRUE(Ok(ti_outputs_get(o.get(), 0, &kept)));
  Tensor owned(kept);
  o.reset();
  m.reset();
  x.reset();
  EXPECT_EQ(ti_live_handles(), 1);
  EXPECT_EQ(to_f32(kept), (std::vector<float>{7, 8}));
}

TEST_F(Predict, OutputsAccessErrors) {
  auto m = load("identity.pt");
  auto x = make_f32({1}, {1});
  auto o = predict(m.get(), {x.get()});
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Fails(ti_outputs_get(o.get(), 1, &t), TI_ERR_INVALID_ARGUMENT, "out of range"));
  EXPECT_TRUE(Fails(ti_outputs_find(o.get(), "logits", &t), TI_ERR_NOT_FOUND, "the outputs are: 0"));
  EXPECT_TRUE(Fails(ti_outputs_get(nullptr, 0, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_get(o.get(), 0, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_find(o.get(), nullptr, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_find(nullptr, "0", &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(ti_outputs_count(nullptr), 0u);
  EXPECT_EQ(ti_outputs_name(nullptr, 0), nullptr);
  EXPECT_EQ(ti_outputs_name(o.get(), 1), nullptr);
}

// Every dtype goes into a model and comes back bit for bit.
TEST_F(Predict, AllDtypesRoundTrip) {
  auto m = load("identity.pt");
  const ti_dtype_t dtypes[] = {TI_DTYPE_FLOAT32, TI_DTYPE_FLOAT64, TI_DTYPE_FLOAT16, TI_DTYPE_BFLOAT16,
                               TI_DTYPE_INT8,    TI_DTYPE_UINT8,   TI_DTYPE_INT16,   TI_DTYPE_INT32,
                               TI_DTYPE_INT64,   TI_DTYPE_BOOL};
  for (ti_dtype_t dtype : dtypes) {
    SCOPED_TRACE(ti_dtype_name(dtype));
    const size_t n = 6, size = ti_dtype_size(dtype);
    std::vector<unsigned char> bytes(n * size);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 37 + 11);
    if (dtype == TI_DTYPE_BOOL) {
      for (size_t i = 0; i < n; ++i) bytes[i] = i % 3 == 0;
    } else if (dtype == TI_DTYPE_FLOAT16 || dtype == TI_DTYPE_BFLOAT16 || dtype == TI_DTYPE_FLOAT32 ||
               dtype == TI_DTYPE_FLOAT64) {
      // Keep float patterns finite: clear the top exponent bit of every element.
      for (size_t i = 0; i < n; ++i) bytes[i * size + size - 1] &= 0x3F;
    }
    const int64_t shape[] = {2, 3};
    ti_tensor_t* x = nullptr;
    ASSERT_TRUE(Ok(ti_tensor_create(dtype, shape, 2, bytes.data(), bytes.size(), &x)));
    Tensor in(x);
    auto o = predict(m.get(), {x});
    auto y = output(o.get(), "0");
    EXPECT_EQ(ti_tensor_dtype(y.get()), dtype);
    EXPECT_EQ(shape_of(y.get()), (std::vector<int64_t>{2, 3}));
    std::vector<unsigned char> back(bytes.size());
    ASSERT_TRUE(Ok(ti_tensor_copy_to(y.get(), back.data(), back.size())));
    EXPECT_EQ(back, bytes);
    const void* p = nullptr;
    ASSERT_TRUE(Ok(ti_tensor_data(y.get(), &p)));
    EXPECT_EQ(std::memcmp(p, bytes.data(), bytes.size()), 0);
  }
}

TEST_F(Predict, NamedInputsInAnyOrderWithDefaults) {
  auto m = load("named.pt");
  auto ids = make_f32({1, 2, 3}, {1, 3});
  auto mask = make_f32({1, 0, 1}, {1, 3});
  auto bias = make_f32({10, 10, 10}, {1, 3});
  ti_outputs_t* raw = nullptr;
  {
    const char* names[] = {"mask", "ids"};
    const ti_tensor_t* in[] = {mask.get(), ids.get()};
    ASSERT_TRUE(Ok(ti_model_predict_named(m.get(), names, in, 2, &raw)));
    Outputs o(raw);
    EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{1, 0, 3}));
  }
  {
    const char* names[] = {"bias", "ids", "mask"};
    const ti_tensor_t* in[] = {bias.get(), ids.get(), mask.get()};
    ASSERT_TRUE(Ok(ti_model_predict_named(m.get(), names, in, 3, &raw)));
    Outputs o(raw);
    EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{11, 10, 13}));
  }
  {
    // A float argument takes a one-element tensor of any numeric dtype.
    double scale_value = 2.0;
    ti_tensor_t* s = nullptr;
    ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_FLOAT64, nullptr, 0, &scale_value, 8, &s)));
    Tensor scale(s);
    const char* names[] = {"scale", "mask", "ids"};
    const ti_tensor_t* in[] = {scale.get(), mask.get(), ids.get()};
    ASSERT_TRUE(Ok(ti_model_predict_named(m.get(), names, in, 3, &raw)));
    Outputs o(raw);
    EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{2, 0, 6}));
  }
  // Positional with trailing defaults left out.
  auto o = predict(m.get(), {ids.get(), mask.get()});
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{1, 0, 3}));
}

TEST_F(Predict, NamedInputErrorsListTheValidNames) {
  auto m = load("named.pt");
  auto t = make_f32({1, 2, 3}, {1, 3});
  ti_outputs_t* o = reinterpret_cast<ti_outputs_t*>(0x1);
  {
    const char* names[] = {"ids", "maks"};
    const ti_tensor_t* in[] = {t.get(), t.get()};
    EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), names, in, 2, &o), TI_ERR_INVALID_ARGUMENT,
                      "unknown input name 'maks'; method 'forward' takes: ids, mask, bias, scale"));
    EXPECT_EQ(o, nullptr);
  }
  {
    const char* names[] = {"ids"};
    const ti_tensor_t* in[] = {t.get()};
    EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), names, in, 1, &o), TI_ERR_INVALID_ARGUMENT,
                      "missing input(s) mask"));
  }
  {
    const char* names[] = {"ids", "ids", "mask"};
    const ti_tensor_t* in[] = {t.get(), t.get(), t.get()};
    EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), names, in, 3, &o), TI_ERR_INVALID_ARGUMENT, "twice"));
  }
  {
    const char* names[] = {"ids", nullptr};
    const ti_tensor_t* in[] = {t.get(), t.get()};
    EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), names, in, 2, &o), TI_ERR_INVALID_ARGUMENT, "NULL"));
  }
  {
    const char* names[] = {"ids", "mask", "scale"};
    const ti_tensor_t* in[] = {t.get(), t.get(), t.get()};  // scale wants one element
    EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), names, in, 3, &o), TI_ERR_INVALID_ARGUMENT,
                      "one-element tensor"));
  }
  const ti_tensor_t* in[] = {t.get()};
  EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), nullptr, in, 1, &o), TI_ERR_INVALID_ARGUMENT, "names"));
}

TEST_F(Predict, WrongInputCountAndNullInputs) {
  auto m = load("mlp.pt");
  auto x = make_f32(std::vector<float>(16, 1.0f), {1, 16});
  ti_outputs_t* o = reinterpret_cast<ti_outputs_t*>(0x1);
  const ti_tensor_t* two[] = {x.get(), x.get()};
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), two, 2, &o), TI_ERR_INVALID_ARGUMENT,
                    "method 'forward' takes 1 input(s) (x), got 2"));
  EXPECT_EQ(o, nullptr);
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), nullptr, 0, &o), TI_ERR_INVALID_ARGUMENT, "got 0"));
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), nullptr, 1, &o), TI_ERR_INVALID_ARGUMENT, "inputs is NULL"));
  const ti_tensor_t* null_input[] = {nullptr};
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), null_input, 1, &o), TI_ERR_INVALID_ARGUMENT, "inputs[0] is NULL"));
  const ti_tensor_t* one[] = {x.get()};
  EXPECT_TRUE(Fails(ti_model_predict(nullptr, one, 1, &o), TI_ERR_INVALID_ARGUMENT, "m is NULL"));
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), one, 1, nullptr), TI_ERR_INVALID_ARGUMENT, "out is NULL"));
  auto named = load("named.pt");
  EXPECT_TRUE(Fails(ti_model_predict(named.get(), one, 1, &o), TI_ERR_INVALID_ARGUMENT,
                    "takes 2 to 4 input(s) (ids, mask, bias=None, scale=1"));
}

TEST_F(Predict, SecondMethodAndMissingMethod) {
  auto m = load("identity.pt");
  auto x = make_f32({1.5f, -2}, {2});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method(m.get(), "double", in, 1, &raw)));
  Outputs o(raw);
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{3, -4}));
  EXPECT_TRUE(Fails(ti_model_run_method(m.get(), "triple", in, 1, &raw), TI_ERR_NOT_FOUND,
                    "no method 'triple'; its methods are: double, forward"));
  EXPECT_TRUE(Fails(ti_model_run_method(m.get(), nullptr, in, 1, &raw), TI_ERR_INVALID_ARGUMENT));
  ASSERT_TRUE(Ok(ti_model_run_method(m.get(), "forward", in, 1, &raw)));
  Outputs f(raw);
  EXPECT_EQ(to_f32(output(f.get(), "0").get()), (std::vector<float>{1.5f, -2}));
}

TEST_F(Predict, NamedInputsForAnotherMethod) {
  auto m = load("identity.pt");
  auto x = make_f32({2, 3}, {2});
  const char* names[] = {"x"};
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method_named(m.get(), "double", names, in, 1, &raw)));
  Outputs o(raw);
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{4, 6}));
  const char* wrong[] = {"y"};
  EXPECT_TRUE(Fails(ti_model_run_method_named(m.get(), "double", wrong, in, 1, &raw), TI_ERR_INVALID_ARGUMENT,
                    "unknown input name 'y'; method 'double' takes: x"));
  EXPECT_TRUE(Fails(ti_model_run_method_named(m.get(), "nope", names, in, 1, &raw), TI_ERR_NOT_FOUND));
  EXPECT_TRUE(Fails(ti_model_run_method_named(m.get(), nullptr, names, in, 1, &raw), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run_method_named(m.get(), "double", nullptr, in, 1, &raw), TI_ERR_INVALID_ARGUMENT));
}

TEST_F(Predict, UnrepresentableResultIsUnsupported) {
  auto m = load("values.pt");
  auto x = make_f32({1}, {1});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* o = nullptr;
  EXPECT_TRUE(Fails(ti_model_run_method(m.get(), "float_keys", in, 1, &o), TI_ERR_UNSUPPORTED,
                    "output '0' is a dict with float keys"));
  EXPECT_EQ(o, nullptr);
}

TEST_F(Predict, StringResultIsAStringLeaf) {
  auto m = load("structured.pt");
  auto x = make_f32({1}, {1});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method(m.get(), "text", in, 1, &raw)));
  Outputs o(raw);
  ASSERT_EQ(ti_outputs_kind(raw, 0), TI_KIND_STRING);
  const char* data = nullptr;
  size_t len = 0;
  ASSERT_TRUE(Ok(ti_outputs_string(raw, 0, &data, &len)));
  EXPECT_EQ(std::string(data, len), "not a tensor");
}

TEST_F(Predict, ModelRaiseIsRuntimeAndTheModelStaysUsable) {
  auto m = load("faulty.pt");
  auto bad = make_f32({-1, -2}, {2});
  ti_outputs_t* o = nullptr;
  const ti_tensor_t* in_bad[] = {bad.get()};
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), in_bad, 1, &o), TI_ERR_RUNTIME,
                    "faulty: input sum must be non-negative"));
  auto good = make_f32({1, 2}, {2});
  auto out = predict(m.get(), {good.get()});
  EXPECT_EQ(to_f32(output(out.get(), "0").get()), (std::vector<float>{2, 4}));
}

TEST_F(Predict, OpShapeAndDtypeMismatchesAreRuntime) {
  auto m = load("mlp.pt");
  auto wrong_shape = make_f32(std::vector<float>(7, 1.0f), {1, 7});
  ti_outputs_t* o = nullptr;
  const ti_tensor_t* in1[] = {wrong_shape.get()};
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), in1, 1, &o), TI_ERR_RUNTIME, "1x7"));
  std::vector<int64_t> ints(16, 1);
  const int64_t shape[] = {1, 16};
  ti_tensor_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_INT64, shape, 2, ints.data(), 16 * 8, &raw)));
  Tensor wrong_dtype(raw);
  const ti_tensor_t* in2[] = {raw};
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), in2, 1, &o), TI_ERR_RUNTIME));
  auto x = make_f32(std::vector<float>(16, 0.0f), {1, 16});
  auto out = predict(m.get(), {x.get()});
  EXPECT_EQ(to_f32(output(out.get(), "0").get()).size(), 4u);
}

TEST_F(Predict, AllocationFailureIsOutOfMemoryAndTheModelStaysUsable) {
  auto m = load("faulty.pt");
  auto n = make_i64_scalar(1000000000000000LL);  // 4 PB of floats
  const ti_tensor_t* in[] = {n.get()};
  ti_outputs_t* o = nullptr;
  EXPECT_TRUE(Fails(ti_model_run_method(m.get(), "allocate", in, 1, &o), TI_ERR_OUT_OF_MEMORY));
  auto small = make_i64_scalar(3);
  const ti_tensor_t* in_small[] = {small.get()};
  ASSERT_TRUE(Ok(ti_model_run_method(m.get(), "allocate", in_small, 1, &o)));
  Outputs out(o);
  EXPECT_EQ(to_f32(output(out.get(), "0").get()), (std::vector<float>{1, 1, 1}));
}

}  // namespace

TEST_F(CapiTest, LeavesAreReadableWithoutATensorHandle) {
  auto m = load("structured.pt");
  auto x = make_f32({1, -2, 3.5f, 0.25f, 4, -1}, {2, 3});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_predict(m.get(), in, 1, &raw)));
  Outputs o(raw);
  ASSERT_GE(ti_outputs_count(o.get()), 2u);
  const int64_t live = ti_live_handles();
  for (size_t i = 0; i < ti_outputs_count(o.get()); ++i) {
    auto t = output(o.get(), ti_outputs_name(o.get(), i));
    EXPECT_EQ(ti_outputs_dtype(o.get(), i), ti_tensor_dtype(t.get()));
    ASSERT_EQ(ti_outputs_ndim(o.get(), i), ti_tensor_ndim(t.get()));
    EXPECT_EQ(ti_outputs_nbytes(o.get(), i), ti_tensor_nbytes(t.get()));
    if (ti_outputs_ndim(o.get(), i) > 0) {
      EXPECT_EQ(std::vector<int64_t>(ti_outputs_shape(o.get(), i), ti_outputs_shape(o.get(), i) + ti_outputs_ndim(o.get(), i)),
                shape_of(t.get()));
    }
    std::vector<char> a(ti_outputs_nbytes(o.get(), i)), b(a.size());
    ASSERT_TRUE(Ok(ti_outputs_copy_to(o.get(), i, a.data(), a.size())));
    ASSERT_TRUE(Ok(ti_tensor_copy_to(t.get(), b.data(), b.size())));
    EXPECT_EQ(a, b) << ti_outputs_name(o.get(), i);
  }
  EXPECT_EQ(ti_live_handles(), live);
  // Bad arguments.
  const size_t n = ti_outputs_count(o.get());
  char buf[64];
  EXPECT_TRUE(Fails(ti_outputs_copy_to(o.get(), n, buf, sizeof buf), TI_ERR_INVALID_ARGUMENT, "out of range"));
  EXPECT_TRUE(Fails(ti_outputs_copy_to(o.get(), 0, buf, ti_outputs_nbytes(o.get(), 0) + 1), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_copy_to(nullptr, 0, buf, sizeof buf), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_outputs_copy_to(o.get(), 0, nullptr, 4), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(ti_outputs_nbytes(o.get(), n), 0u);
  EXPECT_EQ(ti_outputs_ndim(nullptr, 0), 0u);
  EXPECT_EQ(ti_outputs_shape(o.get(), n), nullptr);
  EXPECT_EQ(ti_outputs_dtype(nullptr, 0), TI_DTYPE_FLOAT32);
}

TEST_F(CapiTest, RejectedCallsKeepTheMessageWithoutABacktrace) {
  auto m = load("mlp.pt");
  auto x = make_f32(std::vector<float>(15, 1.0f), {1, 15});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  ti_error_t* e = ti_model_predict(m.get(), in, 1, &raw);
  ASSERT_EQ(ti_error_code(e), TI_ERR_RUNTIME);
  const std::string message = ti_error_message(e);
  ti_error_free(e);
  EXPECT_NE(message.find("cannot be multiplied"), std::string::npos) << message;
  EXPECT_EQ(message.find("frame #"), std::string::npos) << message;
}

TEST_F(CapiTest, OptimizedLoadGivesTheSameOutputs) {
  Options opts(ti_load_options_create());
  EXPECT_TRUE(Fails(ti_load_options_set_optimize(opts.get(), 2), TI_ERR_INVALID_ARGUMENT, "0 or 1"));
  EXPECT_TRUE(Fails(ti_load_options_set_optimize(opts.get(), -1), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_optimize(nullptr, 1), TI_ERR_INVALID_ARGUMENT));
  ASSERT_TRUE(Ok(ti_load_options_set_optimize(opts.get(), 1)));
  for (const char* file : {"mlp.pt", "demo.pt", "identity.pt"}) {
    auto plain = load(file);
    ti_model_t* raw = nullptr;
    ASSERT_TRUE(Ok(ti_model_load(model_path(file).c_str(), opts.get(), &raw))) << file;
    Model optimized(raw);
    const int64_t width = std::string(file) == "mlp.pt" ? 16 : std::string(file) == "demo.pt" ? 4 : 3;
    std::vector<float> xv(static_cast<size_t>(2 * width));
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = 0.37f * static_cast<float>(i) - 1.1f;
    auto x = make_f32(xv, {2, width});
    auto a = predict(plain.get(), {x.get()});
    auto b = predict(optimized.get(), {x.get()});
    ASSERT_EQ(ti_outputs_count(a.get()), ti_outputs_count(b.get())) << file;
    for (size_t i = 0; i < ti_outputs_count(a.get()); ++i) {
      EXPECT_STREQ(ti_outputs_name(a.get(), i), ti_outputs_name(b.get(), i));
      auto va = to_f32(output(a.get(), ti_outputs_name(a.get(), i)).get());
      auto vb = to_f32(output(b.get(), ti_outputs_name(b.get(), i)).get());
      ASSERT_EQ(va.size(), vb.size());
      for (size_t k = 0; k < va.size(); ++k) EXPECT_NEAR(va[k], vb[k], 1e-5f * std::max(1.0f, std::abs(va[k]))) << file;
    }
  }
  // Exported methods survive freezing.
  ti_model_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_load(model_path("identity.pt").c_str(), opts.get(), &raw)));
  Model identity(raw);
  auto x = make_f32({1, 2, 3}, {1, 3});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* o = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method(identity.get(), "double", in, 1, &o)));
  Outputs doubled(o);
  EXPECT_EQ(to_f32(output(doubled.get(), "0").get()), (std::vector<float>{2, 4, 6}));
}

// AOTInductor packages (.pt2) behind the same C API as TorchScript. The .pt2 fixtures exist on
// the LibTorch 2.x leg (make_models.py exports them with torch >= 2.6); on LibTorch 1.13 a
// package must be refused with TI_ERR_UNSUPPORTED naming the version.
#include "fixture.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace ti_test;

namespace {

bool libtorch_has_aoti() {
  const std::string v = ti_torch_version();
  const int major = std::atoi(v.c_str());
  const int minor = std::atoi(v.substr(v.find('.') + 1).c_str());
  return major > 2 || (major == 2 && minor >= 6);
}

class Aoti : public CapiTest {
 protected:
  void SetUp() override {
    CapiTest::SetUp();
    if (!libtorch_has_aoti()) GTEST_SKIP() << "LibTorch " << ti_torch_version() << " has no AOTInductor";
    // On a 2.x leg the fixtures must be there: a missing one is a failure, not a skip.
    ASSERT_TRUE(std::ifstream(model_path("dynamic.pt2")).good()) << "dynamic.pt2 was not exported";
  }
};

std::vector<float> iota(size_t n, float scale = 0.1f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>(i) - 1.0f;
  return v;
}

TEST_F(CapiTest, Pt2OnOldLibTorchIsUnsupportedAndNamesTheVersion) {
  if (libtorch_has_aoti()) GTEST_SKIP() << "this LibTorch loads .pt2 packages";
  ti_model_t* m = reinterpret_cast<ti_model_t*>(1);
  EXPECT_TRUE(Fails(ti_model_load(model_path("fake.pt2").c_str(), nullptr, &m), TI_ERR_UNSUPPORTED, "2.6"));
  EXPECT_EQ(m, nullptr);
  const auto bytes = read_file(model_path("fake.pt2"));
  EXPECT_TRUE(Fails(ti_model_load_buffer(bytes.data(), bytes.size(), nullptr, &m), TI_ERR_UNSUPPORTED,
                    ti_torch_version()));
}

TEST_F(Aoti, FakePackageIsAFormatError) {
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Fails(ti_model_load(model_path("fake.pt2").c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_EQ(m, nullptr);
}

TEST_F(Aoti, FormatAndIntrospection) {
  auto dyn = load("dynamic.pt2");
  EXPECT_STREQ(ti_model_format(dyn.get()), "aotinductor");
  EXPECT_STREQ(ti_model_device(dyn.get()), "cpu");
  ASSERT_EQ(ti_model_input_count(dyn.get()), 2u);
  EXPECT_STREQ(ti_model_input_name(dyn.get(), 0), "x");
  EXPECT_STREQ(ti_model_input_name(dyn.get(), 1), "y");
  EXPECT_EQ(ti_model_input_name(dyn.get(), 2), nullptr);
  ASSERT_EQ(ti_model_method_count(dyn.get()), 1u);
  EXPECT_STREQ(ti_model_method_name(dyn.get(), 0), "forward");

  auto conv = load("conv.pt2");
  ASSERT_EQ(ti_model_input_count(conv.get()), 1u);
  EXPECT_STREQ(ti_model_input_name(conv.get(), 0), "0");  // positional at export

  auto multi = load("multi.pt2");
  ASSERT_EQ(ti_model_method_count(multi.get()), 2u);
  EXPECT_STREQ(ti_model_method_name(multi.get(), 0), "conv");
  EXPECT_STREQ(ti_model_method_name(multi.get(), 1), "forward");
  EXPECT_EQ(ti_model_input_count(multi.get()), 2u);  // forward = the package's "model"

  auto ts = load("mlp.pt");
  EXPECT_STREQ(ti_model_format(ts.get()), "torchscript");
  EXPECT_STREQ(ti_model_format(nullptr), "");
}

TEST_F(Aoti, DefaultModelIsAlsoReachableByItsPackageName) {
  auto multi = load("multi.pt2");
  auto image = make_f32(iota(3 * 8 * 8, 0.01f), {1, 3, 8, 8});
  const ti_tensor_t* in[] = {image.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_method(multi.get(), "conv", in, 1, &raw)));
  Outputs conv_out(raw);
  ASSERT_EQ(ti_outputs_count(conv_out.get()), 2u);
  EXPECT_STREQ(ti_outputs_name(conv_out.get(), 0), "0");
  EXPECT_STREQ(ti_outputs_name(conv_out.get(), 1), "1");
  EXPECT_EQ(shape_of(output(conv_out.get(), "0").get()), (std::vector<int64_t>{1, 4, 8, 8}));
  EXPECT_EQ(shape_of(output(conv_out.get(), "1").get()), (std::vector<int64_t>{1, 4}));

  auto x = make_f32(iota(16), {2, 8});
  auto y = make_f32(iota(8), {2, 4});
  const ti_tensor_t* xy[] = {x.get(), y.get()};
  auto by_forward = predict(multi.get(), {x.get(), y.get()});
  ASSERT_TRUE(Ok(ti_model_run_method(multi.get(), "model", xy, 2, &raw)));
  Outputs by_name(raw);
  EXPECT_EQ(to_f32(output(by_forward.get(), "sum").get()), to_f32(output(by_name.get(), "sum").get()));
  EXPECT_TRUE(Fails(ti_model_run_method(multi.get(), "nope", xy, 2, &raw), TI_ERR_NOT_FOUND, "conv, forward"));
}

TEST_F(Aoti, DictOutputsAreNamedByKeyAndDynamicBatchWorks) {
  auto m = load("dynamic.pt2");
  for (int64_t batch : {2, 7, 64}) {
    auto x = make_f32(iota(static_cast<size_t>(batch) * 8), {batch, 8});
    auto y = make_f32(std::vector<float>(static_cast<size_t>(batch) * 4, 0.0f), {batch, 4});
    auto o = predict(m.get(), {x.get(), y.get()});
    ASSERT_EQ(ti_outputs_count(o.get()), 2u);
    EXPECT_STREQ(ti_outputs_name(o.get(), 0), "sum");
    EXPECT_STREQ(ti_outputs_name(o.get(), 1), "relu");
    auto sum = to_f32(output(o.get(), "sum").get());
    auto relu = to_f32(output(o.get(), "relu").get());
    ASSERT_EQ(sum.size(), static_cast<size_t>(batch) * 4);
    for (size_t i = 0; i < sum.size(); ++i) EXPECT_EQ(relu[i], std::max(sum[i], 0.0f));
  }
}

TEST_F(Aoti, NamedInputsInAnyOrder) {
  auto m = load("dynamic.pt2");
  auto x = make_f32(iota(24), {3, 8});
  auto y = make_f32(iota(12, 0.5f), {3, 4});
  auto positional = predict(m.get(), {x.get(), y.get()});
  const char* names[] = {"y", "x"};
  const ti_tensor_t* in[] = {y.get(), x.get()};
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_predict_named(m.get(), names, in, 2, &raw)));
  Outputs named(raw);
  EXPECT_EQ(to_f32(output(positional.get(), "sum").get()), to_f32(output(named.get(), "sum").get()));
  const char* bad[] = {"y", "z"};
  EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), bad, in, 2, &raw), TI_ERR_INVALID_ARGUMENT, "x, y"));
  EXPECT_EQ(raw, nullptr);
}

// Every mismatch is caught before the compiled code runs, with the input's name in the message.
TEST_F(Aoti, InputsAreCheckedAgainstThePackageSpec) {
  auto m = load("dynamic.pt2");
  ti_outputs_t* raw = nullptr;
  auto x3 = make_f32(iota(24), {3, 8});
  auto y3 = make_f32(iota(12), {3, 4});
  const ti_tensor_t* one[] = {x3.get()};
  EXPECT_TRUE(Fails(ti_model_predict(m.get(), one, 1, &raw), TI_ERR_INVALID_ARGUMENT, "takes 2 input(s)"));

  auto check = [&](const ti_tensor_t* x, const ti_tensor_t* y, const char* part) {
    const ti_tensor_t* in[] = {x, y};
    ti_outputs_t* o = reinterpret_cast<ti_outputs_t*>(1);
    EXPECT_TRUE(Fails(ti_model_predict(m.get(), in, 2, &o), TI_ERR_INVALID_ARGUMENT, part)) << part;
    EXPECT_EQ(o, nullptr);
  };
  // batch sizes that differ between x and y: the compiled code would read y out of bounds
  auto y5 = make_f32(iota(20), {5, 4});
  check(x3.get(), y5.get(), "input 'y'");
  // a static size
  auto x_wide = make_f32(iota(27), {3, 9});
  check(x_wide.get(), y3.get(), "dim 1 is 9, expected 8");
  // rank
  auto x_flat = make_f32(iota(24), {24});
  check(x_flat.get(), y3.get(), "has 1 dimension(s), expected 2");
  // the dynamic range: export fixed batch >= 2 (0/1 specialisation) and max 64
  auto x65 = make_f32(iota(65 * 8), {65, 8});
  auto y65 = make_f32(iota(65 * 4), {65, 4});
  check(x65.get(), y65.get(), "outside the range [2, 64]");
  auto x1 = make_f32(iota(8), {1, 8});
  auto y1 = make_f32(iota(4), {1, 4});
  check(x1.get(), y1.get(), "outside the range");
  // dtype
  std::vector<double> d(24, 1.0);
  const int64_t shape[] = {3, 8};
  ti_tensor_t* xd = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_FLOAT64, shape, 2, d.data(), d.size() * 8, &xd)));
  Tensor owned(xd);
  check(xd, y3.get(), "input 'x' of method 'forward' is Double");
  // and a good call still works afterwards
  auto o = predict(m.get(), {x3.get(), y3.get()});
  EXPECT_EQ(ti_outputs_count(o.get()), 2u);
}

TEST_F(Aoti, LoadFromBufferLeavesNoTemporaryFile) {
  const auto bytes = read_file(model_path("conv.pt2"));
  ASSERT_FALSE(bytes.empty());
  const std::string tmp = std::string(testing::TempDir()) + "ti-aoti-tmp";
  ASSERT_EQ(std::system(("rm -rf " + tmp + " && mkdir -p " + tmp).c_str()), 0);
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  setenv("TMPDIR", tmp.c_str(), 1);
  ti_model_t* raw = nullptr;
  ti_error_t* e = ti_model_load_buffer(bytes.data(), bytes.size(), nullptr, &raw);
  if (old) setenv("TMPDIR", saved.c_str(), 1); else unsetenv("TMPDIR");
  ASSERT_TRUE(Ok(e));
  Model from_buffer(raw);
  EXPECT_EQ(std::system(("test -z \"$(ls -A " + tmp + " | grep torchinfer-)\"").c_str()), 0)
      << "the private copy of the package was not removed";
  auto from_file = load("conv.pt2");
  auto image = make_f32(iota(3 * 8 * 8, 0.01f), {1, 3, 8, 8});
  auto a = predict(from_buffer.get(), {image.get()});
  auto b = predict(from_file.get(), {image.get()});
  EXPECT_EQ(to_f32(output(a.get(), "1").get()), to_f32(output(b.get(), "1").get()));
}

TEST_F(Aoti, DeviceMismatchIsADeviceError) {
  Options opts(ti_load_options_create());
  ASSERT_TRUE(Ok(ti_load_options_set_device(opts.get(), "cuda")));
  ti_model_t* m = nullptr;
  // No GPU: the device is missing; with a GPU: this CPU package cannot run on it.
  EXPECT_TRUE(Fails(ti_model_load(model_path("conv.pt2").c_str(), opts.get(), &m), TI_ERR_DEVICE));
  EXPECT_EQ(m, nullptr);
  ASSERT_TRUE(Ok(ti_load_options_set_device(opts.get(), "cpu")));
  ASSERT_TRUE(Ok(ti_model_load(model_path("conv.pt2").c_str(), opts.get(), &m)));
  ti_model_free(m);
}

TEST_F(Aoti, SixteenThreadsShareOnePackage) {
  constexpr int kThreads = 16, kRounds = 20, kInputs = 8;
  auto m = load("dynamic.pt2");
  std::vector<std::vector<float>> reference;
  auto batch_of = [](int k) { return static_cast<int64_t>(2 + k % 5); };
  auto x_of = [&](int k) { return iota(static_cast<size_t>(batch_of(k)) * 8, 0.01f * static_cast<float>(k + 1)); };
  auto y_of = [&](int k) { return iota(static_cast<size_t>(batch_of(k)) * 4, 0.02f * static_cast<float>(k + 1)); };
  for (int k = 0; k < kInputs; ++k) {
    auto x = make_f32(x_of(k), {batch_of(k), 8});
    auto y = make_f32(y_of(k), {batch_of(k), 4});
    auto o = predict(m.get(), {x.get(), y.get()});
    reference.push_back(to_f32(output(o.get(), "relu").get()));
  }
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int k = (t * 3 + r) % kInputs;
        ti_tensor_t *x = nullptr, *y = nullptr, *leaf = nullptr;
        ti_outputs_t* o = nullptr;
        const auto xv = x_of(k), yv = y_of(k);
        const int64_t xs[] = {batch_of(k), 8}, ys[] = {batch_of(k), 4};
        std::vector<float> got(yv.size());
        ti_error_t* e = ti_tensor_create(TI_DTYPE_FLOAT32, xs, 2, xv.data(), xv.size() * 4, &x);
        if (!e) e = ti_tensor_create(TI_DTYPE_FLOAT32, ys, 2, yv.data(), yv.size() * 4, &y);
        const ti_tensor_t* in[] = {x, y};
        if (!e) e = ti_model_predict(m.get(), in, 2, &o);
        if (!e) e = ti_outputs_find(o, "relu", &leaf);
        if (!e) e = ti_tensor_copy_to(leaf, got.data(), got.size() * 4);
        if (e) {
          errors++;
          ti_error_free(e);
        } else if (got != reference[static_cast<size_t>(k)]) {
          mismatches++;
        }
        ti_tensor_free(leaf);
        ti_outputs_free(o);
        ti_tensor_free(y);
        ti_tensor_free(x);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(mismatches, 0);
}

TEST_F(Aoti, OutputsOutliveTheModel) {
  Outputs o;
  {
    auto m = load("conv.pt2");
    auto image = make_f32(iota(3 * 8 * 8, 0.01f), {1, 3, 8, 8});
    o = predict(m.get(), {image.get()});
  }
  auto means = to_f32(output(o.get(), "1").get());
  ASSERT_EQ(means.size(), 4u);
  for (float v : means) EXPECT_GE(v, 0.0f);  // mean of a ReLU
}

}  // namespace

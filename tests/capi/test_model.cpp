// Loading from files and buffers, load options, model metadata, and load failures.
#include "fixture.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <atomic>
#include <thread>
#include <algorithm>

using namespace ti_test;

namespace {

class Loading : public CapiTest {
 protected:
  // A file in the test's temporary directory holding `bytes`.
  std::string write_temp(const std::string& name, const std::vector<char>& bytes) {
    std::string path = ::testing::TempDir() + "ti_" + name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
};

TEST_F(Loading, ModelMetadata) {
  auto m = load("named.pt");
  ASSERT_NE(m, nullptr);
  EXPECT_STREQ(ti_model_device(m.get()), "cpu");
  ASSERT_EQ(ti_model_input_count(m.get()), 4u);
  EXPECT_STREQ(ti_model_input_name(m.get(), 0), "ids");
  EXPECT_STREQ(ti_model_input_name(m.get(), 1), "mask");
  EXPECT_STREQ(ti_model_input_name(m.get(), 2), "bias");
  EXPECT_STREQ(ti_model_input_name(m.get(), 3), "scale");
  EXPECT_EQ(ti_model_input_name(m.get(), 4), nullptr);

  auto s = load("structured.pt");
  std::vector<std::string> methods;
  for (size_t i = 0; i < ti_model_method_count(s.get()); ++i) methods.push_back(ti_model_method_name(s.get(), i));
  EXPECT_EQ(methods, (std::vector<std::string>{"dict_out", "forward", "scalars", "text"}));
  EXPECT_EQ(ti_model_method_name(s.get(), 4), nullptr);
}

TEST_F(Loading, AccessorsOnNull) {
  EXPECT_EQ(ti_model_input_count(nullptr), 0u);
  EXPECT_EQ(ti_model_input_name(nullptr, 0), nullptr);
  EXPECT_EQ(ti_model_method_count(nullptr), 0u);
  EXPECT_EQ(ti_model_method_name(nullptr, 0), nullptr);
  EXPECT_STREQ(ti_model_device(nullptr), "");
}

TEST_F(Loading, NullArguments) {
  ti_model_t* m = reinterpret_cast<ti_model_t*>(0x1);
  EXPECT_TRUE(Fails(ti_model_load(nullptr, nullptr, &m), TI_ERR_INVALID_ARGUMENT, "path is NULL"));
  EXPECT_EQ(m, nullptr);
  EXPECT_TRUE(Fails(ti_model_load(model_path("mlp.pt").c_str(), nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(nullptr, 10, nullptr, &m), TI_ERR_INVALID_ARGUMENT, "data is NULL"));
  EXPECT_TRUE(Fails(ti_model_load_buffer("x", 1, nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
}

TEST_F(Loading, MissingFileIsNotFound) {
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Fails(ti_model_load("/nonexistent/model.pt", nullptr, &m), TI_ERR_NOT_FOUND, "does not exist"));
  EXPECT_EQ(m, nullptr);
}

TEST_F(Loading, DirectoryGarbageTruncatedAndNewerAreModelFormat) {
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Fails(ti_model_load(models_dir().c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, "directory"));
  std::vector<char> garbage(4096);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
  EXPECT_TRUE(Fails(ti_model_load(write_temp("garbage.pt", garbage).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(garbage.data(), garbage.size(), nullptr, &m), TI_ERR_MODEL_FORMAT));
  auto full = read_file(model_path("mlp.pt"));
  ASSERT_GT(full.size(), 1000u);
  std::vector<char> half(full.begin(), full.begin() + static_cast<long>(full.size() / 2));
  EXPECT_TRUE(Fails(ti_model_load(write_temp("truncated.pt", half).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load_buffer(half.data(), half.size(), nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load(write_temp("empty.pt", {}).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT));
  EXPECT_TRUE(Fails(ti_model_load_buffer("", 0, nullptr, &m), TI_ERR_MODEL_FORMAT, "empty"));
  // An archive written by a newer PyTorch: the message keeps LibTorch's explanation.
  EXPECT_TRUE(Fails(ti_model_load(model_path("newer.pt").c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, "version"));
  EXPECT_EQ(m, nullptr);
}

TEST_F(Loading, MessagesCarryNoCppBacktrace) {
  ti_model_t* m = nullptr;
  ti_error_t* e = ti_model_load(model_path("newer.pt").c_str(), nullptr, &m);
  ASSERT_NE(e, nullptr);
  Error owned(e);
  const std::string msg = ti_error_message(e);
  EXPECT_EQ(msg.find("Exception raised from"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("frame #"), std::string::npos) << msg;
}

TEST_F(Loading, BufferMayBeFreedRightAfterLoad) {
  auto bytes = read_file(model_path("mlp.pt"));
  char* copy = static_cast<char*>(std::malloc(bytes.size()));
  ASSERT_NE(copy, nullptr);
  std::copy(bytes.begin(), bytes.end(), copy);
  ti_model_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_load_buffer(copy, bytes.size(), nullptr, &raw)));
  std::fill(copy, copy + bytes.size(), '\xAB');  // scribble, then free: the model must not care
  std::free(copy);
  Model from_buffer(raw);
  auto from_file = load("mlp.pt");
  std::vector<float> in(16);
  for (size_t i = 0; i < in.size(); ++i) in[i] = 0.1f * static_cast<float>(i) - 0.7f;
  auto x = make_f32(in, {1, 16});
  auto a = predict(from_buffer.get(), {x.get()});
  auto b = predict(from_file.get(), {x.get()});
  EXPECT_EQ(to_f32(output(a.get(), "0").get()), to_f32(output(b.get(), "0").get()));
}

TEST_F(Loading, OptionsDevices) {
  Options o(ti_load_options_create());
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(Ok(ti_load_options_set_device(o.get(), "cpu")));
  ti_model_t* m = nullptr;
  ASSERT_TRUE(Ok(ti_model_load(model_path("mlp.pt").c_str(), o.get(), &m)));
  EXPECT_STREQ(ti_model_device(m), "cpu");
  ti_model_free(m);

  EXPECT_TRUE(Fails(ti_load_options_set_device(o.get(), "bogus"), TI_ERR_INVALID_ARGUMENT, "not a device"));
  EXPECT_TRUE(Fails(ti_load_options_set_device(o.get(), "cpu:1"), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_device(o.get(), "mps"), TI_ERR_UNSUPPORTED));
  EXPECT_TRUE(Fails(ti_load_options_set_device(o.get(), nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_load_options_set_device(nullptr, "cpu"), TI_ERR_INVALID_ARGUMENT));

  // A CUDA device that is not there is an error at load time, never a CPU fallback.
  ASSERT_TRUE(Ok(ti_load_options_set_device(o.get(), "cuda:99")));
  EXPECT_TRUE(Fails(ti_model_load(model_path("mlp.pt").c_str(), o.get(), &m), TI_ERR_DEVICE));
  EXPECT_EQ(m, nullptr);
  ASSERT_TRUE(Ok(ti_load_options_set_device(o.get(), "cuda")));
  if (ti_cuda_device_count() == 0) {
    EXPECT_TRUE(Fails(ti_model_load(model_path("mlp.pt").c_str(), o.get(), &m), TI_ERR_DEVICE, "CUDA"));
    auto bytes = read_file(model_path("mlp.pt"));
    EXPECT_TRUE(Fails(ti_model_load_buffer(bytes.data(), bytes.size(), o.get(), &m), TI_ERR_DEVICE));
  } else {
    ASSERT_TRUE(Ok(ti_model_load(model_path("mlp.pt").c_str(), o.get(), &m)));
    EXPECT_STREQ(ti_model_device(m), "cuda:0");
    ti_model_free(m);
  }
}

TEST_F(Loading, OptionsDoNotOutliveTheirUseRequirement) {
  Options o(ti_load_options_create());
  ASSERT_TRUE(Ok(ti_load_options_set_device(o.get(), "cpu")));
  ti_model_t* m = nullptr;
  ASSERT_TRUE(Ok(ti_model_load(model_path("identity.pt").c_str(), o.get(), &m)));
  o.reset();  // the model does not depend on its options
  Model model(m);
  auto x = make_f32({1, 2}, {2});
  auto out = predict(model.get(), {x.get()});
  EXPECT_EQ(to_f32(output(out.get(), "0").get()), (std::vector<float>{1, 2}));
}

TEST_F(Loading, ConcurrentLoads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ti_model_t* m = nullptr;
      const char* file = i % 2 ? "mlp.pt" : "structured.pt";
      if (ti_error_t* e = ti_model_load(model_path(file).c_str(), nullptr, &m)) {
        ti_error_free(e);
        return;
      }
      if (ti_model_method_count(m) >= 1) ok++;
      ti_model_free(m);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
}

}  // namespace

// Edge arguments and data that must not change behind the caller's back (issue 9): each case
// asserts the exact code, that the process lives on and, through CapiTest, that nothing leaked.
#include "fixture.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace ti_test;

namespace {

struct ReleaseCounter {
  int calls = 0;
  static void release(void* ctx) { ++static_cast<ReleaseCounter*>(ctx)->calls; }
};

}  // namespace

TEST_F(CapiTest, NumThreadsIsBounded) {
  const int before = ti_get_num_threads();
  for (int n : {0, -1, 1025, 100000, INT_MAX, INT_MIN}) {
    EXPECT_TRUE(Fails(ti_set_num_threads(n), TI_ERR_INVALID_ARGUMENT, "from 1 to 1024")) << n;
  }
  EXPECT_EQ(ti_get_num_threads(), before);
}

TEST_F(CapiTest, CudaIndexOutsideWhatLibTorchStoresIsRejected) {
  Options o(ti_load_options_create());
  for (const char* d : {"cuda:128", "cuda:256", "cuda:2147483647", "cuda:99999999999", "cuda:-1",
                        "cuda:", "cuda:1x", "cuda: 1", "cuda:+1"}) {
    EXPECT_TRUE(Fails(ti_load_options_set_device(o.get(), d), TI_ERR_INVALID_ARGUMENT)) << d;
  }
  EXPECT_TRUE(Ok(ti_load_options_set_device(o.get(), "cuda:127")));
  if (ti_cuda_device_count() < 128) {
    ti_model_t* m = nullptr;
    EXPECT_TRUE(Fails(ti_model_load(model_path("mlp.pt").c_str(), o.get(), &m), TI_ERR_DEVICE));
    EXPECT_EQ(m, nullptr);
  }
}

TEST_F(CapiTest, WrapWithNullShapeClearsOutAndReleasesOnce) {
  float data[2] = {1, 2};
  ReleaseCounter counter;
  ti_tensor_t* t = reinterpret_cast<ti_tensor_t*>(&counter);  // garbage the call must overwrite
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_FLOAT32, nullptr, 1, data, sizeof data,
                                   &ReleaseCounter::release, &counter, &t),
                    TI_ERR_INVALID_ARGUMENT, "shape"));
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(counter.calls, 1);
}

TEST_F(CapiTest, HugeShapesAreInvalidArgumentsWhereverTheZeroIs) {
  const int64_t big = int64_t{1} << 62;
  ti_tensor_t* t = nullptr;
  // 3 * 2^62 elements: the byte count fits in size_t, the element count not in int64.
  const int64_t over[] = {big, 3};
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_UINT8, over, 2, nullptr, 0, &t), TI_ERR_INVALID_ARGUMENT, "too large"));
  EXPECT_EQ(t, nullptr);
  // Empty tensors: accepted when their strides fit, rejected when not, in any order.
  const int64_t zero_first[] = {0, big, big}, zero_last[] = {big, big, 0};
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_UINT8, zero_first, 3, nullptr, 0, &t), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_UINT8, zero_last, 3, nullptr, 0, &t), TI_ERR_INVALID_ARGUMENT));
  const int64_t ok_first[] = {0, big}, ok_last[] = {big, 0};
  for (const int64_t* shape : {ok_first, ok_last}) {
    ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_UINT8, shape, 2, nullptr, 0, &t)));
    Tensor owned(t);
    EXPECT_EQ(ti_tensor_numel(t), 0);
    EXPECT_EQ(ti_tensor_nbytes(t), 0u);
    EXPECT_EQ(shape_of(t), std::vector<int64_t>(shape, shape + 2));
  }
  // float32 at 2^61 elements is 2^63 bytes: too large for LibTorch's int64 byte counts.
  const int64_t f32[] = {int64_t{1} << 61};
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_FLOAT32, f32, 1, nullptr, 0, &t), TI_ERR_INVALID_ARGUMENT, "too large"));
}

TEST_F(CapiTest, InputCountIsCheckedBeforeInputsAreRead) {
  auto m = load("mlp.pt");
  auto x = make_f32(std::vector<float>(16, 0.5f), {1, 16});
  const ti_tensor_t* one[] = {x.get()};  // only one element: reading a second would be a bug
  for (size_t n : {size_t{2}, size_t{1} << 40, SIZE_MAX}) {
    ti_outputs_t* o = nullptr;
    EXPECT_TRUE(Fails(ti_model_predict(m.get(), one, n, &o), TI_ERR_INVALID_ARGUMENT, "takes 1 input(s)")) << n;
    EXPECT_EQ(o, nullptr);
    const char* names[] = {"x"};
    EXPECT_TRUE(Fails(ti_model_predict_named(m.get(), names, one, n, &o), TI_ERR_INVALID_ARGUMENT)) << n;
    EXPECT_TRUE(Fails(ti_model_run_method(m.get(), "forward", one, n, &o), TI_ERR_INVALID_ARGUMENT)) << n;
  }
}

TEST_F(CapiTest, BoolTensorsHoldOnlyZeroAndOne) {
  const int64_t shape[] = {3};
  unsigned char bad[3] = {0, 1, 2};
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Fails(ti_tensor_create(TI_DTYPE_BOOL, shape, 1, bad, 3, &t), TI_ERR_INVALID_ARGUMENT,
                    "bool element 2 is 2"));
  ReleaseCounter counter;
  EXPECT_TRUE(Fails(ti_tensor_wrap(TI_DTYPE_BOOL, shape, 1, bad, 3, &ReleaseCounter::release, &counter, &t),
                    TI_ERR_INVALID_ARGUMENT, "bools must be 0 or 1"));
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(counter.calls, 1);
  unsigned char good[3] = {0, 1, 1};
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_BOOL, shape, 1, good, 3, &t)));
  ti_tensor_free(t);
}

TEST_F(CapiTest, AModelWritingToItsArgumentDoesNotChangeTheCallersTensor) {
  auto m = load("inplace.pt");
  const std::vector<float> values{1, 2, 3};
  auto x = make_f32(values, {3});
  for (int call = 0; call < 3; ++call) {
    auto o = predict(m.get(), {x.get()});
    EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{4, 6, 8}));
    EXPECT_EQ(to_f32(x.get()), values) << "the input changed after call " << call;
  }
  // Borrowed memory is not written either.
  float borrowed[3] = {1, 2, 3};
  const int64_t shape[] = {3};
  ti_tensor_t* w = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_wrap(TI_DTYPE_FLOAT32, shape, 1, borrowed, sizeof borrowed, nullptr, nullptr, &w)));
  Tensor wrapped(w);
  auto o = predict(m.get(), {w});
  EXPECT_EQ(borrowed[0], 1.0f);
  EXPECT_EQ(borrowed[2], 3.0f);
}

TEST_F(CapiTest, OutputsSharingModuleStateAreCopies) {
  auto m = load("stateful.pt");
  auto x = make_f32({0}, {1});
  auto first = predict(m.get(), {x.get()});
  auto count1 = output(first.get(), "0");
  auto weight = output(first.get(), "1");
  EXPECT_EQ(to_f32(count1.get()), std::vector<float>{1});
  EXPECT_EQ(to_f32(weight.get()), (std::vector<float>{1, 2, 3}));
  auto second = predict(m.get(), {x.get()});
  EXPECT_EQ(to_f32(output(second.get(), "0").get()), std::vector<float>{2});
  EXPECT_EQ(to_f32(count1.get()), std::vector<float>{1}) << "an earlier output changed";
}

TEST_F(CapiTest, LoadingAFifoFailsInsteadOfBlocking) {
  const std::string path = ::testing::TempDir() + "ti_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Fails(ti_model_load(path.c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, "not a regular file"));
  EXPECT_EQ(m, nullptr);
  unlink(path.c_str());
  EXPECT_TRUE(Fails(ti_model_load("/tmp", nullptr, &m), TI_ERR_MODEL_FORMAT, "is a directory"));
}

namespace {

// The first central-directory header of a ZIP archive (signature PK\1\2), or npos.
size_t first_central_header(const std::vector<char>& bytes) {
  const char sig[] = {'P', 'K', 1, 2};
  auto it = std::search(bytes.begin(), bytes.end(), sig, sig + 4);
  return it == bytes.end() ? std::string::npos : static_cast<size_t>(it - bytes.begin());
}

void put_u32(std::vector<char>& bytes, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

TEST_F(CapiTest, ArchivesAreCheckedBeforeLibTorchReadsThem) {
  const auto good = read_file(model_path("mlp.pt"));
  ti_model_t* m = nullptr;

  // Truncated: no central directory any more.
  std::vector<char> truncated(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
  EXPECT_TRUE(Fails(ti_model_load_buffer(truncated.data(), truncated.size(), nullptr, &m), TI_ERR_MODEL_FORMAT,
                    "not a well-formed ZIP archive"));
  EXPECT_EQ(m, nullptr);

  // A stored entry that claims to be 2 GiB when uncompressed (LibTorch would allocate that).
  auto huge = good;
  const size_t central = first_central_header(huge);
  ASSERT_NE(central, std::string::npos);
  put_u32(huge, central + 24, 0x7fffffffu);
  EXPECT_TRUE(Fails(ti_model_load_buffer(huge.data(), huge.size(), nullptr, &m), TI_ERR_MODEL_FORMAT,
                    "inconsistent sizes"));

  // An unknown compression method.
  auto method = good;
  method[central + 10] = 12;  // bzip2
  EXPECT_TRUE(Fails(ti_model_load_buffer(method.data(), method.size(), nullptr, &m), TI_ERR_MODEL_FORMAT,
                    "compression method 12"));

  // Written by a newer PyTorch: refused by our own check of the version record.
  EXPECT_TRUE(Fails(ti_model_load(model_path("newer.pt").c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT,
                    "file format version is 999"));
  EXPECT_EQ(m, nullptr);

  // The untouched archive still loads.
  ASSERT_TRUE(Ok(ti_model_load_buffer(good.data(), good.size(), nullptr, &m)));
  ti_model_free(m);
}

TEST_F(CapiTest, MalformedPicklesAreRefusedBeforeLibTorchUnpicklesThem) {
  const std::pair<const char*, const char*> cases[] = {
      {"hostile_underflow.pt", "stack underflow"},
      {"hostile_deep.pt", "nested deeper than 1000 levels"},
      {"hostile_memo.pt", "memo read of slot 5"},
      {"hostile_storage.pt", "claims 2048 bytes but its record has 16"},
      {"hostile_extent.pt", "addresses element 99 of a storage of 4"},
      {"hostile_truncated_pkl.pt", "runs past the end"},
  };
  for (const auto& [file, why] : cases) {
    ti_model_t* m = nullptr;
    EXPECT_TRUE(Fails(ti_model_load(model_path(file).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, why)) << file;
    EXPECT_EQ(m, nullptr);
    const auto bytes = read_file(model_path(file));
    EXPECT_TRUE(Fails(ti_model_load_buffer(bytes.data(), bytes.size(), nullptr, &m), TI_ERR_MODEL_FORMAT, why)) << file;
  }
}

TEST_F(CapiTest, EveryFuzzerCrasherIsRefusedCleanly) {
  size_t replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TI_FUZZ_REGRESSIONS_DIR)) {
    const auto bytes = read_file(entry.path().string());
    ti_model_t* m = nullptr;
    ti_error_t* e = ti_model_load_buffer(bytes.data(), bytes.size(), nullptr, &m);
    EXPECT_EQ(ti_error_code(e), TI_ERR_MODEL_FORMAT) << entry.path() << ": " << ti_error_message(e);
    EXPECT_EQ(m, nullptr);
    ti_error_free(e);
    ++replayed;
  }
  EXPECT_GT(replayed, 0u) << "no regression inputs in " << TI_FUZZ_REGRESSIONS_DIR;
}

TEST_F(CapiTest, DeepSourceLoadsOnALargeStackAndDeeperIsRefused) {
  // 500 chained additions: compiled on the library's large-stack thread, run on this one.
  auto m = load("deep_chain.pt");
  auto x = make_f32({1, -2, 0.5f}, {3});
  auto o = predict(m.get(), {x.get()});
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{500, -1000, 250}));
  ti_model_t* deeper = nullptr;
  EXPECT_TRUE(Fails(ti_model_load(model_path("hostile_chain.pt").c_str(), nullptr, &deeper), TI_ERR_MODEL_FORMAT,
                    "nested deeper than 512 levels"));
  EXPECT_EQ(deeper, nullptr);
}

namespace {

// Loads `file` on a new thread with a 1 MiB stack (a JVM thread's), predicts three times with
// x (LibTorch's profiling executor builds a new plan on the first and second call) and returns
// the last output "0" as floats. The load itself goes to the library's large-stack thread.
std::vector<float> load_and_predict_on_small_stack(const std::string& file, const std::vector<float>& x) {
  struct Job {
    std::string path;
    std::vector<float> x, y;
    static void* run(void* p) {
      auto* job = static_cast<Job*>(p);
      auto m = load(std::filesystem::path(job->path).filename().string());
      if (!m) return nullptr;
      auto in = make_f32(job->x, {static_cast<int64_t>(job->x.size())});
      for (int call = 0; call < 3; ++call) {
        auto o = predict(m.get(), {in.get()});
        if (o) job->y = to_f32(output(o.get(), "0").get());
      }
      return nullptr;
    }
  };
  Job job{model_path(file), x, {}};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t{1} << 20);
  pthread_t thread;
  EXPECT_EQ(pthread_create(&thread, &attr, &Job::run, &job), 0);
  pthread_attr_destroy(&attr);
  pthread_join(thread, nullptr);
  return job.y;
}

}  // namespace

TEST_F(CapiTest, SourceNearTheDepthLimitLoadsAndRunsOnASmallStack) {
  // 250 nested unary minus, and an if with 150 elif branches: both past what the caller's stack
  // is trusted with at load, both within what a first call on a 1 MiB stack takes.
  EXPECT_EQ(load_and_predict_on_small_stack("deep_unary.pt", {1, -2, 0.5f}), (std::vector<float>{1, -2, 0.5f}));
  EXPECT_EQ(load_and_predict_on_small_stack("deep_elif.pt", {1, -2, 0.5f}), (std::vector<float>{3, -6, 1.5f}));
}

TEST_F(CapiTest, DeepExpressionsOfEveryKindAreRefusedBeforeLibTorchParsesThem) {
  // Each overflowed LibTorch 1.13's recursive lexer, parser or compiler (SIGSEGV) at load, most
  // from 20,000 levels on an 8 MiB stack, calls, ternaries and elif chains from 5,000.
  auto warm = load("identity.pt");
  const int64_t live = ti_live_handles();
  const std::pair<const char*, const char*> kinds[] = {
      {"not", "unary not"},        {"neg", "unary operators"},        {"inv", "unary operators"},
      {"ternary", "conditional"}, {"subscript", "calls and subscripts"}, {"call", "nested brackets"},
  };
  std::vector<std::pair<std::string, std::string>> cases;
  for (const auto& [kind, why] : kinds) {
    for (int n : {5000, 20000, 100000}) {
      cases.emplace_back("hostile_depth_" + std::string(kind) + "_" + std::to_string(n) + ".pt", why);
    }
  }
  cases.emplace_back("hostile_depth_attr_20000.pt", "attribute accesses");
  cases.emplace_back("hostile_depth_elif_5000.pt", "nested blocks and elif chains");
  cases.emplace_back("hostile_lex_blank_100000.pt", "more than 10000 blank, comment or continued lines");
  cases.emplace_back("hostile_lex_comment_50000.pt", "more than 10000 blank, comment or continued lines");
  for (const auto& [file, why] : cases) {
    ti_model_t* m = nullptr;
    EXPECT_TRUE(Fails(ti_model_load(model_path(file).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, why.c_str())) << file;
    EXPECT_EQ(m, nullptr);
    const auto bytes = read_file(model_path(file));
    EXPECT_TRUE(Fails(ti_model_load_buffer(bytes.data(), bytes.size(), nullptr, &m), TI_ERR_MODEL_FORMAT,
                      file.find("_lex_") == std::string::npos ? "nested deeper than 512 levels" : why.c_str()))
        << file;
    EXPECT_EQ(ti_live_handles(), live) << file;
  }
}

TEST_F(CapiTest, ClassDeclarationsTheImporterMisreadsAreRefusedInAWarmProcess) {
  // LibTorch 1.13 crashed on the first two only in a process that had loaded a model before:
  // load one, keep it, then each hostile archive.
  auto warm = load("identity.pt");
  ASSERT_TRUE(warm);
  const int64_t live = ti_live_handles();
  const std::pair<const char*, const char*> cases[] = {
      {"hostile_class_namedtuple_base.pt", "__parameters__ is declared in a class that is not a Module"},
      {"hostile_class_parameters_twice.pt", "__parameters__ is annotated"},
      {"hostile_class_parameters_annotated.pt", "__parameters__ is annotated"},
      {"hostile_class_dotted_base.pt", "class 'Identity' is not declared as LibTorch's exporter writes classes"},
      {"hostile_class_attribute_twice.pt", "'training' is declared twice"},
      {"hostile_class_assignment_after_continued_line.pt", "'scale' is assigned without a type annotation"},
      // Found by the structure-aware fuzzer: crashed LibTorch 1.13 and 2.15, cold or warm.
      {"hostile_class_hook_without_method.pt", "hook 'missing' names no method of the class"},
  };
  for (const auto& [file, why] : cases) {
    for (int round = 0; round < 2; ++round) {
      ti_model_t* m = nullptr;
      EXPECT_TRUE(Fails(ti_model_load(model_path(file).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, why)) << file;
      EXPECT_EQ(m, nullptr);
      const auto bytes = read_file(model_path(file));
      EXPECT_TRUE(Fails(ti_model_load_buffer(bytes.data(), bytes.size(), nullptr, &m), TI_ERR_MODEL_FORMAT, why))
          << file;
      EXPECT_EQ(ti_live_handles(), live) << file;
    }
  }
  // The model loaded first still works.
  auto x = make_f32({1, 2}, {2});
  auto o = predict(warm.get(), {x.get()});
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{1, 2}));
}

TEST_F(CapiTest, RecordNamesAreMatchedWhateverTheirCaseAsLibTorchDoes) {
  // LibTorch's ZIP reader finds identity/code/__torch__.py under identity/CODE/__torch__.py: the
  // checks read it as code too. A debug pickle in another case is not hidden from LibTorch (which
  // reads it while formatting an error): refused.
  const std::pair<const char*, const char*> cases[] = {
      {"hostile_case_code_dir.pt", "nested deeper than 512 levels"},
      {"hostile_case_debug_pickle.pt", "is a debug pickle named in another case"},
  };
  for (const auto& [file, why] : cases) {
    ti_model_t* m = nullptr;
    EXPECT_TRUE(Fails(ti_model_load(model_path(file).c_str(), nullptr, &m), TI_ERR_MODEL_FORMAT, why)) << file;
    EXPECT_EQ(m, nullptr);
  }
}

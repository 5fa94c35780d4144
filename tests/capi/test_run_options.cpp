// Run options: timeouts and cancellation through ti_model_run (issue 10). slow.pt runs
// `n` rounds of tanh(x @ x), so a call lasts as long as a test needs: n = 100 million would run
// for many minutes, which makes every "returned quickly" bound below a real check.
#include "fixture.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

using namespace ti_test;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kForever = 100'000'000;

struct RunOptionsDeleter { void operator()(ti_run_options_t* o) const { ti_run_options_free(o); } };
using RunOptions = std::unique_ptr<ti_run_options_t, RunOptionsDeleter>;

RunOptions make_options(int64_t timeout_us = 0) {
  RunOptions o(ti_run_options_create());
  EXPECT_NE(o, nullptr);
  if (timeout_us) {
    EXPECT_TRUE(Ok(ti_run_options_set_timeout_us(o.get(), timeout_us)));
  }
  return o;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class RunOptionsTest : public CapiTest {
 protected:
  void SetUp() override {
    CapiTest::SetUp();
    slow_ = load("slow.pt");
    std::vector<float> x(32 * 32);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 17) - 0.08f;
    x_values_ = x;
    x_ = make_f32(x, {32, 32});
  }
  void TearDown() override {
    x_.reset();
    slow_.reset();
    CapiTest::TearDown();
  }

  // slow.pt with `rounds` rounds under `opts`; returns the error (NULL on success).
  ti_error_t* run_slow(int64_t rounds, const ti_run_options_t* opts, Outputs* result = nullptr) {
    auto n = make_i64_scalar(rounds);
    const ti_tensor_t* inputs[] = {x_.get(), n.get()};
    ti_outputs_t* raw = nullptr;
    ti_error_t* e = ti_model_run(slow_.get(), nullptr, nullptr, inputs, 2, opts, &raw);
    if (e) {
      EXPECT_EQ(raw, nullptr) << "a failed call must set *out to NULL";
    }
    if (result) result->reset(raw); else ti_outputs_free(raw);
    return e;
  }

  Model slow_;
  Tensor x_;
  std::vector<float> x_values_;
};

}  // namespace

TEST_F(CapiTest, RunOptionsAreCountedHandlesAndCheckTheirArguments) {
  ti_run_options_t* o = ti_run_options_create();
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(ti_live_handles(), 1);
  EXPECT_TRUE(Fails(ti_run_options_set_timeout_us(o, -1), TI_ERR_INVALID_ARGUMENT, "got -1"));
  EXPECT_TRUE(Fails(ti_run_options_set_timeout_us(nullptr, 5), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Ok(ti_run_options_set_timeout_us(o, 0)));
  EXPECT_TRUE(Ok(ti_run_options_set_timeout_us(o, INT64_MAX)));
  ti_run_options_cancel(nullptr);  // does nothing
  ti_run_options_cancel(o);
  ti_run_options_cancel(o);  // idempotent
  ti_run_options_free(o);
  ti_run_options_free(nullptr);
}

TEST_F(CapiTest, CodeNamesOfTheNewCodes) {
  EXPECT_EQ(TI_ERR_CANCELLED, TI_ERR_INTERNAL + 1);
  EXPECT_EQ(TI_ERR_DEADLINE_EXCEEDED, TI_ERR_INTERNAL + 2);
  EXPECT_STREQ(ti_code_name(TI_ERR_CANCELLED), "TI_ERR_CANCELLED");
  EXPECT_STREQ(ti_code_name(TI_ERR_DEADLINE_EXCEEDED), "TI_ERR_DEADLINE_EXCEEDED");
}

TEST_F(CapiTest, ModelRunIsTheGeneralFormOfTheShorthands) {
  auto mlp = load("mlp.pt");
  std::vector<float> xv(16);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = 0.1f * static_cast<float>(i) - 0.7f;
  auto x = make_f32(xv, {1, 16});
  const ti_tensor_t* in[] = {x.get()};
  auto expected = to_f32(output(predict(mlp.get(), {x.get()}).get(), "0").get());

  auto opts = make_options();           // nothing set
  auto generous = make_options(60'000'000);  // one minute
  for (const ti_run_options_t* o : {static_cast<const ti_run_options_t*>(nullptr),
                                    static_cast<const ti_run_options_t*>(opts.get()),
                                    static_cast<const ti_run_options_t*>(generous.get())}) {
    ti_outputs_t* raw = nullptr;
    ASSERT_TRUE(Ok(ti_model_run(mlp.get(), nullptr, nullptr, in, 1, o, &raw)));
    Outputs out(raw);
    EXPECT_EQ(to_f32(output(out.get(), "0").get()), expected) << "results must be bit-identical";
    const char* names[] = {"x"};
    ASSERT_TRUE(Ok(ti_model_run(mlp.get(), "forward", names, in, 1, o, &raw)));
    Outputs named(raw);
    EXPECT_EQ(to_f32(output(named.get(), "0").get()), expected);
  }

  // Method and names reach the same checks as the shorthands.
  ti_outputs_t* raw = reinterpret_cast<ti_outputs_t*>(&raw);
  EXPECT_TRUE(Fails(ti_model_run(mlp.get(), "nope", nullptr, in, 1, opts.get(), &raw), TI_ERR_NOT_FOUND));
  EXPECT_EQ(raw, nullptr);
  const char* bad[] = {"y"};
  EXPECT_TRUE(Fails(ti_model_run(mlp.get(), nullptr, bad, in, 1, opts.get(), &raw),
                    TI_ERR_INVALID_ARGUMENT, "unknown input name 'y'"));
  EXPECT_TRUE(Fails(ti_model_run(nullptr, nullptr, nullptr, in, 1, opts.get(), &raw), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_model_run(mlp.get(), nullptr, nullptr, in, 1, opts.get(), nullptr), TI_ERR_INVALID_ARGUMENT));
}

TEST_F(RunOptionsTest, CancelFromAnotherThreadStopsARunningCall) {
  auto opts = make_options();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ti_run_options_cancel(opts.get());
  });
  const auto start = Clock::now();
  ti_error_t* e = run_slow(kForever, opts.get());
  const double took = seconds_since(start);
  canceller.join();
  EXPECT_TRUE(Fails(e, TI_ERR_CANCELLED, "cancelled after "));
  EXPECT_GE(took, 0.09);
  EXPECT_LT(took, 5.0) << "the call ran on after cancel";
}

TEST_F(RunOptionsTest, TimeoutStopsARunningCallWithItsOwnCode) {
  auto opts = make_options(50'000);  // 50 ms
  const auto start = Clock::now();
  ti_error_t* e = run_slow(kForever, opts.get());
  const double took = seconds_since(start);
  EXPECT_TRUE(Fails(e, TI_ERR_DEADLINE_EXCEEDED, "timeout 50 ms exceeded after "));
  EXPECT_GE(took, 0.049);
  EXPECT_LT(took, 5.0);
  // A timeout counts from each call's own start: the same options run a short call fine.
  Outputs out;
  EXPECT_TRUE(Ok(run_slow(2, opts.get(), &out)));
}

TEST_F(RunOptionsTest, CancellationIsStickyAndTheModelStaysUsable) {
  Outputs before;
  ASSERT_TRUE(Ok(run_slow(3, nullptr, &before)));
  const auto expected = to_f32(output(before.get(), "0").get());

  auto opts = make_options();
  ti_run_options_cancel(opts.get());
  const auto start = Clock::now();
  EXPECT_TRUE(Fails(run_slow(kForever, opts.get()), TI_ERR_CANCELLED, "before the call started"));
  EXPECT_LT(seconds_since(start), 1.0);
  auto mlp = load("mlp.pt");
  auto x = make_f32(std::vector<float>(16, 0.5f), {1, 16});
  const ti_tensor_t* in[] = {x.get()};
  ti_outputs_t* raw = nullptr;
  EXPECT_TRUE(Fails(ti_model_run(mlp.get(), nullptr, nullptr, in, 1, opts.get(), &raw), TI_ERR_CANCELLED));

  // Stopped calls leave the model and the caller's input as they were.
  auto running = make_options();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ti_run_options_cancel(running.get());
  });
  EXPECT_TRUE(Fails(run_slow(kForever, running.get()), TI_ERR_CANCELLED));
  canceller.join();
  EXPECT_EQ(to_f32(x_.get()), x_values_);
  Outputs after;
  ASSERT_TRUE(Ok(run_slow(3, make_options().get(), &after)));
  EXPECT_EQ(to_f32(output(after.get(), "0").get()), expected);
}

TEST_F(RunOptionsTest, OneCancelStopsEveryCallSharingTheOptions) {
  auto opts = make_options();
  constexpr int kCalls = 4;
  std::vector<std::thread> callers;
  std::atomic<int> cancelled{0};
  std::atomic<int> started{0};
  const auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&] {
      ++started;
      ti_error_t* e = run_slow(kForever, opts.get());
      if (ti_error_code(e) == TI_ERR_CANCELLED) ++cancelled;
      ti_error_free(e);
    });
  }
  while (started < kCalls) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ti_run_options_cancel(opts.get());
  for (auto& t : callers) t.join();
  EXPECT_EQ(cancelled.load(), kCalls);
  EXPECT_LT(seconds_since(start), 10.0);
}

TEST_F(RunOptionsTest, UnrelatedCallsRunOnWhileOthersAreCancelled) {
  auto opts = make_options();
  std::thread victim([&] { EXPECT_TRUE(Fails(run_slow(kForever, opts.get()), TI_ERR_CANCELLED)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Outputs out;
  EXPECT_TRUE(Ok(run_slow(50, nullptr, &out)));         // no options: never stopped
  EXPECT_TRUE(Ok(run_slow(50, make_options().get(), &out)));  // other options: not cancelled
  ti_run_options_cancel(opts.get());
  victim.join();
}

TEST_F(CapiTest, AotInductorChecksRunOptionsBeforeItStarts) {
  if (!std::ifstream(model_path("dynamic.pt2")).good()) GTEST_SKIP() << "no .pt2 fixtures on this LibTorch";
  auto m = load("dynamic.pt2");
  auto x = make_f32(std::vector<float>(2 * 8, 1.0f), {2, 8});
  auto y = make_f32(std::vector<float>(2 * 4, 2.0f), {2, 4});
  const ti_tensor_t* in[] = {x.get(), y.get()};
  auto opts = make_options(60'000'000);
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run(m.get(), nullptr, nullptr, in, 2, opts.get(), &raw)));
  ti_outputs_free(raw);
  ti_run_options_cancel(opts.get());
  EXPECT_TRUE(Fails(ti_model_run(m.get(), nullptr, nullptr, in, 2, opts.get(), &raw), TI_ERR_CANCELLED));
  EXPECT_EQ(raw, nullptr);
  ASSERT_TRUE(Ok(ti_model_run(m.get(), nullptr, nullptr, in, 2, nullptr, &raw)));
  ti_outputs_free(raw);
}

TEST_F(CapiTest, InputTypesAreTheDeclaredAnnotations) {
  auto named = load("named.pt");
  ASSERT_EQ(ti_model_input_count(named.get()), 4u);
  EXPECT_STREQ(ti_model_input_type(named.get(), 0), "Tensor");
  EXPECT_STREQ(ti_model_input_type(named.get(), 2), "Optional[Tensor]");
  EXPECT_STREQ(ti_model_input_type(named.get(), 3), "float");
  EXPECT_EQ(ti_model_input_type(named.get(), 4), nullptr);
  EXPECT_EQ(ti_model_input_type(nullptr, 0), nullptr);
  if (std::ifstream(model_path("dynamic.pt2")).good()) {
    auto dyn = load("dynamic.pt2");
    const char* t = ti_model_input_type(dyn.get(), 0);
    ASSERT_NE(t, nullptr);
    EXPECT_NE(std::string(t).find("float32"), std::string::npos) << t;
  }
}

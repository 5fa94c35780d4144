// The dynamic batcher (issue 17). Deterministic, not timing-dependent: batch_rows.pt returns the
// number of rows of the call each request ran in, so a test proves batching by value; long
// max_delay values hold requests in the queue for as long as a test needs them there.
#include "fixture.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

using namespace ti_test;
using Clock = std::chrono::steady_clock;

namespace {

struct BatcherDeleter { void operator()(ti_batcher_t* b) const { ti_batcher_free(b); } };
using Batcher = std::unique_ptr<ti_batcher_t, BatcherDeleter>;

struct Settings {
  int64_t max_batch = 32, max_delay_us = 0, max_queue = 1024;
  int workers = 1;
};

Batcher make_batcher(ti_model_t* m, const char* method, Settings s) {
  ti_batcher_options_t* o = ti_batcher_options_create();
  EXPECT_TRUE(Ok(ti_batcher_options_set_max_batch(o, s.max_batch)));
  EXPECT_TRUE(Ok(ti_batcher_options_set_max_delay_us(o, s.max_delay_us)));
  EXPECT_TRUE(Ok(ti_batcher_options_set_max_queue(o, s.max_queue)));
  EXPECT_TRUE(Ok(ti_batcher_options_set_workers(o, s.workers)));
  ti_batcher_t* b = nullptr;
  EXPECT_TRUE(Ok(ti_batcher_create(m, method, o, &b)));
  ti_batcher_options_free(o);
  return Batcher(b);
}

// A [rows, width] float tensor filled with `value`.
Tensor rows_of(float value, int64_t rows, int64_t width = 4) {
  return make_f32(std::vector<float>(static_cast<size_t>(rows * width), value), {rows, width});
}

ti_error_t* submit(ti_batcher_t* b, const ti_tensor_t* x, ti_outputs_t** out, const ti_run_options_t* opts = nullptr) {
  const ti_tensor_t* in[] = {x};
  return ti_batcher_run(b, nullptr, in, 1, opts, out);
}

std::vector<int64_t> i64_values(const ti_tensor_t* t) {
  std::vector<int64_t> v(static_cast<size_t>(ti_tensor_numel(t)));
  EXPECT_TRUE(Ok(ti_tensor_copy_to(t, v.data(), v.size() * sizeof(int64_t))));
  return v;
}

double millis_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class BatcherTest : public CapiTest {};

// 16 callers with distinct inputs, max_batch 16 and a long delay: the batch fills, runs once,
// and every caller gets its own rows (equal to a direct call) from a call of 16 rows.
TEST_F(BatcherTest, ManyCallersRunAsOneBatchAndEachGetsItsOwnRows) {
  auto m = load("batch_rows.pt");
  auto b = make_batcher(m.get(), nullptr, {16, 10'000'000, 1024, 1});
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int k = 0; k < 16; ++k) {
    threads.emplace_back([&, k] {
      auto x = rows_of(static_cast<float>(k), 1);
      ti_outputs_t* raw = nullptr;
      if (!Ok(submit(b.get(), x.get(), &raw))) {
        bad++;
        return;
      }
      Outputs o(raw);
      auto direct = predict(m.get(), {x.get()});
      const auto y = to_f32(output(o.get(), "y").get());
      if (y != to_f32(output(direct.get(), "y").get()) || y != std::vector<float>(4, 2.0f * k + 1)) bad++;
      if (i64_values(output(o.get(), "rows").get()) != std::vector<int64_t>{16}) bad++;
      if (shape_of(output(o.get(), "y").get()) != std::vector<int64_t>{1, 4}) bad++;
      if (ti_outputs_count(o.get()) != 2 || std::string(ti_outputs_name(o.get(), 0)) != "y") bad++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b.get(), &requests, &batches);
  EXPECT_EQ(requests, 16);
  EXPECT_EQ(batches, 1);
}

TEST_F(BatcherTest, RequestsOfSeveralRowsAndShapesThatDoNotMix) {
  auto m = load("batch_rows.pt");
  // 3 + 2 rows fill max_batch 5 together; a request of another width never joins them.
  auto b = make_batcher(m.get(), nullptr, {5, 10'000'000, 1024, 1});
  auto three = rows_of(1, 3), two = rows_of(2, 2);
  ti_outputs_t* r3 = nullptr;
  ti_outputs_t* r2 = nullptr;
  std::thread t([&] { EXPECT_TRUE(Ok(submit(b.get(), three.get(), &r3))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(Ok(submit(b.get(), two.get(), &r2)));
  t.join();
  Outputs o3(r3), o2(r2);
  EXPECT_EQ(i64_values(output(o3.get(), "rows").get()), (std::vector<int64_t>{5, 5, 5}));
  EXPECT_EQ(i64_values(output(o2.get(), "rows").get()), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(to_f32(output(o2.get(), "y").get()), std::vector<float>(8, 5.0f));
  // A request larger than max_batch runs alone, at once.
  auto seven = rows_of(1, 7);
  ti_outputs_t* r7 = nullptr;
  ASSERT_TRUE(Ok(submit(b.get(), seven.get(), &r7)));
  Outputs o7(r7);
  EXPECT_EQ(i64_values(output(o7.get(), "rows").get()), std::vector<int64_t>(7, 7));
  // Different widths: separate calls of their own rows (after the 50 ms delay).
  auto b2 = make_batcher(m.get(), nullptr, {2, 50'000, 1024, 1});
  auto w4 = rows_of(1, 1, 4), w3 = rows_of(1, 1, 3);
  ti_outputs_t* a = nullptr;
  ti_outputs_t* c = nullptr;
  std::thread t2([&] { EXPECT_TRUE(Ok(submit(b2.get(), w4.get(), &a))); });
  EXPECT_TRUE(Ok(submit(b2.get(), w3.get(), &c)));
  t2.join();
  Outputs oa(a), oc(c);
  EXPECT_EQ(i64_values(output(oa.get(), "rows").get()), std::vector<int64_t>{1});
  EXPECT_EQ(i64_values(output(oc.get(), "rows").get()), std::vector<int64_t>{1});
  EXPECT_EQ(shape_of(output(oc.get(), "y").get()), (std::vector<int64_t>{1, 3}));
}

// One bad request (the sentinel) fails alone; its batch-mates get their results.
TEST_F(BatcherTest, ABadRequestFailsAloneAndTheRestSucceed) {
  auto m = load("batch_rows.pt");
  auto b = make_batcher(m.get(), "bad", {4, 10'000'000, 1024, 1});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      auto x = rows_of(k == 2 ? -999.0f : static_cast<float>(k), 1);
      ti_outputs_t* raw = nullptr;
      ti_error_t* e = submit(b.get(), x.get(), &raw);
      Outputs o(raw);
      if (k == 2) {
        if (Fails(e, TI_ERR_RUNTIME, "sentinel -999")) failed++;
      } else if (Ok(e) && to_f32(output(o.get(), "0").get()) == std::vector<float>(4, 2.0f * k)) {
        ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(failed.load(), 1);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b.get(), &requests, &batches);
  EXPECT_EQ(requests, 4);
  EXPECT_EQ(batches, 5);  // the failed batched call, then each request alone
}

// x.sum() cannot be split by rows: every request gets its own sum, and batching stops.
TEST_F(BatcherTest, AResultThatCannotBeSplitFallsBackToSingleCalls) {
  auto m = load("batch_rows.pt");
  auto b = make_batcher(m.get(), "scalar", {2, 10'000'000, 1024, 1});
  auto one = rows_of(1, 1), two = rows_of(2, 1);
  ti_outputs_t* r1 = nullptr;
  ti_outputs_t* r2 = nullptr;
  std::thread t([&] { EXPECT_TRUE(Ok(submit(b.get(), one.get(), &r1))); });
  EXPECT_TRUE(Ok(submit(b.get(), two.get(), &r2)));
  t.join();
  Outputs o1(r1), o2(r2);
  EXPECT_EQ(to_f32(output(o1.get(), "0").get()), std::vector<float>{4.0f});
  EXPECT_EQ(to_f32(output(o2.get(), "0").get()), std::vector<float>{8.0f});
  // From now on requests run alone, without waiting for company.
  const auto start = Clock::now();
  ASSERT_TRUE(Ok(submit(b.get(), one.get(), &r1)));
  Outputs o3(r1);
  EXPECT_LT(millis_since(start), 5000.0);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b.get(), &requests, &batches);
  EXPECT_EQ(requests, 3);
  EXPECT_EQ(batches, 4);
}

// max_queue 1 and a long delay: the first request waits in the queue, a second is refused at
// once, and freeing the batcher fails the queued one with UNAVAILABLE.
TEST_F(BatcherTest, FullQueueAndFreeWithRequestsQueued) {
  auto m = load("batch_rows.pt");
  auto b = make_batcher(m.get(), nullptr, {8, 10'000'000, 1, 1});
  auto x = rows_of(1, 1);
  std::atomic<bool> queued_failed{false};
  std::thread first([&] {
    for (;;) {  // until it gets the queue's one place (a probe below may hold it for 1 ms)
      ti_outputs_t* raw = nullptr;
      ti_error_t* e = submit(b.get(), x.get(), &raw);
      if (e && std::strstr(ti_error_message(e), "queue is full")) {
        ti_error_free(e);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      queued_failed = Fails(e, TI_ERR_UNAVAILABLE, "freed while the request was queued");
      EXPECT_EQ(raw, nullptr);
      return;
    }
  });
  // Probe with a 1 ms timeout until the first request holds the place: a probe that got queued
  // itself leaves after 1 ms; once the first one is queued a probe is refused at once.
  ti_run_options_t* probe = ti_run_options_create();
  ASSERT_TRUE(Ok(ti_run_options_set_timeout_us(probe, 1000)));
  ti_outputs_t* raw = nullptr;
  ti_error_t* e = nullptr;
  for (int i = 0; i < 2000; ++i) {
    e = submit(b.get(), x.get(), &raw, probe);
    if (e && ti_error_code(e) == TI_ERR_UNAVAILABLE) break;
    ti_error_free(e);
    e = nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ti_run_options_free(probe);
  EXPECT_TRUE(Fails(e, TI_ERR_UNAVAILABLE, "queue is full (1 requests)"));
  b.reset();  // fails the queued request and joins the worker
  first.join();
  EXPECT_TRUE(queued_failed.load());
}

TEST_F(BatcherTest, CancelAndDeadlineWhileQueuedReturnAtOnce) {
  auto m = load("batch_rows.pt");
  auto b = make_batcher(m.get(), nullptr, {8, 10'000'000, 1024, 1});
  auto x = rows_of(1, 1);
  ti_run_options_t* opts = ti_run_options_create();
  Clock::time_point cancelled_at;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancelled_at = Clock::now();
    ti_run_options_cancel(opts);
  });
  ti_outputs_t* raw = nullptr;
  EXPECT_TRUE(Fails(submit(b.get(), x.get(), &raw, opts), TI_ERR_CANCELLED));
  const double after_cancel = millis_since(cancelled_at);
  canceller.join();
  EXPECT_LT(after_cancel, 50.0);  // about 0.25 ms; generous for a loaded CI machine
  ti_run_options_free(opts);

  opts = ti_run_options_create();
  ASSERT_TRUE(Ok(ti_run_options_set_timeout_us(opts, 30'000)));
  const auto start = Clock::now();
  EXPECT_TRUE(Fails(submit(b.get(), x.get(), &raw, opts), TI_ERR_DEADLINE_EXCEEDED, "timeout 30 ms exceeded"));
  EXPECT_LT(millis_since(start), 2000.0);
  ti_run_options_free(opts);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b.get(), &requests, &batches);
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(batches, 0);  // neither ran
}

// A running request's caller leaves at once when cancelled; the call itself is stopped.
TEST_F(BatcherTest, CancelWhileRunning) {
  auto m = load("slow.pt");
  auto b = make_batcher(m.get(), nullptr, {8, 0, 1024, 1});
  auto x = make_f32({0.5f}, {1, 1});
  const int64_t rounds_shape[] = {1};
  int64_t many = 50'000'000;
  ti_tensor_t* rounds = nullptr;
  ASSERT_TRUE(Ok(ti_tensor_create(TI_DTYPE_INT64, rounds_shape, 1, &many, sizeof many, &rounds)));
  ti_run_options_t* opts = ti_run_options_create();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ti_run_options_cancel(opts);
  });
  const ti_tensor_t* in[] = {x.get(), rounds};
  ti_outputs_t* raw = nullptr;
  const auto start = Clock::now();
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), nullptr, in, 2, opts, &raw), TI_ERR_CANCELLED));
  EXPECT_LT(millis_since(start), 5000.0);
  canceller.join();
  ti_tensor_free(rounds);
  b.reset();  // waits for the stopped call
  ti_run_options_free(opts);
}

TEST_F(BatcherTest, ManyThreadsManyRounds) {
  auto m = load("batch_rows.pt");
  auto b = make_batcher(m.get(), nullptr, {8, 200, 1024, 2});
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int r = 0; r < 50; ++r) {
        const float v = static_cast<float>(k * 100 + r);
        auto x = rows_of(v, 1 + (r % 3));
        ti_outputs_t* raw = nullptr;
        if (!Ok(submit(b.get(), x.get(), &raw))) {
          bad++;
          continue;
        }
        Outputs o(raw);
        if (to_f32(output(o.get(), "y").get()) != std::vector<float>(static_cast<size_t>(4 * (1 + r % 3)), 2 * v + 1)) bad++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b.get(), &requests, &batches);
  EXPECT_EQ(requests, 400);
  EXPECT_GE(batches, 1);
  EXPECT_LE(batches, 400);
}

TEST_F(BatcherTest, BadArgumentsAndOptions) {
  auto m = load("batch_rows.pt");
  ti_batcher_options_t* o = ti_batcher_options_create();
  EXPECT_TRUE(Fails(ti_batcher_options_set_max_batch(o, 0), TI_ERR_INVALID_ARGUMENT, "max_batch"));
  EXPECT_TRUE(Fails(ti_batcher_options_set_max_delay_us(o, -1), TI_ERR_INVALID_ARGUMENT, "max_delay_us"));
  EXPECT_TRUE(Fails(ti_batcher_options_set_max_delay_us(o, 10'000'001), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_batcher_options_set_max_queue(o, 0), TI_ERR_INVALID_ARGUMENT, "max_queue"));
  EXPECT_TRUE(Fails(ti_batcher_options_set_workers(o, 0), TI_ERR_INVALID_ARGUMENT, "workers"));
  EXPECT_TRUE(Fails(ti_batcher_options_set_workers(o, 257), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_batcher_options_set_workers(nullptr, 1), TI_ERR_INVALID_ARGUMENT));
  ti_batcher_t* raw = nullptr;
  EXPECT_TRUE(Fails(ti_batcher_create(nullptr, nullptr, o, &raw), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_batcher_create(m.get(), "nope", o, &raw), TI_ERR_NOT_FOUND));
  EXPECT_TRUE(Fails(ti_batcher_create(m.get(), nullptr, o, nullptr), TI_ERR_INVALID_ARGUMENT));
  auto values = load("values.pt");
  EXPECT_TRUE(Fails(ti_batcher_create(values.get(), "echo", o, &raw), TI_ERR_INVALID_ARGUMENT, "no tensor argument"));
  EXPECT_EQ(raw, nullptr);
  ti_batcher_options_free(o);
  ti_batcher_options_free(nullptr);
  ti_batcher_free(nullptr);
  int64_t requests = 7, batches = 7;
  ti_batcher_stats(nullptr, &requests, &batches);
  EXPECT_EQ(requests + batches, 0);
  ti_batcher_stats(nullptr, nullptr, nullptr);

  auto b = make_batcher(m.get(), nullptr, {});  // NULL-free defaults path
  auto scalar = make_f32({1}, {});
  auto x = rows_of(1, 2), y = rows_of(1, 3);
  ti_outputs_t* out = nullptr;
  const ti_tensor_t* none[] = {nullptr};
  const ti_tensor_t* both[] = {x.get(), y.get()};
  const char* wrong[] = {"z"};
  const char* null_name[] = {nullptr};
  const ti_tensor_t* one[] = {x.get()};
  EXPECT_TRUE(Fails(submit(b.get(), scalar.get(), &out), TI_ERR_INVALID_ARGUMENT, "no batch dimension"));
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), nullptr, none, 1, nullptr, &out), TI_ERR_INVALID_ARGUMENT, "inputs[0] is NULL"));
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), nullptr, both, 2, nullptr, &out), TI_ERR_INVALID_ARGUMENT, "takes 1"));
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), nullptr, nullptr, 0, nullptr, &out), TI_ERR_INVALID_ARGUMENT, "at least one"));
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), wrong, one, 1, nullptr, &out), TI_ERR_INVALID_ARGUMENT, "unknown input name 'z'"));
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), null_name, one, 1, nullptr, &out), TI_ERR_INVALID_ARGUMENT, "names[0] is NULL"));
  EXPECT_TRUE(Fails(ti_batcher_run(nullptr, nullptr, one, 1, nullptr, &out), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_batcher_run(b.get(), nullptr, one, 1, nullptr, nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(out, nullptr);
  const char* name[] = {"x"};
  ASSERT_TRUE(Ok(ti_batcher_run(b.get(), name, one, 1, nullptr, &out)));  // by name
  ti_outputs_free(out);
}

}  // namespace

namespace {

// A .pt2 batches when its batch dimension was exported as dynamic; a static one is refused.
TEST_F(BatcherTest, AotInductorPackagesNeedADynamicBatchDimension) {
  if (!std::ifstream(model_path("conv.pt2")).good()) GTEST_SKIP() << "no .pt2 fixtures on this LibTorch";
  auto conv = load("conv.pt2");
  ti_batcher_t* raw = nullptr;
  EXPECT_TRUE(Fails(ti_batcher_create(conv.get(), nullptr, nullptr, &raw), TI_ERR_INVALID_ARGUMENT,
                    "input '0' of method 'forward' has a static dimension 0"));
  auto dynamic = load("dynamic.pt2");
  auto b = make_batcher(dynamic.get(), nullptr, {8, 10'000'000, 1024, 1});  // 4 requests of 2 rows
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      auto x = rows_of(static_cast<float>(k), 2, 8), y = rows_of(1, 2, 4);  // its batch range starts at 2
      const ti_tensor_t* in[] = {x.get(), y.get()};
      const char* names[] = {"x", "y"};
      ti_outputs_t* raw_out = nullptr;
      if (!Ok(ti_batcher_run(b.get(), names, in, 2, nullptr, &raw_out))) {
        bad++;
        return;
      }
      Outputs o(raw_out);
      ti_outputs_t* direct = nullptr;
      if (!Ok(ti_model_run(dynamic.get(), nullptr, names, in, 2, nullptr, &direct))) {
        bad++;
        return;
      }
      Outputs d(direct);
      const auto got = to_f32(output(o.get(), "sum").get()), want = to_f32(output(d.get(), "sum").get());
      for (size_t j = 0; j < want.size(); ++j) {
        if (std::fabs(got[j] - want[j]) > 1e-5f * (1 + std::fabs(want[j]))) bad++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b.get(), &requests, &batches);
  EXPECT_EQ(requests, 4);
  EXPECT_EQ(batches, 1);
}

}  // namespace

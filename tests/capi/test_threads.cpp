// One model shared by many threads gives the same results as one thread.
#include "fixture.h"

#include <atomic>
#include <cmath>
#include <thread>

using namespace ti_test;

namespace {

class Threads : public CapiTest {};

std::vector<float> input_for(int k) {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(k * 16 + i));
  return v;
}

TEST_F(Threads, SixteenThreadsShareOneModel) {
  constexpr int kInputs = 32, kThreads = 16, kRounds = 20;
  auto model = load("mlp.pt");
  std::vector<std::vector<float>> reference;
  for (int k = 0; k < kInputs; ++k) {
    auto x = make_f32(input_for(k), {1, 16});
    auto o = predict(model.get(), {x.get()});
    reference.push_back(to_f32(output(o.get(), "0").get()));
  }
  std::atomic<int> mismatches{0}, errors{0}, checked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int k = (t * 7 + r) % kInputs;
        const auto in = input_for(k);
        const int64_t shape[] = {1, 16};
        ti_tensor_t* x = nullptr;
        ti_outputs_t* o = nullptr;
        ti_tensor_t* y = nullptr;
        std::vector<float> got(4);
        ti_error_t* e = ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, in.data(), 64, &x);
        if (!e) e = ti_model_predict(model.get(), &x, 1, &o);
        if (!e) e = ti_outputs_get(o, 0, &y);
        if (!e) e = ti_tensor_copy_to(y, got.data(), 16);
        if (e) {
          errors++;
          ti_error_free(e);
        } else if (got != reference[static_cast<size_t>(k)]) {
          mismatches++;
        }
        checked++;
        ti_tensor_free(y);
        ti_outputs_free(o);
        ti_tensor_free(x);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(checked, kThreads * kRounds);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(mismatches, 0);
}

TEST_F(Threads, ErrorsInOneThreadDoNotDisturbOthers) {
  auto model = load("faulty.pt");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 25; ++r) {
        const float sign = (t + r) % 2 ? -1.0f : 1.0f;
        auto x = make_f32({sign * 1, sign * 2}, {2});
        ti_outputs_t* o = nullptr;
        const ti_tensor_t* in[] = {x.get()};
        ti_error_t* e = ti_model_predict(model.get(), in, 1, &o);
        Outputs owned(o);
        if (sign < 0) {
          if (ti_error_code(e) != TI_ERR_RUNTIME) wrong++;
        } else if (e || to_f32(output(o, "0").get()) != std::vector<float>{2, 4}) {
          wrong++;
        }
        ti_error_free(e);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace

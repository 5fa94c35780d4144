// Dynamic batching and structured inputs against direct calls, measured in the same run (issue
// 16 and 17 figures; a benchmark, never a test). Public C API only.
//
//   ti_bench_batching MODELS_DIR [--seconds S]
//
// Prints, each with its ratio:
//  - the BLAS library LibTorch uses in this process (Debian's reference BLAS makes every Linear
//    about 3x slower than OpenBLAS; see the README);
//  - ti_model_run_inputs (structured inputs, tensors only) against ti_model_run on mlp.pt:
//    paired blocks, medians of the per-call difference;
//  - N concurrent batch-1 callers through a batcher against the same callers calling
//    ti_model_run directly (one intra-op thread): throughput, p50 and p99 latency, mean batch
//    size, for ranking_mlp.pt (32 callers), resnet18.pt (16, when present) and mlp.pt (32);
//  - one caller with max_delay 0: the per-request cost of the hand-off;
//  - how soon a queued request returns after it is cancelled from another thread.
#include <torchinfer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string g_models;
double g_seconds = 3.0;

void check(ti_error_t* e, const char* what) {
  if (e) {
    std::fprintf(stderr, "%s: %s: %s\n", what, ti_code_name(ti_error_code(e)), ti_error_message(e));
    std::exit(1);
  }
}

ti_model_t* load(const char* file) {
  ti_model_t* m = nullptr;
  check(ti_model_load((g_models + "/" + file).c_str(), nullptr, &m), file);
  return m;
}

bool exists(const char* file) { return std::ifstream(g_models + "/" + file).good(); }

ti_tensor_t* input(std::vector<int64_t> shape, float seed) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919 + static_cast<size_t>(seed * 13)) % 1000) / 1000.0f - 0.5f;
  ti_tensor_t* t = nullptr;
  check(ti_tensor_create(TI_DTYPE_FLOAT32, shape.data(), shape.size(), v.data(), v.size() * sizeof(float), &t), "tensor");
  return t;
}

// The BLAS library mapped into this process, from /proc/self/maps.
std::string blas_in_use() {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string file = line.substr(slash);
    if (file.find("blas") != std::string::npos || file.find("mkl") != std::string::npos) {
      if (found.find(file) == std::string::npos) found += (found.empty() ? "" : ", ") + file;
    }
  }
  if (found.empty()) return "none mapped (the LibTorch wheel links MKL or OpenBLAS statically)";
  if (found.find("openblas") != std::string::npos) return "OpenBLAS: " + found;
  if (found.find("/blas/") != std::string::npos) return "reference BLAS (slow; install libopenblas0-pthread): " + found;
  return found;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Load {
  double per_second = 0, p50_us = 0, p99_us = 0, mean_batch = 1;
};

// `callers` threads, each calling `call(thread)` for g_seconds.
template <typename Call>
Load drive(int callers, Call&& call) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(callers));
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int64_t> done{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < callers; ++k) {
    threads.emplace_back([&, k] {
      while (!go.load()) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Clock::now();
        call(k);
        latencies[static_cast<size_t>(k)].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  const auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(g_seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  return {static_cast<double>(done.load()) / elapsed, percentile(all, 0.5), percentile(all, 0.99), 1};
}

void compare(const char* label, const char* file, std::vector<int64_t> shape, int callers, int64_t max_batch,
             int64_t delay_us, int workers) {
  ti_model_t* m = load(file);
  std::vector<ti_tensor_t*> inputs;
  for (int k = 0; k < callers; ++k) inputs.push_back(input(shape, static_cast<float>(k)));
  auto direct_call = [&](int k) {
    ti_outputs_t* o = nullptr;
    check(ti_model_run(m, nullptr, nullptr, &inputs[static_cast<size_t>(k)], 1, nullptr, &o), "direct");
    ti_outputs_free(o);
  };
  for (int k = 0; k < 3; ++k) direct_call(0);  // warm up
  const Load direct = drive(callers, direct_call);

  ti_batcher_options_t* o = ti_batcher_options_create();
  check(ti_batcher_options_set_max_batch(o, max_batch), "max_batch");
  check(ti_batcher_options_set_max_delay_us(o, delay_us), "delay");
  check(ti_batcher_options_set_workers(o, workers), "workers");
  ti_batcher_t* b = nullptr;
  check(ti_batcher_create(m, nullptr, o, &b), "batcher");
  ti_batcher_options_free(o);
  auto batched_call = [&](int k) {
    ti_outputs_t* out = nullptr;
    check(ti_batcher_run(b, nullptr, &inputs[static_cast<size_t>(k)], 1, nullptr, &out), "batcher");
    ti_outputs_free(out);
  };
  Load batched = drive(callers, batched_call);
  int64_t requests = 0, batches = 0;
  ti_batcher_stats(b, &requests, &batches);
  batched.mean_batch = batches ? static_cast<double>(requests) / static_cast<double>(batches) : 0;
  ti_batcher_free(b);
  std::printf("%-34s direct %9.0f/s p50 %8.0f us p99 %8.0f us | batcher %9.0f/s p50 %8.0f us p99 %8.0f us "
              "mean batch %5.1f | throughput x%.2f, p99 x%.2f\n",
              label, direct.per_second, direct.p50_us, direct.p99_us, batched.per_second, batched.p50_us,
              batched.p99_us, batched.mean_batch, batched.per_second / direct.per_second,
              batched.p99_us / direct.p99_us);
  std::printf("RESULT batching %s throughput_ratio=%.2f p99_ratio=%.2f mean_batch=%.1f\n", file,
              batched.per_second / direct.per_second, batched.p99_us / direct.p99_us, batched.mean_batch);
  for (auto* t : inputs) ti_tensor_free(t);
  ti_model_free(m);
}

// Median over blocks of the per-call time of `a` and `b`, alternating blocks.
template <typename A, typename B>
std::pair<double, double> paired(A&& a, B&& b, int blocks, int per_block) {
  std::vector<double> ta, tb;
  for (int i = 0; i < blocks; ++i) {
    auto t0 = Clock::now();
    for (int k = 0; k < per_block; ++k) a();
    auto t1 = Clock::now();
    for (int k = 0; k < per_block; ++k) b();
    auto t2 = Clock::now();
    ta.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / per_block);
    tb.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count() / per_block);
  }
  return {percentile(ta, 0.5), percentile(tb, 0.5)};
}

void structured_overhead() {
  ti_model_t* m = load("mlp.pt");
  ti_tensor_t* x = input({1, 16}, 1);
  ti_inputs_t* in = nullptr;
  check(ti_inputs_create(m, nullptr, &in), "inputs");
  check(ti_inputs_set_tensor(in, "x", x), "set");
  auto direct = [&] {
    ti_outputs_t* o = nullptr;
    check(ti_model_run(m, nullptr, nullptr, &x, 1, nullptr, &o), "run");
    ti_outputs_free(o);
  };
  auto structured = [&] {
    ti_outputs_t* o = nullptr;
    check(ti_model_run_inputs(m, in, nullptr, &o), "run_inputs");
    ti_outputs_free(o);
  };
  for (int i = 0; i < 2000; ++i) {
    direct();
    structured();
  }
  auto [d, s] = paired(direct, structured, 61, 2000);
  std::printf("%-34s ti_model_run %.2f us, ti_model_run_inputs %.2f us: +%.2f us per call (x%.3f; target <= +0.3 us)\n",
              "structured inputs, mlp.pt", d, s, s - d, s / d);
  std::printf("RESULT structured_inputs mlp.pt overhead_us=%.2f\n", s - d);
  ti_inputs_free(in);
  ti_tensor_free(x);
  ti_model_free(m);
}

void one_caller_overhead() {
  ti_model_t* m = load("mlp.pt");
  ti_tensor_t* x = input({1, 16}, 1);
  ti_batcher_t* b = nullptr;
  check(ti_batcher_create(m, nullptr, nullptr, &b), "batcher");
  auto direct = [&] {
    ti_outputs_t* o = nullptr;
    check(ti_model_run(m, nullptr, nullptr, &x, 1, nullptr, &o), "run");
    ti_outputs_free(o);
  };
  auto batched = [&] {
    ti_outputs_t* o = nullptr;
    check(ti_batcher_run(b, nullptr, &x, 1, nullptr, &o), "batcher_run");
    ti_outputs_free(o);
  };
  auto [d, s] = paired(direct, batched, 31, 500);
  std::printf("%-34s direct %.1f us, through the batcher %.1f us: +%.1f us per request (target <= +20 us)\n",
              "one caller, max_delay 0, mlp.pt", d, s, s - d);
  std::printf("RESULT batching one_caller overhead_us=%.1f\n", s - d);
  ti_batcher_free(b);
  ti_tensor_free(x);
  ti_model_free(m);
}

void cancel_while_queued() {
  ti_model_t* m = load("mlp.pt");
  ti_tensor_t* x = input({1, 16}, 1);
  ti_batcher_options_t* o = ti_batcher_options_create();
  check(ti_batcher_options_set_max_delay_us(o, 10'000'000), "delay");  // requests stay queued
  ti_batcher_t* b = nullptr;
  check(ti_batcher_create(m, nullptr, o, &b), "batcher");
  ti_batcher_options_free(o);
  std::vector<double> after;
  for (int i = 0; i < 20; ++i) {
    ti_run_options_t* ro = ti_run_options_create();
    Clock::time_point cancelled;
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      cancelled = Clock::now();
      ti_run_options_cancel(ro);
    });
    ti_outputs_t* out = nullptr;
    ti_error_t* e = ti_batcher_run(b, nullptr, &x, 1, ro, &out);
    const auto back = Clock::now();
    canceller.join();
    if (ti_error_code(e) != TI_ERR_CANCELLED) std::fprintf(stderr, "expected TI_ERR_CANCELLED\n");
    ti_error_free(e);
    ti_run_options_free(ro);
    after.push_back(std::chrono::duration<double, std::micro>(back - cancelled).count());
  }
  std::printf("%-34s back %.0f us after the cancel (median of 20; max %.0f us; target <= 1000 us)\n",
              "cancel a queued request", percentile(after, 0.5), percentile(after, 1.0));
  std::printf("RESULT batching cancel_queued_us=%.0f\n", percentile(after, 0.5));
  ti_batcher_free(b);
  ti_tensor_free(x);
  ti_model_free(m);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODELS_DIR [--seconds S]\n", argv[0]);
    return 2;
  }
  g_models = argv[1];
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) g_seconds = std::atof(argv[i + 1]);
  }
  check(ti_set_num_threads(1), "threads");
  std::printf("LibTorch %s, %u hardware threads, 1 intra-op thread per call\nBLAS: %s\n", ti_torch_version(),
              std::thread::hardware_concurrency(), blas_in_use().c_str());
  structured_overhead();
  one_caller_overhead();
  cancel_while_queued();
  compare("ranking_mlp.pt, 32 callers", "ranking_mlp.pt", {1, 256}, 32, 32, 0, 1);
  compare("ranking_mlp.pt, 32 callers, 2 workers", "ranking_mlp.pt", {1, 256}, 32, 32, 0, 2);
  if (exists("resnet18.pt")) {
    compare("resnet18.pt, 16 callers", "resnet18.pt", {1, 3, 224, 224}, 16, 16, 0, 1);
  } else {
    std::printf("resnet18.pt not found (ninja bench_models makes it): skipped\n");
  }
  compare("mlp.pt (tiny), 32 callers", "mlp.pt", {1, 16}, 32, 32, 0, 1);
  std::printf("live handles at exit: %lld\n", static_cast<long long>(ti_live_handles()));
  return ti_live_handles() == 0 ? 0 : 1;
}

// Per-call cost of the C API against raw LibTorch, measured in the same process and run.
//
//   ti_bench MODELS_DIR [google-benchmark flags]
//
// Raw:   torch::jit::load / Module::forward + memcpy of the output (under InferenceMode).
// C API: ti_model_load / ti_model_predict + ti_outputs_get + ti_tensor_copy_to (+ frees).
// Both run with one intra-op thread. Google Benchmark reports each on its own; the ratios come
// from a paired run (blocks of raw and C API calls alternating, medians compared), printed at
// the end with the RSS growth over 100k predictions, what run options cost a call that is not
// stopped (MLP), and how soon a cancelled or timed-out ResNet-18 call returns.
//
// With LibTorch 2.6+ (`ninja bench_models` then also writes mlp_bench.pt2 and resnet18.pt2, the
// AOTInductor packages of the same modules and weights) the C API on the .pt2 is measured
// against the C API on the TorchScript archive and against raw LibTorch, the three sides
// interleaved in one paired run, and the ratios are printed after the raw / C API table.
#include <torchinfer.h>

#include <benchmark/benchmark.h>
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_models;

std::string path(const char* file) { return g_models + "/" + file; }

void check(ti_error_t* e) {
  if (e) {
    std::fprintf(stderr, "error: %s\n", ti_error_message(e));
    std::exit(1);
  }
}

struct Case {
  const char* file;
  std::vector<int64_t> shape;
};
const Case kMlp{"mlp.pt", {1, 16}};
const Case kResnet{"resnet18.pt", {1, 3, 224, 224}};
// The AOTInductor packages of the same modules and weights (batch 1, compiled for the CPU).
const Case kMlpPt2{"mlp_bench.pt2", {1, 16}};
const Case kResnetPt2{"resnet18.pt2", {1, 3, 224, 224}};

bool exists(const Case& c) { return std::ifstream(path(c.file)).good(); }

std::vector<float> input_values(const Case& c) {
  int64_t n = 1;
  for (auto d : c.shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  return v;
}

// One raw LibTorch prediction: Module::forward under InferenceMode, then copy the output out.
class RawRunner {
 public:
  explicit RawRunner(const Case& c) : module_(torch::jit::load(path(c.file))) {
    module_.eval();
    auto values = input_values(c);
    x_ = torch::from_blob(values.data(), c.shape, at::kFloat).clone();
  }
  void call() {
    c10::InferenceMode guard;
    at::Tensor y = module_.forward({x_}).toTensor();
    out_.resize(static_cast<size_t>(y.numel()));
    std::memcpy(out_.data(), y.data_ptr(), out_.size() * sizeof(float));
    benchmark::DoNotOptimize(out_.data());
  }

 private:
  torch::jit::Module module_;
  at::Tensor x_;
  std::vector<float> out_;
};

// The same through the C API: predict, get the leaf, copy it out, free the handles.
class CApiRunner {
 public:
  // With `opts`, calls go through ti_model_run with those run options.
  explicit CApiRunner(const Case& c, const ti_run_options_t* opts = nullptr, int optimize = 0) : opts_(opts) {
    ti_load_options_t* load = ti_load_options_create();
    check(ti_load_options_set_optimize(load, optimize));
    check(ti_model_load(path(c.file).c_str(), load, &model_));
    ti_load_options_free(load);
    auto values = input_values(c);
    check(ti_tensor_create(TI_DTYPE_FLOAT32, c.shape.data(), c.shape.size(), values.data(),
                           values.size() * sizeof(float), &x_));
  }
  ~CApiRunner() {
    ti_tensor_free(x_);
    ti_model_free(model_);
  }
  CApiRunner(const CApiRunner&) = delete;
  CApiRunner& operator=(const CApiRunner&) = delete;
  void call() {
    ti_outputs_t* o = nullptr;
    ti_tensor_t* y = nullptr;
    if (opts_) {
      check(ti_model_run(model_, nullptr, nullptr, &x_, 1, opts_, &o));
    } else {
      check(ti_model_predict(model_, &x_, 1, &o));
    }
    check(ti_outputs_get(o, 0, &y));
    out_.resize(static_cast<size_t>(ti_tensor_numel(y)));
    check(ti_tensor_copy_to(y, out_.data(), out_.size() * sizeof(float)));
    benchmark::DoNotOptimize(out_.data());
    ti_tensor_free(y);
    ti_outputs_free(o);
  }
  // Exits unless the file loaded as `format` ("torchscript" or "aotinductor").
  void expect_format(const char* format) const {
    if (std::strcmp(ti_model_format(model_), format) != 0) {
      std::fprintf(stderr, "error: expected a %s model, got %s\n", format, ti_model_format(model_));
      std::exit(1);
    }
  }
  const std::vector<float>& output() const { return out_; }
  // ti_model_run under `opts`; returns the error code (the call's result is discarded).
  ti_code_t run_once(const ti_run_options_t* opts) {
    ti_outputs_t* o = nullptr;
    ti_error_t* e = ti_model_run(model_, nullptr, nullptr, &x_, 1, opts, &o);
    const ti_code_t code = ti_error_code(e);
    ti_error_free(e);
    ti_outputs_free(o);
    return code;
  }

 private:
  const ti_run_options_t* opts_ = nullptr;
  ti_model_t* model_ = nullptr;
  ti_tensor_t* x_ = nullptr;
  std::vector<float> out_;
};

void raw_load(const Case& c) {
  torch::jit::Module module = torch::jit::load(path(c.file));
  benchmark::DoNotOptimize(&module);
}

void capi_load(const Case& c) {
  ti_model_t* model = nullptr;
  check(ti_model_load(path(c.file).c_str(), nullptr, &model));
  ti_model_free(model);
}

template <typename Runner>
void Predict(benchmark::State& state, const Case& c) {
  Runner runner(c);
  for (auto _ : state) runner.call();
}

void Load(benchmark::State& state, const Case& c, void (*load)(const Case&)) {
  for (auto _ : state) load(c);
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Paired measurement: blocks of raw and C API calls alternate (their order swapping every
// block), so both sides see the same machine; the medians of the per-call block times are
// compared. A busy machine then slows both sides alike instead of biasing one.
struct Paired {
  double raw_us, capi_us;
};

template <typename RawFn, typename CApiFn>
Paired paired(int blocks, int calls_per_block, RawFn&& raw, CApiFn&& capi) {
  std::vector<double> raw_t, capi_t;
  auto time_block = [calls_per_block](auto& fn) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls_per_block; ++i) fn();
    const std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
    return spent.count() / calls_per_block;
  };
  for (int b = 0; b < blocks; ++b) {
    if (b % 2) {
      raw_t.push_back(time_block(raw));
      capi_t.push_back(time_block(capi));
    } else {
      capi_t.push_back(time_block(capi));
      raw_t.push_back(time_block(raw));
    }
  }
  return {median(raw_t), median(capi_t)};
}

Paired paired_predict(const Case& c, int warmup, int blocks, int calls_per_block) {
  RawRunner raw(c);
  CApiRunner capi(c);
  for (int i = 0; i < warmup; ++i) {
    raw.call();
    capi.call();
  }
  return paired(blocks, calls_per_block, [&] { raw.call(); }, [&] { capi.call(); });
}

Paired paired_load(const Case& c, int blocks) {
  return paired(blocks, 1, [&] { raw_load(c); }, [&] { capi_load(c); });
}

// The same for three sides: blocks of each run in turn, the order going through all six
// permutations, so that each side runs first, second and third, after each of the others,
// equally often. Returns the medians of the per-call block times, in the order of `fns`.
std::vector<double> interleaved(int blocks, int calls_per_block, const std::vector<std::function<void()>>& fns) {
  std::vector<std::vector<double>> times(fns.size());
  std::vector<size_t> order(fns.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int b = 0; b < blocks; ++b) {
    for (size_t i : order) {
      const auto start = std::chrono::steady_clock::now();
      for (int k = 0; k < calls_per_block; ++k) fns[i]();
      const std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
      times[i].push_back(spent.count() / calls_per_block);
    }
    std::next_permutation(order.begin(), order.end());
  }
  std::vector<double> medians;
  for (auto& t : times) medians.push_back(median(t));
  return medians;
}

struct Pt2Paired {
  double raw_us, torchscript_us, pt2_us;
  double max_diff, max_abs;  // the largest |pt2 - torchscript| output difference, the largest |output|
};

// Raw LibTorch on `ts`, the C API on `ts` and the C API on `pt2` (the same module and input).
Pt2Paired paired_pt2(const Case& ts, const Case& pt2, int warmup, int blocks, int calls_per_block) {
  RawRunner raw(ts);
  CApiRunner capi_ts(ts), capi_pt2(pt2);
  capi_ts.expect_format("torchscript");
  capi_pt2.expect_format("aotinductor");
  for (int i = 0; i < warmup; ++i) {
    raw.call();
    capi_ts.call();
    capi_pt2.call();
  }
  Pt2Paired p{};
  const auto& a = capi_ts.output();
  const auto& b = capi_pt2.output();
  if (a.size() != b.size()) {
    std::fprintf(stderr, "error: %s gives %zu values, %s %zu\n", ts.file, a.size(), pt2.file, b.size());
    std::exit(1);
  }
  for (size_t i = 0; i < a.size(); ++i) {
    p.max_diff = std::max(p.max_diff, static_cast<double>(std::abs(a[i] - b[i])));
    p.max_abs = std::max(p.max_abs, static_cast<double>(std::abs(a[i])));
  }
  const auto m = interleaved(blocks, calls_per_block,
                             {[&] { raw.call(); }, [&] { capi_ts.call(); }, [&] { capi_pt2.call(); }});
  p.raw_us = m[0];
  p.torchscript_us = m[1];
  p.pt2_us = m[2];
  return p;
}

// What run options cost a call that is never stopped: the MLP through ti_model_predict, through
// ti_model_run with options that set nothing, and with a timeout that never expires.
void run_options_overhead() {
  ti_run_options_t* empty = ti_run_options_create();
  ti_run_options_t* timeout = ti_run_options_create();
  check(ti_run_options_set_timeout_us(timeout, 60'000'000));
  {
    CApiRunner plain(kMlp), with_empty(kMlp, empty), with_timeout(kMlp, timeout);
    for (int i = 0; i < 2000; ++i) {
      plain.call();
      with_empty.call();
      with_timeout.call();
    }
    if (plain.output() != with_empty.output() || plain.output() != with_timeout.output()) {
      std::fprintf(stderr, "error: outputs with run options differ from those without\n");
      std::exit(1);
    }
    const auto m = interleaved(420, 200, {[&] { plain.call(); }, [&] { with_empty.call(); },
                                          [&] { with_timeout.call(); }});
    std::printf("\nRun options (paired medians; outputs bit-identical with and without):\n");
    std::printf("%-44s %10.2f us\n", "MLP, ti_model_predict (no options)", m[0]);
    std::printf("%-44s %10.2f us  %.3fx\n", "MLP, ti_model_run, options that set nothing", m[1], m[1] / m[0]);
    std::printf("%-44s %10.2f us  %.3fx\n", "MLP, ti_model_run, 60 s timeout", m[2], m[2] / m[0]);
  }
  if (exists(kResnet)) {
    CApiRunner plain(kResnet), with_empty(kResnet, empty);
    for (int i = 0; i < 3; ++i) {
      plain.call();
      with_empty.call();
    }
    const auto m = interleaved(30, 1, {[&] { plain.call(); }, [&] { with_empty.call(); }});
    std::printf("%-44s %10.2f us\n", "ResNet-18, ti_model_predict (no options)", m[0]);
    std::printf("%-44s %10.2f us  %.3fx\n", "ResNet-18, ti_model_run, options set nothing", m[1], m[1] / m[0]);
  }
  ti_run_options_free(empty);
  ti_run_options_free(timeout);
}

// How soon a stopped call returns, on ResNet-18 with a batch of 4 and one thread: cancel at
// half a full call (target: back within a quarter of a full call), and a timeout of 15% of a
// full call (target: back within half a full call).
void cancel_latency() {
  const Case batch4{kResnet.file, {4, 3, 224, 224}};
  CApiRunner runner(batch4);
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  runner.call();  // warm-up
  std::vector<double> full;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    runner.call();
    full.push_back(ms_since(start));
  }
  const double full_ms = median(full);
  std::vector<double> after_cancel, timed_out;
  for (int i = 0; i < 5; ++i) {
    ti_run_options_t* opts = ti_run_options_create();
    Clock::time_point cancelled_at;
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(full_ms / 2));
      cancelled_at = Clock::now();
      ti_run_options_cancel(opts);
    });
    const ti_code_t code = runner.run_once(opts);
    const auto returned = Clock::now();
    canceller.join();
    if (code != TI_ERR_CANCELLED) {
      std::fprintf(stderr, "error: a cancelled ResNet-18 call gave %s\n", ti_code_name(code));
      std::exit(1);
    }
    after_cancel.push_back(std::chrono::duration<double, std::milli>(returned - cancelled_at).count());
    ti_run_options_free(opts);
  }
  for (int i = 0; i < 5; ++i) {
    ti_run_options_t* opts = ti_run_options_create();
    check(ti_run_options_set_timeout_us(opts, static_cast<int64_t>(full_ms * 150)));  // 15%
    const auto start = Clock::now();
    const ti_code_t code = runner.run_once(opts);
    timed_out.push_back(ms_since(start));
    if (code != TI_ERR_DEADLINE_EXCEEDED) {
      std::fprintf(stderr, "error: a timed-out ResNet-18 call gave %s\n", ti_code_name(code));
      std::exit(1);
    }
    ti_run_options_free(opts);
  }
  const double cancel_ms = median(after_cancel), timeout_ms = median(timed_out);
  std::printf("\nStopping ResNet-18 (batch 4, one thread; medians of 5; a full call takes %.1f ms):\n", full_ms);
  std::printf("cancel at 50%%: returned %.1f ms after cancel = %.3f of a full call (target <= 0.25) %s\n",
              cancel_ms, cancel_ms / full_ms, cancel_ms / full_ms <= 0.25 ? "ok" : "ABOVE TARGET");
  std::printf("timeout of 15%%: returned after %.1f ms = %.3f of a full call (target <= 0.5) %s\n",
              timeout_ms, timeout_ms / full_ms, timeout_ms / full_ms <= 0.5 ? "ok" : "ABOVE TARGET");
}

// A rejected call (the MLP given 15 features instead of 16: LibTorch raises inside addmm)
// against a good one, interleaved. LibTorch 1.x symbolised a C++ backtrace for every error.
void error_cost() {
  CApiRunner good(kMlp);
  CApiRunner bad(Case{kMlp.file, {1, 15}});
  for (int i = 0; i < 200; ++i) {
    good.call();
    if (bad.run_once(nullptr) != TI_ERR_RUNTIME) {
      std::fprintf(stderr, "error: the bad MLP call did not fail with TI_ERR_RUNTIME\n");
      std::exit(1);
    }
  }
  const auto m = interleaved(60, 50, {[&] { good.call(); }, [&] { bad.run_once(nullptr); }});
  std::printf("\nRejected calls (MLP, wrong input width; paired medians):\n");
  std::printf("good call %.2f us, rejected call %.2f us: %.1fx (target <= 10x) %s\n", m[0], m[1],
              m[1] / m[0], m[1] / m[0] <= 10 ? "ok" : "ABOVE TARGET");
}

// ti_load_options_set_optimize(o, 1) against level 0, with one and two intra-op threads, and
// the first calls after a load (the profiling executor optimises during the first runs).
void optimize_gain(const Case& c, const char* label, int blocks, int calls_per_block) {
  std::printf("%s:\n", label);
  for (int threads : {1, 2}) {
    check(ti_set_num_threads(threads));
    CApiRunner plain(c), optimized(c, nullptr, 1);
    for (int i = 0; i < (calls_per_block > 1 ? 500 : 3); ++i) {
      plain.call();
      optimized.call();
    }
    double max_diff = 0, max_abs = 0;
    for (size_t i = 0; i < plain.output().size(); ++i) {
      max_diff = std::max(max_diff, static_cast<double>(std::abs(plain.output()[i] - optimized.output()[i])));
      max_abs = std::max(max_abs, static_cast<double>(std::abs(plain.output()[i])));
    }
    const auto m = interleaved(blocks, calls_per_block, {[&] { plain.call(); }, [&] { optimized.call(); }});
    std::printf("  %d thread(s): level 0 %.2f us, level 1 %.2f us: optimised/plain = %.3fx; max |diff| %.2g of max |y| %.2g\n",
                threads, m[0], m[1], m[1] / m[0], max_diff, max_abs);
  }
  check(ti_set_num_threads(1));
  using Clock = std::chrono::steady_clock;
  for (int level : {0, 1}) {
    std::vector<double> first, second, tenth;
    for (int rep = 0; rep < 3; ++rep) {
      CApiRunner r(c, nullptr, level);
      for (int call = 1; call <= 10; ++call) {
        const auto start = Clock::now();
        r.call();
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        if (call == 1) first.push_back(us);
        if (call == 2) second.push_back(us);
        if (call == 10) tenth.push_back(us);
      }
    }
    std::printf("  after load, level %d: 1st call %.1f us, 2nd %.1f us, 10th %.1f us (medians of 3 loads)\n",
                level, median(first), median(second), median(tenth));
  }
}

long rss_kb() {
  long pages_total = 0, pages_resident = 0;
  std::ifstream("/proc/self/statm") >> pages_total >> pages_resident;
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// RSS before and after 100k predict cycles on the MLP, after a warm-up.
long rss_growth_kb(int cycles) {
  ti_model_t* model = nullptr;
  check(ti_model_load(path(kMlp.file).c_str(), nullptr, &model));
  auto values = input_values(kMlp);
  ti_tensor_t* x = nullptr;
  check(ti_tensor_create(TI_DTYPE_FLOAT32, kMlp.shape.data(), 2, values.data(), values.size() * 4, &x));
  float out[4];
  auto cycle = [&] {
    ti_outputs_t* o = nullptr;
    ti_tensor_t* y = nullptr;
    check(ti_model_predict(model, &x, 1, &o));
    check(ti_outputs_get(o, 0, &y));
    check(ti_tensor_copy_to(y, out, sizeof out));
    ti_tensor_free(y);
    ti_outputs_free(o);
  };
  for (int i = 0; i < 2000; ++i) cycle();
  const long before = rss_kb();
  for (int i = 0; i < cycles; ++i) cycle();
  const long after = rss_kb();
  ti_tensor_free(x);
  ti_model_free(model);
  return after - before;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: %s MODELS_DIR [benchmark flags]\n", argv[0]);
    return 2;
  }
  g_models = argv[1];
  argv[1] = argv[0];
  --argc;
  ++argv;
  check(ti_set_num_threads(1));  // the C API applies it inside every call
  at::set_num_threads(1);        // the raw runs use this thread's setting

  const bool have_resnet = exists(kResnet);
  if (!have_resnet) {
    std::fprintf(stderr, "note: %s missing (ninja bench_models); ResNet-18 rows skipped\n",
                 path(kResnet.file).c_str());
  }
#ifdef TI_BENCH_HAVE_AOTI
  const bool have_mlp_pt2 = exists(kMlpPt2);
  const bool have_resnet_pt2 = have_resnet && exists(kResnetPt2);
#else
  const bool have_mlp_pt2 = false, have_resnet_pt2 = false;  // this LibTorch cannot load them
#endif
  auto reg = [](const char* name, void (*fn)(benchmark::State&, const Case&), const Case& c, double min_time) {
    benchmark::RegisterBenchmark(name, fn, c)->MinTime(min_time)->Unit(benchmark::kMicrosecond);
  };
  auto reg_load = [](const char* name, void (*load)(const Case&), const Case& c) {
    benchmark::RegisterBenchmark(name, Load, c, load)->MinTime(1.0)->Unit(benchmark::kMillisecond);
  };
  reg("mlp/raw_predict", Predict<RawRunner>, kMlp, 0.5);
  reg("mlp/capi_predict", Predict<CApiRunner>, kMlp, 0.5);
  reg_load("mlp/raw_load", raw_load, kMlp);
  reg_load("mlp/capi_load", capi_load, kMlp);
  if (have_mlp_pt2) reg("mlp/pt2_capi_predict", Predict<CApiRunner>, kMlpPt2, 0.5);
  if (have_resnet) {
    reg("resnet18/raw_predict", Predict<RawRunner>, kResnet, 2.0);
    reg("resnet18/capi_predict", Predict<CApiRunner>, kResnet, 2.0);
    reg_load("resnet18/raw_load", raw_load, kResnet);
    reg_load("resnet18/capi_load", capi_load, kResnet);
  }
  if (have_resnet_pt2) reg("resnet18/pt2_capi_predict", Predict<CApiRunner>, kResnetPt2, 2.0);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();

  std::printf("\nPaired medians (blocks of raw and C API calls alternating):\n");
  std::printf("%-20s %14s %14s %10s %8s\n", "benchmark", "raw (us)", "C API (us)", "ratio", "target");
  auto row = [](const char* label, Paired p, double target) {
    const double ratio = p.capi_us / p.raw_us;
    std::printf("%-20s %14.2f %14.2f %9.4fx %7.3fx %s\n", label, p.raw_us, p.capi_us, ratio, target,
                ratio <= target ? "ok" : "ABOVE TARGET");
    std::fflush(stdout);
  };
  row("MLP predict", paired_predict(kMlp, 2000, 400, 200), 1.03);
  if (have_resnet) {
    row("ResNet-18 predict", paired_predict(kResnet, 3, 80, 1), 1.005);
    row("ResNet-18 load", paired_load(kResnet, 30), 1.05);
  }
  row("MLP load", paired_load(kMlp, 400), 1.05);

  // AOTInductor against TorchScript, both through the C API, and both against raw LibTorch.
  if (have_mlp_pt2 || have_resnet_pt2) {
    std::printf("\nAOTInductor .pt2 vs TorchScript, both through the C API; raw = LibTorch on the TorchScript\n"
                "(batch 1, one thread; paired medians, blocks of raw, TorchScript and .pt2 calls interleaved):\n");
    std::printf("%-20s %12s %16s %12s\n", "benchmark", "raw (us)", "TorchScript (us)", ".pt2 (us)");
    auto pt2_row = [](const char* label, const char* name, Pt2Paired p) {
      std::printf("%-20s %12.2f %16.2f %12.2f\n", label, p.raw_us, p.torchscript_us, p.pt2_us);
      std::printf("%s predict: pt2/torchscript = %.3fx, pt2/raw = %.3fx (torchscript/raw = %.3fx); "
                  "outputs: max |pt2 - torchscript| = %.2g of max |y| = %.2g %s\n",
                  name, p.pt2_us / p.torchscript_us, p.pt2_us / p.raw_us, p.torchscript_us / p.raw_us,
                  p.max_diff, p.max_abs, p.max_diff <= 1e-4 * std::max(1.0, p.max_abs) ? "ok" : "DIFFER");
      std::fflush(stdout);
    };
    if (have_mlp_pt2) pt2_row("MLP predict", "mlp", paired_pt2(kMlp, kMlpPt2, 2000, 420, 200));
    if (have_resnet_pt2) pt2_row("ResNet-18 predict", "resnet18", paired_pt2(kResnet, kResnetPt2, 3, 84, 1));
  }
  if (!have_mlp_pt2 || !have_resnet_pt2) {
#ifdef TI_BENCH_HAVE_AOTI
    std::string missing;
    if (!have_mlp_pt2) missing += " " + path(kMlpPt2.file);
    if (!have_resnet_pt2) missing += " " + path(have_resnet ? kResnetPt2.file : kResnet.file);
    std::printf("\n.pt2 comparison skipped where a model is missing:%s (ninja bench_models writes them)\n",
                missing.c_str());
#else
    std::printf("\n.pt2 comparison skipped: LibTorch %s has no AOTInductor (.pt2 packages need 2.6 or newer)\n",
                ti_torch_version());
#endif
  }

  run_options_overhead();
  if (have_resnet) cancel_latency();
  error_cost();
  std::printf("\nOptimised loading (ti_load_options_set_optimize level 1 = freeze + optimize_for_inference;\n"
              "paired medians):\n");
  optimize_gain(kMlp, "MLP predict", 200, 200);
  if (have_resnet) optimize_gain(kResnet, "ResNet-18 predict (batch 1)", 30, 1);

  const int cycles = 100000;
  const long growth = rss_growth_kb(cycles);
  std::printf("RSS growth over %d MLP predict cycles: %ld KiB (target < 2048 KiB) %s\n", cycles, growth,
              growth < 2048 ? "ok" : "ABOVE TARGET");
  std::printf("live handles at exit: %lld\n", static_cast<long long>(ti_live_handles()));
  return 0;
}

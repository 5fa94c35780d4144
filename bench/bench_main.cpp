// Per-call cost of the C API against raw LibTorch, measured in the same process and run.
//
//   ti_bench MODELS_DIR [google-benchmark flags]
//
// Raw:   torch::jit::load / Module::forward + memcpy of the output (under InferenceMode).
// C API: ti_model_load / ti_model_predict + ti_outputs_get + ti_tensor_copy_to (+ frees).
// Both run with one intra-op thread. Each benchmark is repeated and the fastest repetition is
// used for the ratios, which are printed at the end with the RSS growth over 100k predictions.
#include <torchinfer.h>

#include <benchmark/benchmark.h>
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
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

std::vector<float> input_values(const Case& c) {
  int64_t n = 1;
  for (auto d : c.shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  return v;
}

void RawPredict(benchmark::State& state, const Case& c) {
  torch::jit::Module module = torch::jit::load(path(c.file));
  module.eval();
  auto values = input_values(c);
  at::Tensor x = torch::from_blob(values.data(), c.shape, at::kFloat).clone();
  std::vector<float> out;
  for (auto _ : state) {
    c10::InferenceMode guard;
    at::Tensor y = module.forward({x}).toTensor();
    out.resize(static_cast<size_t>(y.numel()));
    std::memcpy(out.data(), y.data_ptr(), out.size() * sizeof(float));
    benchmark::DoNotOptimize(out.data());
  }
}

void CApiPredict(benchmark::State& state, const Case& c) {
  ti_model_t* model = nullptr;
  check(ti_model_load(path(c.file).c_str(), nullptr, &model));
  auto values = input_values(c);
  ti_tensor_t* x = nullptr;
  check(ti_tensor_create(TI_DTYPE_FLOAT32, c.shape.data(), c.shape.size(), values.data(),
                         values.size() * sizeof(float), &x));
  std::vector<float> out;
  for (auto _ : state) {
    ti_outputs_t* o = nullptr;
    ti_tensor_t* y = nullptr;
    check(ti_model_predict(model, &x, 1, &o));
    check(ti_outputs_get(o, 0, &y));
    out.resize(static_cast<size_t>(ti_tensor_numel(y)));
    check(ti_tensor_copy_to(y, out.data(), out.size() * sizeof(float)));
    benchmark::DoNotOptimize(out.data());
    ti_tensor_free(y);
    ti_outputs_free(o);
  }
  ti_tensor_free(x);
  ti_model_free(model);
}

void RawLoad(benchmark::State& state, const Case& c) {
  for (auto _ : state) {
    torch::jit::Module module = torch::jit::load(path(c.file));
    benchmark::DoNotOptimize(&module);
  }
}

void CApiLoad(benchmark::State& state, const Case& c) {
  for (auto _ : state) {
    ti_model_t* model = nullptr;
    check(ti_model_load(path(c.file).c_str(), nullptr, &model));
    ti_model_free(model);
  }
}

// Keeps the fastest repetition of every benchmark.
class MinReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      const double ns = r.GetAdjustedRealTime();  // in the run's time unit
      const double per_call_ns = ns * (r.time_unit == benchmark::kMillisecond ? 1e6
                                       : r.time_unit == benchmark::kMicrosecond ? 1e3 : 1.0);
      auto name = r.run_name.function_name;
      auto it = best.find(name);
      if (it == best.end() || per_call_ns < it->second) best[name] = per_call_ns;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> best;
};

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
  check(ti_set_num_threads(1));  // also sets this thread's LibTorch count for the raw runs
  at::set_num_threads(1);

  const bool have_resnet = std::ifstream(path(kResnet.file)).good();
  const int reps = 5;
  auto reg = [&](const char* name, void (*fn)(benchmark::State&, const Case&), const Case& c,
                 double min_time) {
    benchmark::RegisterBenchmark(name, fn, c)->Repetitions(reps)->MinTime(min_time)
        ->Unit(benchmark::kMicrosecond);
  };
  // Raw and C API alternate so that both see the same machine conditions.
  reg("mlp/raw_predict", RawPredict, kMlp, 0.3);
  reg("mlp/capi_predict", CApiPredict, kMlp, 0.3);
  if (have_resnet) {
    reg("resnet18/raw_predict", RawPredict, kResnet, 2.0);
    reg("resnet18/capi_predict", CApiPredict, kResnet, 2.0);
    reg("resnet18/raw_load", RawLoad, kResnet, 2.0);
    reg("resnet18/capi_load", CApiLoad, kResnet, 2.0);
  } else {
    std::fprintf(stderr, "note: %s missing (ninja bench_models); ResNet-18 rows skipped\n",
                 path(kResnet.file).c_str());
  }
  reg("mlp/raw_load", RawLoad, kMlp, 0.5);
  reg("mlp/capi_load", CApiLoad, kMlp, 0.5);

  benchmark::Initialize(&argc, argv);
  MinReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::printf("\n%-22s %14s %14s %10s %8s\n", "benchmark", "raw (us)", "C API (us)", "ratio", "target");
  struct Row { const char* label; const char* raw; const char* capi; double target; };
  const Row rows[] = {
      {"MLP predict", "mlp/raw_predict", "mlp/capi_predict", 1.03},
      {"ResNet-18 predict", "resnet18/raw_predict", "resnet18/capi_predict", 1.005},
      {"ResNet-18 load", "resnet18/raw_load", "resnet18/capi_load", 1.05},
      {"MLP load", "mlp/raw_load", "mlp/capi_load", 1.05},
  };
  for (const auto& row : rows) {
    auto raw = reporter.best.find(row.raw), capi = reporter.best.find(row.capi);
    if (raw == reporter.best.end() || capi == reporter.best.end()) continue;
    const double ratio = capi->second / raw->second;
    std::printf("%-22s %14.2f %14.2f %9.4fx %7.3fx %s\n", row.label, raw->second / 1e3, capi->second / 1e3,
                ratio, row.target, ratio <= row.target ? "ok" : "ABOVE TARGET");
  }
  const int cycles = 100000;
  const long growth = rss_growth_kb(cycles);
  std::printf("RSS growth over %d MLP predict cycles: %ld KiB (target < 2048 KiB) %s\n", cycles, growth,
              growth < 2048 ? "ok" : "ABOVE TARGET");
  std::printf("live handles at exit: %lld\n", static_cast<long long>(ti_live_handles()));
  return 0;
}

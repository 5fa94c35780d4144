// torchinfer bench: latency percentiles and throughput of one method with fixed inputs.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unistd.h>

#include "cli.h"

namespace cli {
namespace {

using Clock = std::chrono::steady_clock;

const char kHelp[] =
    "Usage: torchinfer bench MODEL --input INPUT... [OPTIONS]\n"
    "\n"
    "Calls a method repeatedly with the same inputs and prints latency percentiles\n"
    "(p50/p90/p99 by nearest rank, plus mean, min and max) and throughput (calls/s over the\n"
    "wall time of the measured phase). A progress line is drawn on stderr when it is a\n"
    "terminal.\n"
    "\n"
    "  --input INPUT         FILE.npy or NAME=FILE.npy, repeatable (as for 'run'); inputs\n"
    "                        may also follow MODEL without --input\n"
    "  --method M            the method to run (default: forward)\n"
    "  --device D            load onto D: cpu, cuda, cuda:N\n"
    "  --threads N           N concurrent callers, each its own OS thread calling the same\n"
    "                        model with its own copy of the inputs (default: 1)\n"
    "  --intra-op-threads N  LibTorch's intra-op thread count for every call\n"
    "                        (ti_set_num_threads; default: LibTorch's)\n"
    "  --seconds S           measure for S seconds (default: 3)\n"
    "  --iterations K        measure exactly K calls in all, shared among the callers\n"
    "  --warmup K            untimed calls per caller before measuring (default: 10)\n"
    "  --json                print a JSON object instead of text\n"
    "  -h, --help            this help\n";

struct Settings {
  std::string model_path, device, method = "forward";
  std::vector<std::string> specs;
  int callers = 1, intra_op = 0, warmup = 10;
  double seconds = 3;
  long iterations = 0;  // 0: run for `seconds`
  bool json = false;
};

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  Clock::time_point start, deadline;
  std::atomic<long> claimed{0}, done{0};
  std::atomic<bool> stop{false};
  ti_error_t *error = nullptr;  // the first failure, under mu
};

struct Caller {
  std::vector<double> latencies_us;
  Clock::time_point end;
};

void caller_loop(const Settings &s, ti_model_t *model, const Inputs &inputs, Shared *sh, Caller *me) {
  std::vector<TensorPtr> tensors;
  std::vector<const ti_tensor_t *> ptrs;
  std::vector<const char *> names;
  ti_error_t *err = nullptr;
  for (const Input &in : inputs.items) {
    ti_tensor_t *t = nullptr;
    err = ti_tensor_create(in.dtype, in.shape.data(), in.shape.size(), in.data.data(), in.data.size(), &t);
    if (err) break;
    tensors.emplace_back(t);
    ptrs.push_back(t);
    names.push_back(in.name.c_str());
  }
  const char *const *name_ptr = inputs.named() ? names.data() : nullptr;
  auto call = [&]() -> bool {
    ti_outputs_t *out = nullptr;
    err = ti_model_run(model, s.method.c_str(), name_ptr, ptrs.data(), ptrs.size(), nullptr, &out);
    ti_outputs_free(out);
    return err == nullptr;
  };
  for (int i = 0; err == nullptr && i < s.warmup && !sh->stop.load(); ++i) call();

  std::unique_lock<std::mutex> lock(sh->mu);
  if (err) {
    if (sh->error == nullptr) sh->error = err; else ti_error_free(err);
    err = nullptr;
    sh->stop = true;
  }
  ++sh->ready;
  sh->cv.notify_all();
  sh->cv.wait(lock, [&] { return sh->go; });
  lock.unlock();

  me->latencies_us.reserve(s.iterations > 0 ? static_cast<size_t>(s.iterations) / s.callers + 1 : 4096);
  while (!sh->stop.load(std::memory_order_relaxed)) {
    if (s.iterations > 0) {
      if (sh->claimed.fetch_add(1) >= s.iterations) break;
    } else if (Clock::now() >= sh->deadline) {
      break;
    }
    const Clock::time_point t0 = Clock::now();
    if (!call()) break;
    const Clock::time_point t1 = Clock::now();
    me->latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    sh->done.fetch_add(1, std::memory_order_relaxed);
  }
  me->end = Clock::now();
  if (err) {
    std::lock_guard<std::mutex> g(sh->mu);
    if (sh->error == nullptr) sh->error = err; else ti_error_free(err);
    sh->stop = true;
  }
}

// "5.61 us", "1.23 ms", "2.50 s"
std::string duration_text(double us) {
  char buf[32];
  if (us < 1000)
    std::snprintf(buf, sizeof buf, "%.2f us", us);
  else if (us < 1e6)
    std::snprintf(buf, sizeof buf, "%.2f ms", us / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2f s", us / 1e6);
  return buf;
}

double percentile(const std::vector<double> &sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

}  // namespace

int cmd_bench(int argc, char **argv) {
  Settings s;
  bool have_seconds = false;
  Args args("bench", argc, argv);
  while (args.next()) {
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (args.flag("--json")) {
      s.json = true;
    } else if (args.is("--input")) {
      s.specs.push_back(args.value());
    } else if (args.is("--method")) {
      s.method = args.value();
    } else if (args.is("--device")) {
      s.device = args.value();
    } else if (args.is("--threads")) {
      s.callers = args.int_value(1);
    } else if (args.is("--intra-op-threads")) {
      s.intra_op = args.int_value(1);
    } else if (args.is("--seconds")) {
      s.seconds = args.double_value(0);
      have_seconds = true;
    } else if (args.is("--iterations")) {
      s.iterations = args.int_value(1);
    } else if (args.is("--warmup")) {
      s.warmup = args.int_value(0);
    } else if (args.positional()) {
      if (s.model_path.empty())
        s.model_path = args.arg();
      else
        s.specs.push_back(args.arg());
    } else {
      args.unknown();
    }
  }
  if (s.model_path.empty()) usage_error("bench", "missing MODEL");
  if (have_seconds && s.iterations > 0) usage_error("bench", "give --seconds or --iterations, not both");

  if (s.intra_op > 0) check(ti_set_num_threads(s.intra_op), "--intra-op-threads");
  ModelPtr model = load_model(s.model_path, s.device);
  const Inputs inputs = read_inputs("bench", s.specs);

  Shared sh;
  std::vector<Caller> callers(static_cast<size_t>(s.callers));
  std::vector<std::thread> threads;
  for (Caller &c : callers)
    threads.emplace_back(caller_loop, std::cref(s), model.get(), std::cref(inputs), &sh, &c);
  {
    std::unique_lock<std::mutex> lock(sh.mu);
    sh.cv.wait(lock, [&] { return sh.ready == s.callers; });
    sh.start = Clock::now();
    sh.deadline = sh.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
    sh.go = true;
    sh.cv.notify_all();
  }
  const bool progress = ::isatty(STDERR_FILENO) == 1;
  if (progress) {
    // Polls the shared count until every caller is done; the callers never wait on this.
    std::atomic<bool> finished{false};
    std::thread drawer([&] {
      while (!finished.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const double t = std::chrono::duration<double>(Clock::now() - sh.start).count();
        const long n = sh.done.load();
        if (s.iterations > 0)
          std::fprintf(stderr, "\r\033[Kbench: %ld/%ld calls, %.1f s, %.1f calls/s", n, s.iterations, t, n / t);
        else
          std::fprintf(stderr, "\r\033[Kbench: %ld calls, %.1f/%.1f s, %.1f calls/s", n, t, s.seconds, n / t);
        std::fflush(stderr);
      }
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    });
    for (std::thread &t : threads) t.join();
    finished = true;
    drawer.join();
  } else {
    for (std::thread &t : threads) t.join();
  }
  if (sh.error) check(sh.error);  // the message names the method

  std::vector<double> all;
  Clock::time_point end = sh.start;
  for (const Caller &c : callers) {
    all.insert(all.end(), c.latencies_us.begin(), c.latencies_us.end());
    end = std::max(end, c.end);
  }
  std::sort(all.begin(), all.end());
  const double wall = std::chrono::duration<double>(end - sh.start).count();
  double sum = 0;
  for (double v : all) sum += v;
  const double n = static_cast<double>(all.size());
  const double mean = all.empty() ? 0 : sum / n;
  const double throughput = wall > 0 ? n / wall : 0;
  auto ms = [](double us) { return us / 1000.0; };

  if (s.json) {
    nlohmann::ordered_json j;
    j["model"] = s.model_path;
    j["format"] = ti_model_format(model.get());
    j["device"] = ti_model_device(model.get());
    j["method"] = s.method;
    j["callers"] = s.callers;
    j["intra_op_threads"] = ti_get_num_threads();
    j["warmup_per_caller"] = s.warmup;
    j["calls"] = all.size();
    j["seconds"] = wall;
    j["throughput_per_s"] = throughput;
    j["latency_ms"] = {{"mean", ms(mean)},
                       {"min", ms(all.empty() ? 0 : all.front())},
                       {"p50", ms(percentile(all, 50))},
                       {"p90", ms(percentile(all, 90))},
                       {"p99", ms(percentile(all, 99))},
                       {"max", ms(all.empty() ? 0 : all.back())}};
    j["torchinfer_version"] = ti_version();
    j["torch_version"] = ti_torch_version();
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model:      %s (%s, %s), method %s\n", s.model_path.c_str(), ti_model_format(model.get()),
              ti_model_device(model.get()), s.method.c_str());
  std::printf("callers:    %d concurrent, %d intra-op threads, %d warm-up calls each\n", s.callers,
              ti_get_num_threads(), s.warmup);
  std::printf("calls:      %zu in %.3f s\n", all.size(), wall);
  std::printf("throughput: %.1f calls/s\n", throughput);
  const double lo = all.empty() ? 0 : all.front(), hi = all.empty() ? 0 : all.back();
  std::printf("latency:    p50 %s  p90 %s  p99 %s  (mean %s, min %s, max %s)\n",
              duration_text(percentile(all, 50)).c_str(), duration_text(percentile(all, 90)).c_str(),
              duration_text(percentile(all, 99)).c_str(), duration_text(mean).c_str(), duration_text(lo).c_str(),
              duration_text(hi).c_str());
  return 0;
}

}  // namespace cli

// torchinfer bench: latency percentiles and throughput of one method with fixed inputs, called
// directly or through a dynamic batcher, or both (--compare).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unistd.h>

#include "blas.h"
#include "cli.h"

namespace cli {
namespace {

using Clock = std::chrono::steady_clock;

const char kHelp[] =
    "Usage: torchinfer bench MODEL --input INPUT... [OPTIONS]\n"
    "\n"
    "Calls a method repeatedly with the same inputs and prints latency percentiles\n"
    "(p50/p90/p99 by nearest rank, plus mean, min and max) and throughput (calls/s over the\n"
    "wall time of the measured phase), and the BLAS LibTorch uses. A progress line is drawn\n"
    "on stderr when it is a terminal.\n"
    "\n"
    "  --input INPUT         FILE.npy, NAME=FILE.npy or PATH=VALUE, repeatable (as for\n"
    "                        'run'); inputs may also follow MODEL without --input\n"
    "  --method M            the method to run (default: forward)\n"
    "  --threads N           N concurrent callers, each its own OS thread calling the same\n"
    "                        model with its own copy of the inputs (default: 1)\n"
    "  --intra-op-threads N  LibTorch's intra-op thread count for every call\n"
    "                        (ti_set_num_threads; default: LibTorch's)\n"
    "  --seconds S           measure for S seconds (default: 3)\n"
    "  --iterations K        measure exactly K calls in all, shared among the callers\n"
    "  --warmup K            untimed calls per caller before measuring (default: 10)\n"
    "  --json                print a JSON object instead of text\n"
    "  -h, --help            this help\n"
    "\n"
    "Dynamic batching (tensor inputs whose dimension 0 is the batch dimension):\n"
    "  --batch N             the callers call ti_batcher_run on one batcher with max batch N\n"
    "                        rows instead of the model directly; also prints the mean batch\n"
    "                        size (requests per model call, from ti_batcher_stats)\n"
    "  --batch-delay-us US   how long a worker waits for more rows (default: 0)\n"
    "  --batch-workers N     batcher worker threads (default: 1)\n"
    "  --batch-queue N       the most queued requests (default: 1024)\n"
    "  --compare             measure direct calls, then the same callers through the\n"
    "                        batcher (--batch N, default 32), and print both and the ratios\n"
    "                        batched/direct of throughput and of p50 and p99 latency\n";

struct Settings {
  std::string model_path, method = "forward";
  ModelOptions model_options;
  std::vector<std::string> specs;
  int callers = 1, intra_op = 0, warmup = 10;
  double seconds = 3;
  long iterations = 0;  // 0: run for `seconds`
  bool json = false;
  int64_t batch = 0;  // max batch rows; 0: no batcher (unless compare)
  int64_t batch_delay_us = 0, batch_queue = 1024;
  int batch_workers = 1;
  bool compare = false;
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

// One request of one caller: a direct call (Call::run) or a batcher request.
ti_error_t *request(const Call &call, ti_batcher_t *batcher, ti_outputs_t **out) {
  if (batcher) return ti_batcher_run(batcher, call.names(), call.tensors(), call.count(), nullptr, out);
  return call.run(nullptr, out);
}

void caller_loop(const Settings &s, const Call *call, ti_batcher_t *batcher, Shared *sh, Caller *me) {
  ti_error_t *err = nullptr;
  auto once = [&]() -> bool {
    ti_outputs_t *out = nullptr;
    err = request(*call, batcher, &out);
    ti_outputs_free(out);
    return err == nullptr;
  };
  for (int i = 0; err == nullptr && i < s.warmup && !sh->stop.load(); ++i) once();

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
    if (!once()) break;
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

// The figures of one measured phase.
struct Phase {
  bool batched = false;
  std::vector<double> sorted_us;  // every measured call's latency
  double wall = 0, mean = 0, throughput = 0;
  int64_t requests = 0, batches = 0;  // batcher counters over the measured phase

  double p(double pct) const { return percentile(sorted_us, pct); }
  double mean_batch() const { return batches > 0 ? static_cast<double>(requests) / batches : 0; }
};

// Runs the callers (warm-up, then the measured phase) directly or through `batcher`.
Phase measure(const Settings &s, const std::vector<std::unique_ptr<Call>> &calls, ti_batcher_t *batcher) {
  Shared sh;
  std::vector<Caller> callers(static_cast<size_t>(s.callers));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < callers.size(); ++i)
    threads.emplace_back(caller_loop, std::cref(s), calls[i].get(), batcher, &sh, &callers[i]);
  int64_t requests0 = 0, batches0 = 0;
  {
    std::unique_lock<std::mutex> lock(sh.mu);
    sh.cv.wait(lock, [&] { return sh.ready == s.callers; });
    ti_batcher_stats(batcher, &requests0, &batches0);  // every warm-up request has been answered
    sh.start = Clock::now();
    sh.deadline = sh.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
    sh.go = true;
    sh.cv.notify_all();
  }
  const bool progress = ::isatty(STDERR_FILENO) == 1;
  const char *unit = batcher ? "requests" : "calls";
  if (progress) {
    // Polls the shared count until every caller is done; the callers never wait on this.
    std::atomic<bool> finished{false};
    std::thread drawer([&] {
      while (!finished.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const double t = std::chrono::duration<double>(Clock::now() - sh.start).count();
        const long n = sh.done.load();
        if (s.iterations > 0)
          std::fprintf(stderr, "\r\033[Kbench: %ld/%ld %s, %.1f s, %.1f %s/s", n, s.iterations, unit, t, n / t, unit);
        else
          std::fprintf(stderr, "\r\033[Kbench: %ld %s, %.1f/%.1f s, %.1f %s/s", n, unit, t, s.seconds, n / t, unit);
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

  Phase ph;
  ph.batched = batcher != nullptr;
  Clock::time_point end = sh.start;
  for (const Caller &c : callers) {
    ph.sorted_us.insert(ph.sorted_us.end(), c.latencies_us.begin(), c.latencies_us.end());
    end = std::max(end, c.end);
  }
  std::sort(ph.sorted_us.begin(), ph.sorted_us.end());
  ph.wall = std::chrono::duration<double>(end - sh.start).count();
  double sum = 0;
  for (double v : ph.sorted_us) sum += v;
  const double n = static_cast<double>(ph.sorted_us.size());
  ph.mean = ph.sorted_us.empty() ? 0 : sum / n;
  ph.throughput = ph.wall > 0 ? n / ph.wall : 0;
  int64_t requests1 = 0, batches1 = 0;
  ti_batcher_stats(batcher, &requests1, &batches1);
  ph.requests = requests1 - requests0;
  ph.batches = batches1 - batches0;
  return ph;
}

nlohmann::ordered_json phase_json(const Phase &ph) {
  auto ms = [](double us) { return us / 1000.0; };
  nlohmann::ordered_json j;
  j["mode"] = ph.batched ? "batched" : "direct";
  j["calls"] = ph.sorted_us.size();
  j["seconds"] = ph.wall;
  j["throughput_per_s"] = ph.throughput;
  j["latency_ms"] = {{"mean", ms(ph.mean)},
                     {"min", ms(ph.sorted_us.empty() ? 0 : ph.sorted_us.front())},
                     {"p50", ms(ph.p(50))},
                     {"p90", ms(ph.p(90))},
                     {"p99", ms(ph.p(99))},
                     {"max", ms(ph.sorted_us.empty() ? 0 : ph.sorted_us.back())}};
  if (ph.batched) {
    j["batches"] = ph.batches;
    j["mean_batch_size"] = ph.mean_batch();
  }
  return j;
}

void print_phase(const Phase &ph, const char *indent) {
  const std::vector<double> &all = ph.sorted_us;
  const char *unit = ph.batched ? "requests" : "calls";
  if (ph.batched)
    std::printf("%srequests:   %zu in %.3f s\n", indent, all.size(), ph.wall);
  else
    std::printf("%scalls:      %zu in %.3f s\n", indent, all.size(), ph.wall);
  std::printf("%sthroughput: %.1f %s/s\n", indent, ph.throughput, unit);
  const double lo = all.empty() ? 0 : all.front(), hi = all.empty() ? 0 : all.back();
  std::printf("%slatency:    p50 %s  p90 %s  p99 %s  (mean %s, min %s, max %s)\n", indent,
              duration_text(ph.p(50)).c_str(), duration_text(ph.p(90)).c_str(), duration_text(ph.p(99)).c_str(),
              duration_text(ph.mean).c_str(), duration_text(lo).c_str(), duration_text(hi).c_str());
  if (ph.batched)
    std::printf("%sbatches:    mean %.2f requests per model call (%lld requests in %lld calls)\n", indent,
                ph.mean_batch(), static_cast<long long>(ph.requests), static_cast<long long>(ph.batches));
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

}  // namespace

int cmd_bench(int argc, char **argv) {
  Settings s;
  bool have_seconds = false, have_batch_option = false;
  Args args("bench", argc, argv);
  while (args.next()) {
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kHelp, stdout);
      std::fputs("\nLoading the model:\n", stdout);
      std::fputs(kModelOptionsHelp, stdout);
      return 0;
    } else if (args.flag("--json")) {
      s.json = true;
    } else if (args.is("--input")) {
      s.specs.push_back(args.value());
    } else if (args.is("--method")) {
      s.method = args.value();
    } else if (s.model_options.parse(args)) {
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
    } else if (args.is("--batch")) {
      s.batch = args.int_value(1);
    } else if (args.is("--batch-delay-us")) {
      s.batch_delay_us = args.int_value(0);
      have_batch_option = true;
    } else if (args.is("--batch-workers")) {
      s.batch_workers = args.int_value(1);
      have_batch_option = true;
    } else if (args.is("--batch-queue")) {
      s.batch_queue = args.int_value(1);
      have_batch_option = true;
    } else if (args.flag("--compare")) {
      s.compare = true;
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
  if (have_batch_option && s.batch == 0 && !s.compare)
    usage_error("bench", "--batch-delay-us, --batch-workers and --batch-queue need --batch or --compare");
  if (s.compare && s.batch == 0) s.batch = 32;
  const bool batching = s.batch > 0;

  if (s.intra_op > 0) check(ti_set_num_threads(s.intra_op), "--intra-op-threads");
  const Inputs inputs = read_inputs("bench", s.specs);
  if (batching && !inputs.plain())
    usage_error("bench", "--batch and --compare take tensor inputs only (FILE.npy or NAME=FILE.npy)");
  ModelPtr model = load_model(s.model_path, s.model_options);
  // Every caller's own copy of the inputs, made here so that a bad path fails before any thread starts.
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < s.callers; ++i) calls.push_back(std::make_unique<Call>(model.get(), s.method, inputs));

  Phase direct, batched;
  if (!batching || s.compare) direct = measure(s, calls, nullptr);
  if (batching) {
    std::unique_ptr<ti_batcher_options_t, void (*)(ti_batcher_options_t *)> bo(ti_batcher_options_create(),
                                                                                ti_batcher_options_free);
    if (!bo) throw Error(ti_code_name(TI_ERR_OUT_OF_MEMORY), "cannot allocate batcher options");
    check(ti_batcher_options_set_max_batch(bo.get(), s.batch), "--batch");
    check(ti_batcher_options_set_max_delay_us(bo.get(), s.batch_delay_us), "--batch-delay-us");
    check(ti_batcher_options_set_workers(bo.get(), s.batch_workers), "--batch-workers");
    check(ti_batcher_options_set_max_queue(bo.get(), s.batch_queue), "--batch-queue");
    ti_batcher_t *raw = nullptr;
    check(ti_batcher_create(model.get(), s.method.c_str(), bo.get(), &raw));
    std::unique_ptr<ti_batcher_t, void (*)(ti_batcher_t *)> batcher(raw, ti_batcher_free);
    batched = measure(s, calls, batcher.get());
  }
  const blas::Info blas_info = blas::detect();

  if (s.json) {
    nlohmann::ordered_json j;
    j["model"] = s.model_path;
    j["format"] = ti_model_format(model.get());
    j["device"] = ti_model_device(model.get());
    j["method"] = s.method;
    j["callers"] = s.callers;
    j["intra_op_threads"] = ti_get_num_threads();
    j["warmup_per_caller"] = s.warmup;
    if (batching)
      j["batcher"] = {{"max_batch", s.batch}, {"max_delay_us", s.batch_delay_us},
                      {"workers", s.batch_workers}, {"max_queue", s.batch_queue}};
    if (s.compare) {
      j["direct"] = phase_json(direct);
      j["batched"] = phase_json(batched);
      j["ratio"] = {{"throughput", ratio(batched.throughput, direct.throughput)},
                    {"p50", ratio(batched.p(50), direct.p(50))},
                    {"p99", ratio(batched.p(99), direct.p(99))}};
    } else {
      j.update(phase_json(batching ? batched : direct));
    }
    j["torchinfer_version"] = ti_version();
    j["torch_version"] = ti_torch_version();
    j["blas"] = {{"name", blas_info.name}, {"path", blas_info.path}, {"slow", blas_info.slow}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model:      %s (%s, %s), method %s\n", s.model_path.c_str(), ti_model_format(model.get()),
              ti_model_device(model.get()), s.method.c_str());
  std::printf("callers:    %d concurrent, %d intra-op threads, %d warm-up calls each\n", s.callers,
              ti_get_num_threads(), s.warmup);
  if (batching)
    std::printf("batcher:    max batch %lld, max delay %lld us, %d worker%s, max queue %lld\n",
                static_cast<long long>(s.batch), static_cast<long long>(s.batch_delay_us), s.batch_workers,
                s.batch_workers == 1 ? "" : "s", static_cast<long long>(s.batch_queue));
  std::printf("blas:       %s\n", blas_info.text().c_str());
  if (!s.compare) {
    print_phase(batching ? batched : direct, "");
    return 0;
  }
  std::printf("direct (ti_model_run):\n");
  print_phase(direct, "  ");
  std::printf("batched (ti_batcher_run):\n");
  print_phase(batched, "  ");
  std::printf("batched/direct: throughput %.2fx, p50 latency %.2fx, p99 latency %.2fx\n",
              ratio(batched.throughput, direct.throughput), ratio(batched.p(50), direct.p(50)),
              ratio(batched.p(99), direct.p(99)));
  return 0;
}

}  // namespace cli

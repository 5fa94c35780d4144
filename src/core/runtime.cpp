#include "core/runtime.h"

#include "core/error.h"

#include <ATen/Parallel.h>
#include <c10/util/Backtrace.h>
#include <c10/util/Logging.h>
#include <torch/version.h>

#include <atomic>
#include <string>

namespace ti::core {
namespace {

std::atomic<int> g_num_threads{0};  // 0: never set, keep LibTorch's default

// at::set_num_threads is per OS thread under OpenMP (it sets the calling thread's ICV), so it
// is re-applied whenever the calling thread disagrees with the process-wide setting.
void apply_num_threads() {
  const int wanted = g_num_threads.load(std::memory_order_relaxed);
  if (wanted > 0 && at::get_num_threads() != wanted) at::set_num_threads(wanted);
}

#if TORCH_VERSION_MAJOR < 2
thread_local int t_quiet_depth = 0;

// Replaces c10's stack-trace fetcher once, when the library is loaded: inside a library call
// it returns nothing; anywhere else it does what LibTorch's default does.
const bool g_fetcher_installed = [] {
  c10::SetStackTraceFetcher([]() -> std::string {
    if (t_quiet_depth > 0) return std::string();
    return c10::get_backtrace(/*frames_to_skip=*/1);
  });
  return true;
}();
#endif

}  // namespace

#if TORCH_VERSION_MAJOR < 2
QuietBacktraces::QuietBacktraces() noexcept { ++t_quiet_depth; }
QuietBacktraces::~QuietBacktraces() { --t_quiet_depth; }
#else
QuietBacktraces::QuietBacktraces() noexcept = default;
QuietBacktraces::~QuietBacktraces() = default;
#endif

void set_num_threads(int n) {
  if (n < 1 || n > kMaxThreads) {
    fail(ErrorKind::InvalidArgument, "the number of threads must be from 1 to " +
                                         std::to_string(kMaxThreads) + ", got " + std::to_string(n));
  }
  g_num_threads.store(n, std::memory_order_relaxed);
  at::set_num_threads(n);
}

int num_threads() {
  const int n = g_num_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : at::get_num_threads();
}

CallScope::CallScope(const c10::Device& device) {
  apply_num_threads();
  if (!device.is_cpu()) device_guard_.reset_device(device);
}

}  // namespace ti::core

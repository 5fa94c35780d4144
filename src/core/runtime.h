// Process-wide settings and the per-call scope that applies LibTorch's thread-local state.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/InferenceMode.h>

namespace ti::core {

// The most intra-op threads ti_set_num_threads accepts: LibTorch starts them all at once.
constexpr int kMaxThreads = 1024;

// Intra-op threads for every later call (1 <= n <= kMaxThreads; throws InvalidArgument otherwise).
void set_num_threads(int n);
// The value set, or LibTorch's default when none was set.
int num_threads();

// Entered by every call that runs a model or touches tensor data. The caller's OS thread
// may be new each time (Go, JNA), so everything LibTorch keeps per thread is set here:
// inference mode, the intra-op thread count and, for CUDA models, the current device.
// While alive on a thread, LibTorch 1.x errors raised on that thread skip the C++ backtrace
// that c10::Error would otherwise symbolise at construction (milliseconds per error, which made
// a rejected call ~750x the cost of a good one). The library's messages never included the
// backtrace. LibTorch 2.x captures backtraces lazily, so there this does nothing.
class QuietBacktraces {
 public:
  QuietBacktraces() noexcept;
  ~QuietBacktraces();
  QuietBacktraces(const QuietBacktraces&) = delete;
  QuietBacktraces& operator=(const QuietBacktraces&) = delete;
};

class CallScope {
 public:
  explicit CallScope(const c10::Device& device);
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  QuietBacktraces quiet_;
  c10::InferenceMode inference_mode_;
  c10::OptionalDeviceGuard device_guard_;
};

}  // namespace ti::core

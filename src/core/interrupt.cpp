#include "core/interrupt.h"

#include "core/error.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include <cstdio>

namespace ti::core {
namespace {

// A functionality key that LibTorch reserves for a thread-local mode and registers nothing
// for in its shipped libraries (only its own C++ tests use it). It sits above autograd and the
// backends, so its fallback runs before any kernel, and it reaches an operator only on a
// thread that includes it.
constexpr c10::DispatchKey kCheckKey = c10::DispatchKey::TESTING_ONLY_GenericMode;

thread_local CallControl* t_call = nullptr;

void check_then_redispatch(const c10::OperatorHandle& op, c10::DispatchKeySet keys,
                           torch::jit::Stack* stack) {
  if (CallControl* call = t_call) call->check();
  op.redispatchBoxed(keys & c10::DispatchKeySet(c10::DispatchKeySet::FULL_AFTER, kCheckKey), stack);
}

bool register_fallback() noexcept {
  try {
    // Deregistered when the library is unloaded.
    static torch::Library library(torch::Library::IMPL, "_", kCheckKey, __FILE__, __LINE__);
    library.fallback(torch::CppFunction::makeFromBoxedFunction<&check_then_redispatch>());
    return true;
  } catch (...) {
    return false;  // someone else registered this key: calls are checked before and after only
  }
}

// "5 ms", "1.5 ms", "0.25 ms"
std::string format_ms(int64_t us) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us) / 1000.0);
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + " ms";
}

int64_t micros_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace

bool operator_checks_available() {
  static const bool available = register_fallback();
  return available;
}

CallControl::CallControl(const RunControl& control)
    : control_(control),
      start_(std::chrono::steady_clock::now()),
      timeout_us_(control.timeout_us.load(std::memory_order_relaxed)) {
  // A timeout past what steady_clock can represent (about 292 years) is no timeout.
  constexpr int64_t kMaxTimeoutUs = std::chrono::steady_clock::duration::max().count() / 1000 / 4;
  if (timeout_us_ > kMaxTimeoutUs) timeout_us_ = 0;
  if (timeout_us_ > 0) deadline_ = start_ + std::chrono::microseconds(timeout_us_);
  if (control_.cancelled.load(std::memory_order_relaxed)) {
    tripped_ = Tripped::Cancelled;
    message_ = "cancelled before the call started (run options are cancelled for good)";
    fail(ErrorKind::Cancelled, message_);
  }
}

void CallControl::check() {
  if (control_.cancelled.load(std::memory_order_relaxed)) trip(Tripped::Cancelled);
  if (timeout_us_ > 0 && std::chrono::steady_clock::now() >= deadline_) trip(Tripped::Deadline);
}

void CallControl::trip(Tripped why) {
  const int64_t elapsed = micros_since(start_);
  tripped_ = why;
  message_ = why == Tripped::Cancelled
                 ? "cancelled after " + format_ms(elapsed)
                 : "timeout " + format_ms(timeout_us_) + " exceeded after " + format_ms(elapsed);
  // Plain runtime_error: the interpreter rewraps whatever it catches, and LibTorch's own
  // error types would capture a backtrace. rethrow_if_tripped restores the kind.
  throw std::runtime_error(message_);
}

void CallControl::rethrow_if_tripped() const {
  if (tripped_ == Tripped::No) return;
  fail(tripped_ == Tripped::Cancelled ? ErrorKind::Cancelled : ErrorKind::DeadlineExceeded, message_);
}

OperatorChecks::OperatorChecks(CallControl& call) : previous_(t_call) {
  if (!operator_checks_available()) return;
  t_call = &call;
  included_ = !c10::impl::tls_is_dispatch_key_included(kCheckKey);
  if (included_) c10::impl::tls_set_dispatch_key_included(kCheckKey, true);
}

OperatorChecks::~OperatorChecks() {
  if (included_) c10::impl::tls_set_dispatch_key_included(kCheckKey, false);
  t_call = previous_;
}

}  // namespace ti::core

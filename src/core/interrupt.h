// Timeouts and cancellation of running calls (ti_run_options_t).
//
// A TorchScript call is stopped at its next operator boundary: while a call with run options
// runs, the calling thread includes a dispatch key whose fallback kernel checks the call's
// cancel switch and deadline before every ATen operator and throws when either tripped. The
// key is included only for such calls, so a call without options dispatches exactly as
// before, and the rest of the process (a host using LibTorch directly) never sees it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace ti::core {

// The shared state behind one ti_run_options_t. Any number of calls may use it at once.
struct RunControl {
  std::atomic<bool> cancelled{false};
  std::atomic<int64_t> timeout_us{0};  // 0: none
};

// One call's view of its RunControl: when it started, its deadline, and what stopped it.
class CallControl {
 public:
  // Throws Cancelled / DeadlineExceeded when the options were cancelled before the call.
  explicit CallControl(const RunControl& control);

  // Throws when cancelled or past the deadline, recording why (see rethrow_if_tripped).
  void check();
  // Inside a catch block: if this call's check() tripped (the exception being handled came
  // from it, possibly rewrapped by the TorchScript interpreter), throws the call's own
  // Cancelled / DeadlineExceeded error instead. Otherwise returns.
  void rethrow_if_tripped() const;

 private:
  enum class Tripped { No, Cancelled, Deadline };
  [[noreturn]] void trip(Tripped why);

  const RunControl& control_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point deadline_;
  int64_t timeout_us_;
  Tripped tripped_ = Tripped::No;
  std::string message_;
};

// While alive, ATen operators dispatched on this thread call `call.check()` first. Returns
// without installing anything (checks happen only before and after the call) if LibTorch
// refused the dispatcher registration, which `operator_checks_available` reports.
class OperatorChecks {
 public:
  explicit OperatorChecks(CallControl& call);
  ~OperatorChecks();
  OperatorChecks(const OperatorChecks&) = delete;
  OperatorChecks& operator=(const OperatorChecks&) = delete;

 private:
  CallControl* previous_;
  bool included_ = false;
};

bool operator_checks_available();

}  // namespace ti::core

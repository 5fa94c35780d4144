// Dynamic batching inside the caller's process (ti_batcher_t): callers queue requests of a few
// rows and block; worker threads run queued requests with the same input signature as one call
// on the concatenated rows and split each result leaf back by rows.
//
// Shutdown order (the destructor): stop accepting; fail every queued request with Unavailable;
// let running batches finish and deliver; join the workers.
#pragma once

#include "core/batching/policy.h"
#include "core/model.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ti::core::batching {

struct BatcherOptions {
  BatchLimits limits;
  int64_t max_queue = 1024;
  int workers = 1;
};

class Batcher {
 public:
  // `model` and `method` must outlive the batcher. Throws InvalidArgument for a method the
  // batcher cannot serve (no tensor argument; a .pt2 input whose dimension 0 is static).
  Batcher(const Model& model, const MethodSpec& method, const BatcherOptions& options);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // One request: blocks until its own leaves are in `out`, or throws (its own error,
  // Cancelled / DeadlineExceeded from `control`, Unavailable when the queue is full or the
  // batcher stops). `names` null: positional inputs.
  void run(const char* const* names, const at::Tensor* const* inputs, size_t n, const RunControl* control,
           Leaves& out);

  int64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  int64_t batches() const { return batches_.load(std::memory_order_relaxed); }

  struct Request;
  struct Batch;

 private:
  void work();
  void run_batch(std::vector<std::shared_ptr<Request>>& batch);
  void run_alone(Request& r);
  bool try_batched(std::vector<std::shared_ptr<Request>>& batch);

  const Model& model_;
  const MethodSpec& method_;
  const BatcherOptions options_;

  std::mutex mutex_;
  std::condition_variable work_ready_;  // a worker waits here for requests
  std::deque<std::shared_ptr<Request>> queue_;
  bool stopping_ = false;
  int64_t callers_ = 0;                   // callers inside run() after queueing
  std::condition_variable callers_gone_;  // the destructor waits for callers_ == 0
  std::atomic<bool> batching_{true};  // false after a result that cannot be split
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> batches_{0};
  std::vector<std::thread> workers_;
};

}  // namespace ti::core::batching

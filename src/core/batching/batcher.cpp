#include "core/batching/batcher.h"

#include "core/error.h"
#include "core/interrupt.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace ti::core::batching {

struct Batcher::Batch {
  RunControl control;  // cancelled when every request in the batch was abandoned
  size_t size = 0;
  size_t abandoned = 0;
};

struct Batcher::Request {
  std::vector<at::Tensor> inputs;
  std::vector<std::string> names;  // empty: positional
  std::string key;
  int64_t rows = 0;
  Clock::time_point arrival;
  // The worker never sees the caller's run options (the caller may free them once it has
  // returned): a request that runs alone runs under its own control, cancelled when its caller
  // leaves.
  RunControl own;
  // Guarded by the batcher's mutex.
  enum class State { Queued, Running, Done, Abandoned } state = State::Queued;
  std::shared_ptr<Batch> batch;  // while it runs batched with others
  std::condition_variable done;  // its caller waits here: one wake per request
  // Written by the worker before state becomes Done.
  Leaves out;
  std::exception_ptr error;
};

namespace {

// "x:float32:cpu:[8]|mask:int64:cpu:[8]": what requests must share to run in one call.
std::string signature(const std::vector<std::string>& names, const std::vector<at::Tensor>& inputs) {
  std::string key;
  for (size_t i = 0; i < inputs.size(); ++i) {
    key += names.empty() ? std::to_string(i) : names[i];
    key += ':';
    key += c10::toString(inputs[i].scalar_type());
    key += ':';
    key += inputs[i].device().str();
    key += ":[";
    for (int64_t d = 1; d < inputs[i].dim(); ++d) key += std::to_string(inputs[i].size(d)) + ",";
    key += "]|";
  }
  return key;
}

std::string input_label(const char* const* names, size_t i) {
  return names ? "'" + std::string(names[i]) + "'" : std::to_string(i);
}

}  // namespace

Batcher::Batcher(const Model& model, const MethodSpec& method, const BatcherOptions& options)
    : model_(model), method_(method), options_(options) {
  bool any_tensor = false;
  for (const auto& a : method.args) {
    any_tensor = any_tensor || a.kind == ArgKind::Tensor || a.kind == ArgKind::OptionalTensor;
    if (a.static_batch) {
      fail(ErrorKind::InvalidArgument, "input '" + a.name + "' of method '" + method.name + "' has a static " +
                                           "dimension 0 (" + a.type + "): export the package with a dynamic " +
                                           "batch dimension to batch it");
    }
  }
  if (!any_tensor) {
    fail(ErrorKind::InvalidArgument, "method '" + method.name + "' takes no tensor argument: nothing to batch");
  }
  workers_.reserve(static_cast<size_t>(options.workers));
  try {
    for (int i = 0; i < options.workers; ++i) workers_.emplace_back([this] { work(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& w : workers_) w.join();
    throw;
  }
}

Batcher::~Batcher() {
  std::unique_lock<std::mutex> lock(mutex_);
  stopping_ = true;
  for (auto& r : queue_) {
    r->error = std::make_exception_ptr(Error(ErrorKind::Unavailable, "the batcher was freed while the request was queued"));
    r->state = Request::State::Done;
    r->done.notify_one();
  }
  queue_.clear();
  lock.unlock();
  work_ready_.notify_all();
  for (auto& w : workers_) w.join();  // running batches finish and deliver first
  lock.lock();
  callers_gone_.wait(lock, [this] { return callers_ == 0; });
}

void Batcher::run(const char* const* names, const at::Tensor* const* inputs, size_t n, const RunControl* control,
                  Leaves& out) {
  Model::check_input_count(method_, n);
  if (n == 0) fail(ErrorKind::InvalidArgument, "a batcher request needs at least one input tensor");
  auto r = std::make_shared<Request>();
  r->inputs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const at::Tensor& t = *inputs[i];
    if (t.dim() == 0) {
      fail(ErrorKind::InvalidArgument, "input " + input_label(names, i) + " has no batch dimension (a 0-dim tensor)");
    }
    if (i == 0) r->rows = t.size(0);
    if (t.size(0) != r->rows) {
      fail(ErrorKind::InvalidArgument, "input " + input_label(names, i) + " has " + std::to_string(t.size(0)) +
                                           " rows and input " + input_label(names, 0) + " has " +
                                           std::to_string(r->rows) + ": every input's dimension 0 is the batch");
    }
    r->inputs.push_back(t);
    if (names) {
      const auto& args = method_.args;
      if (std::none_of(args.begin(), args.end(), [&](const ArgSpec& a) { return a.name == names[i]; })) {
        std::string valid;
        for (const auto& a : args) valid += (valid.empty() ? "" : ", ") + a.name;
        fail(ErrorKind::InvalidArgument, "unknown input name '" + std::string(names[i]) + "'; method '" +
                                             method_.name + "' takes: " + valid);
      }
      r->names.emplace_back(names[i]);
    }
  }
  if (r->rows == 0) fail(ErrorKind::InvalidArgument, "the request has 0 rows");
  r->key = signature(r->names, r->inputs);
  std::optional<CallControl> call;
  if (control) call.emplace(*control);  // throws when the options were cancelled already
  r->arrival = Clock::now();

  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) fail(ErrorKind::Unavailable, "the batcher is being freed");
  if (static_cast<int64_t>(queue_.size()) >= options_.max_queue) {
    fail(ErrorKind::Unavailable, "the batcher's queue is full (" + std::to_string(options_.max_queue) + " requests)");
  }
  queue_.push_back(r);
  ++callers_;
  work_ready_.notify_one();
  struct Leave {  // however run returns from here, the batcher may be freed once its callers left
    Batcher* b;
    std::unique_lock<std::mutex>& lock;
    ~Leave() {
      if (!lock.owns_lock()) lock.lock();
      b->requests_.fetch_add(1, std::memory_order_relaxed);
      if (--b->callers_ == 0 && b->stopping_) b->callers_gone_.notify_all();
    }
  } leave{this, lock};
  while (r->state != Request::State::Done) {
    if (!call) {
      r->done.wait(lock);
      continue;
    }
    // Run options cannot notify (cancelling is one atomic store): look every 250 µs.
    r->done.wait_for(lock, std::chrono::microseconds(250));
    if (r->state == Request::State::Done) break;
    try {
      call->check();
    } catch (...) {
      if (r->state == Request::State::Queued) {
        queue_.erase(std::find(queue_.begin(), queue_.end(), r));
      } else if (r->batch) {
        if (++r->batch->abandoned == r->batch->size) r->batch->control.cancelled.store(true);
      } else {
        r->own.cancelled.store(true);  // it runs alone: stop it at its next operator
      }
      r->state = Request::State::Abandoned;
      call->rethrow_if_tripped();
      throw;
    }
  }
  if (r->error) std::rethrow_exception(r->error);
  if (call) {
    // As ti_model_run: results that arrive after the deadline (or a cancel) are not returned.
    try {
      call->check();
    } catch (...) {
      call->rethrow_if_tripped();
      throw;
    }
  }
  for (auto& leaf : r->out) out.push_back(std::move(leaf));
}

void Batcher::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::deque<Queued> view;
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) return;
      work_ready_.wait(lock);
      continue;
    }
    Decision d;
    if (batching_.load(std::memory_order_relaxed)) {
      view.clear();
      for (const auto& r : queue_) view.push_back(Queued{&r->key, r->rows, r->arrival});
      d = decide(view, Clock::now(), options_.limits);
    } else {
      d.take.push_back(0);
    }
    if (d.take.empty()) {
      if (d.wait_until_set) {
        work_ready_.wait_until(lock, d.wait_until);
      } else {
        work_ready_.wait(lock);
      }
      continue;
    }
    std::vector<std::shared_ptr<Request>> batch;
    batch.reserve(d.take.size());
    for (size_t i : d.take) batch.push_back(queue_[i]);
    for (auto it = d.take.rbegin(); it != d.take.rend(); ++it) queue_.erase(queue_.begin() + static_cast<long>(*it));
    std::shared_ptr<Batch> shared;
    if (batch.size() > 1) {
      shared = std::make_shared<Batch>();
      shared->size = batch.size();
    }
    for (auto& r : batch) {
      r->state = Request::State::Running;
      r->batch = shared;
    }
    if (!queue_.empty()) work_ready_.notify_one();  // another worker may take the rest
    lock.unlock();
    run_batch(batch);
    lock.lock();
    for (auto& r : batch) {
      if (r->state == Request::State::Abandoned) continue;  // its caller has left: drop its rows
      r->state = Request::State::Done;
      r->done.notify_one();
    }
  }
}

void Batcher::run_batch(std::vector<std::shared_ptr<Request>>& batch) {
  if (batch.size() > 1 && try_batched(batch)) return;
  // One by one: alone, or after a batched call failed or gave a result that cannot be split.
  for (auto& r : batch) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (r->state == Request::State::Abandoned) continue;
      r->batch.reset();
    }
    run_alone(*r);
  }
}

void Batcher::run_alone(Request& r) {
  r.out.clear();
  std::vector<const at::Tensor*> ptrs;
  for (const auto& t : r.inputs) ptrs.push_back(&t);
  std::vector<const char*> names;
  for (const auto& n : r.names) names.push_back(n.c_str());
  batches_.fetch_add(1, std::memory_order_relaxed);
  try {
    if (names.empty()) {
      model_.run(method_, ptrs.data(), ptrs.size(), r.out, &r.own);
    } else {
      model_.run_named(method_, names.data(), ptrs.data(), ptrs.size(), r.out, &r.own);
    }
  } catch (...) {
    r.out.clear();
    r.error = std::current_exception();
  }
}

bool Batcher::try_batched(std::vector<std::shared_ptr<Request>>& batch) {
  const Request& first = *batch.front();
  const size_t n = first.inputs.size();
  int64_t total = 0;
  for (const auto& r : batch) total += r->rows;
  Leaves leaves;
  try {
    std::vector<at::Tensor> joined(n);
    std::vector<at::Tensor> parts(batch.size());
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < batch.size(); ++k) parts[k] = batch[k]->inputs[i];
      joined[i] = at::cat(parts, 0);
    }
    std::vector<const at::Tensor*> ptrs;
    for (const auto& t : joined) ptrs.push_back(&t);
    std::vector<const char*> names;
    for (const auto& s : first.names) names.push_back(s.c_str());
    batches_.fetch_add(1, std::memory_order_relaxed);
    if (names.empty()) {
      model_.run(method_, ptrs.data(), ptrs.size(), leaves, &first.batch->control);
    } else {
      model_.run_named(method_, names.data(), ptrs.data(), ptrs.size(), leaves, &first.batch->control);
    }
  } catch (...) {
    return false;  // each request runs alone and gets its own result or error
  }
  for (const auto& leaf : leaves) {
    if (leaf.kind == LeafKind::Tensor && leaf.tensor.dim() >= 1 && leaf.tensor.size(0) == total) continue;
    if (batching_.exchange(false)) {
      std::fprintf(stderr,
                   "torchinfer: batcher for method '%s': result leaf '%s' cannot be split by rows (dimension 0 "
                   "is not the batch's %lld rows); every request runs alone from now on\n",
                   method_.name.c_str(), leaf.name.c_str(), static_cast<long long>(total));
    }
    return false;
  }
  int64_t offset = 0;
  for (auto& r : batch) {
    r->out.clear();
    for (const auto& leaf : leaves) {
      r->out.push_back(Leaf{leaf.name, leaf.tensor.narrow(0, offset, r->rows), LeafKind::Tensor, std::string()});
    }
    offset += r->rows;
  }
  return true;
}

}  // namespace ti::core::batching

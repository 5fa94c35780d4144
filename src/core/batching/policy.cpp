#include "core/batching/policy.h"

namespace ti::core::batching {

Decision decide(const std::deque<Queued>& queue, Clock::time_point now, const BatchLimits& limits) {
  Decision d;
  if (queue.empty()) return d;
  const Queued& oldest = queue.front();
  d.take.push_back(0);
  if (oldest.rows >= limits.max_batch) return d;  // runs alone
  int64_t rows = oldest.rows;
  for (size_t i = 1; i < queue.size() && rows < limits.max_batch; ++i) {
    const Queued& q = queue[i];
    if (*q.key != *oldest.key || rows + q.rows > limits.max_batch) continue;
    d.take.push_back(i);
    rows += q.rows;
  }
  if (rows >= limits.max_batch || limits.max_delay.count() <= 0) return d;
  const Clock::time_point due = oldest.arrival + limits.max_delay;
  if (now >= due) return d;
  d.take.clear();
  d.wait_until_set = true;
  d.wait_until = due;
  return d;
}

}  // namespace ti::core::batching

// Which queued requests form the next batch, and when: a pure function of the queue and the
// clock, with no LibTorch and no threads, so tests drive it with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace ti::core::batching {

using Clock = std::chrono::steady_clock;

struct BatchLimits {
  int64_t max_batch = 32;                         // rows
  std::chrono::microseconds max_delay{0};         // wait for more rows after the oldest arrived
};

// What the policy needs to know about a queued request.
struct Queued {
  const std::string* key;  // input names, dtypes, devices and sizes but dimension 0
  int64_t rows;
  Clock::time_point arrival;
};

struct Decision {
  std::vector<size_t> take;  // queue positions to run now, oldest first (empty: nothing yet)
  bool wait_until_set = false;
  Clock::time_point wait_until;  // with nothing to take: wake then (unset: when a request arrives)
};

// The oldest request and the queued requests with its key that fit in max_batch rows, in queue
// order. A request larger than max_batch runs alone. A batch that is not full waits until
// max_delay after the oldest request's arrival; with max_delay 0 it runs at once.
Decision decide(const std::deque<Queued>& queue, Clock::time_point now, const BatchLimits& limits);

}  // namespace ti::core::batching

// The batch-forming policy and the path grammar, without LibTorch: a fake clock, no threads.
#include "core/batching/policy.h"
#include "core/values/path.h"

#include <gtest/gtest.h>

using namespace ti::core;
using batching::BatchLimits;
using batching::Clock;
using batching::decide;
using batching::Queued;
using std::chrono::microseconds;

namespace {

const std::string kA = "x:float32:cpu:[4,]|", kB = "x:float32:cpu:[3,]|";
const Clock::time_point t0{};

std::deque<Queued> queue(std::initializer_list<std::tuple<const std::string*, int64_t, int64_t>> items) {
  std::deque<Queued> q;
  for (const auto& [key, rows, at_us] : items) q.push_back({key, rows, t0 + microseconds(at_us)});
  return q;
}

TEST(Policy, TakesTheOldestAndWhatFitsWithTheSameKey) {
  BatchLimits limits{4, microseconds(0)};
  auto d = decide(queue({{&kA, 1, 0}, {&kB, 1, 1}, {&kA, 2, 2}, {&kA, 2, 3}, {&kA, 1, 4}}), t0, limits);
  EXPECT_EQ(d.take, (std::vector<size_t>{0, 2, 4}));  // 1 + 2 + 1 rows; the 2-row one at 3 does not fit
}

TEST(Policy, WaitsForMoreRowsUntilTheDelayThenRunsWhatThereIs) {
  BatchLimits limits{8, microseconds(500)};
  auto q = queue({{&kA, 1, 100}, {&kA, 2, 200}});
  auto d = decide(q, t0 + microseconds(300), limits);
  EXPECT_TRUE(d.take.empty());
  ASSERT_TRUE(d.wait_until_set);
  EXPECT_EQ(d.wait_until, t0 + microseconds(600));  // 500 µs after the oldest arrived
  d = decide(q, t0 + microseconds(600), limits);
  EXPECT_EQ(d.take, (std::vector<size_t>{0, 1}));
  // A full batch does not wait.
  d = decide(queue({{&kA, 4, 100}, {&kA, 4, 200}}), t0 + microseconds(250), limits);
  EXPECT_EQ(d.take, (std::vector<size_t>{0, 1}));
}

TEST(Policy, ALargeRequestRunsAloneAndAnEmptyQueueWaitsForArrivals) {
  BatchLimits limits{4, microseconds(1000)};
  auto d = decide(queue({{&kA, 9, 0}, {&kA, 1, 1}}), t0, limits);
  EXPECT_EQ(d.take, std::vector<size_t>{0});
  d = decide({}, t0, limits);
  EXPECT_TRUE(d.take.empty());
  EXPECT_FALSE(d.wait_until_set);
}

TEST(Path, ParsesEscapesAndRejectsMalformedPaths) {
  std::vector<std::string> segs;
  std::string error;
  ASSERT_TRUE(values::parse_path("batch.p\\.q.0.a\\\\b", segs, error));
  EXPECT_EQ(segs, (std::vector<std::string>{"batch", "p.q", "0", "a\\b"}));
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "a\\", "a\\x"}) {
    EXPECT_FALSE(values::parse_path(bad, segs, error)) << bad;
  }
  EXPECT_EQ(values::escape_segment("p.q\\r"), "p\\.q\\\\r");
  ASSERT_TRUE(values::parse_path(values::escape_segment("a.b\\") + ".c", segs, error));
  EXPECT_EQ(segs, (std::vector<std::string>{"a.b\\", "c"}));
}

TEST(Path, DecimalsAndUtf8) {
  long long v = 0;
  EXPECT_TRUE(values::parse_decimal("-7", v));
  EXPECT_EQ(v, -7);
  EXPECT_TRUE(values::parse_decimal("9223372036854775807", v));
  EXPECT_TRUE(values::parse_decimal("-9223372036854775808", v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* bad : {"", "-", "01", "-0", "+1", "1 ", "9223372036854775808", "0x1"}) {
    EXPECT_FALSE(values::parse_decimal(bad, v)) << bad;
  }
  EXPECT_TRUE(values::valid_utf8("h\xc3\xa9 \xf0\x9f\x98\x80"));
  for (const char* bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    EXPECT_FALSE(values::valid_utf8(bad)) << bad;
  }
}

}  // namespace

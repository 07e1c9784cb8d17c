#include "sc_models/observe/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

namespace iosim {
namespace {

// Exact nearest-rank percentile of a sorted sample vector.
double exact_percentile(const std::vector<double>& sorted, double p) {
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size()) / 100.0));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expect_within_bound(const LatencyHistogram& h, const std::vector<double>& sorted, double p) {
  double exact = exact_percentile(sorted, p);
  double got = h.percentile(p);
  EXPECT_LE(std::abs(got - exact), exact * LatencyHistogram::kMaxRelativeError)
      << "p" << p << ": got " << got << ", exact " << exact;
}

TEST(LatencyHistogram, ErrorBoundIsBetterThanOnePercent) {
  EXPECT_LE(LatencyHistogram::kMaxRelativeError, 0.01);
  EXPECT_DOUBLE_EQ(LatencyHistogram::kMaxRelativeError, 1.0 / 128);
}

TEST(LatencyHistogram, EmptyHasNoValues) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_TRUE(std::isnan(h.min()));
  EXPECT_TRUE(std::isnan(h.max()));
  EXPECT_TRUE(std::isnan(h.mean()));
  EXPECT_TRUE(std::isnan(h.percentile(50)));
  for (size_t i = 0; i < LatencyHistogram::kDecades; ++i) EXPECT_EQ(h.decade_count(i), 0u);
}

TEST(LatencyHistogram, UniformOneToTenThousand) {
  LatencyHistogram h;
  std::vector<double> v;
  for (int i = 1; i <= 10000; ++i) {
    h.sample(i);
    v.push_back(i);
  }
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min(), 1.0);
  EXPECT_EQ(h.max(), 10000.0);
  EXPECT_DOUBLE_EQ(h.mean(), 5000.5);
  EXPECT_DOUBLE_EQ(h.sum(), 50005000.0);
  EXPECT_NEAR(h.percentile(50), 5000.0, 50.0);  // within 1%
  EXPECT_NEAR(h.percentile(90), 9000.0, 90.0);
  EXPECT_NEAR(h.percentile(99), 9900.0, 99.0);
  EXPECT_NEAR(h.percentile(37.5), 3750.0, 37.5);
  EXPECT_EQ(h.percentile(0), 1.0);
  EXPECT_EQ(h.percentile(100), 10000.0);
  for (int p = 1; p <= 99; ++p) expect_within_bound(h, v, p);
  expect_within_bound(h, v, 99.9);
  expect_within_bound(h, v, 0.01);
}

TEST(LatencyHistogram, SkewedDistributionMillionSamplesWithinBoundAndBoundedMemory) {
  LatencyHistogram h;
  std::mt19937_64 rng(12345);
  // Log-normal latencies around ~500 ns with a long tail (up to ms).
  std::lognormal_distribution<double> dist(std::log(500.0), 1.5);
  std::vector<double> v;
  const size_t n = 1000000;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    double x = std::min(dist(rng), 9.9e6);
    h.sample(x);
    v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
    expect_within_bound(h, v, p);
  }
  EXPECT_EQ(h.min(), v.front());
  EXPECT_EQ(h.max(), v.back());
  // Memory depends on the value range only: values < 2^24 ns need at most
  // (24 - kMinExponent) octaves of 64 slices plus the underflow bucket.
  EXPECT_LE(h.bucket_count(), (24 - LatencyHistogram::kMinExponent) * 64u + 1);
}

TEST(LatencyHistogram, DecadeBucketsSplitExactlyAtLinuxBoundaries) {
  LatencyHistogram h;
  // Just below and at each boundary (100 ns, 1 us, 10 us, 100 us, 1 ms, 10 ms).
  const double limits[] = {100, 1e3, 1e4, 1e5, 1e6, 1e7};
  for (double l : limits) {
    h.sample(std::nextafter(l, 0.0));
    h.sample(l);
  }
  h.sample(0);                       // smallest possible
  h.sample(5e9);                     // 5 s
  EXPECT_EQ(h.decade_count(0), 2u);  // 0 and 99.99..
  for (size_t i = 1; i <= 5; ++i) EXPECT_EQ(h.decade_count(i), 2u) << i;
  EXPECT_EQ(h.decade_count(6), 2u);  // 1e7 and 5e9
  EXPECT_STREQ(LatencyHistogram::decade_label(0), "<0.1us");
  EXPECT_STREQ(LatencyHistogram::decade_label(1), "0.1us-1us");
  EXPECT_STREQ(LatencyHistogram::decade_label(2), "1us-10us");
  EXPECT_STREQ(LatencyHistogram::decade_label(3), "10us-100us");
  EXPECT_STREQ(LatencyHistogram::decade_label(4), "100us-1ms");
  EXPECT_STREQ(LatencyHistogram::decade_label(5), "1ms-10ms");
  EXPECT_STREQ(LatencyHistogram::decade_label(6), ">=10ms");
  EXPECT_EQ(LatencyHistogram::decade_of(99.5), 0u);
  EXPECT_EQ(LatencyHistogram::decade_of(250), 1u);
  EXPECT_EQ(LatencyHistogram::decade_of(2.5e7), 6u);
}

TEST(LatencyHistogram, PercentilesClampToExactMinAndMax) {
  LatencyHistogram h;
  for (int i = 0; i < 1000; ++i) h.sample(123.456);
  EXPECT_EQ(h.percentile(50), 123.456);
  EXPECT_EQ(h.percentile(99), 123.456);
  LatencyHistogram tiny;  // values below the smallest octave go to the underflow bucket
  tiny.sample(0);
  tiny.sample(0.0001);
  EXPECT_EQ(tiny.percentile(50), 0.0);
  EXPECT_EQ(tiny.percentile(100), 0.0001);
  EXPECT_EQ(tiny.bucket_count(), 1u);
}

TEST(LatencyHistogram, SmallAndLargeValuesKeepRelativeError) {
  LatencyHistogram h;
  std::vector<double> v;
  for (int i = 1; i <= 1000; ++i) {
    double x = 0.001 * i;  // 1 ps .. 1 ns
    h.sample(x);
    v.push_back(x);
  }
  for (int i = 1; i <= 1000; ++i) {
    double x = 1e9 * i;  // 1 s .. 1000 s
    h.sample(x);
    v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  for (double p : {5.0, 25.0, 49.0, 51.0, 75.0, 95.0}) expect_within_bound(h, v, p);
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.sample(50);
  h.sample(5e6);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum(), 0.0);
  EXPECT_EQ(h.decade_count(0), 0u);
  EXPECT_EQ(h.decade_count(5), 0u);
  h.sample(700);
  EXPECT_EQ(h.min(), 700.0);
  EXPECT_EQ(h.max(), 700.0);
  EXPECT_EQ(h.percentile(50), 700.0);
  EXPECT_EQ(h.decade_count(1), 1u);
}

TEST(LatencyHistogram, MergePoolsSamplesExactly) {
  LatencyHistogram a, b, empty;
  std::vector<double> pooled;
  for (int i = 1; i <= 300; ++i) {
    a.sample(10.0 * i);  // 10 .. 3000 ns
    pooled.push_back(10.0 * i);
  }
  for (int i = 1; i <= 100; ++i) {
    b.sample(50000.0 + i);  // 50001 .. 50100 ns
    pooled.push_back(50000.0 + i);
  }
  a.merge(b);
  a.merge(empty);
  std::sort(pooled.begin(), pooled.end());
  EXPECT_EQ(a.count(), 400u);
  EXPECT_DOUBLE_EQ(a.min(), 10.0);
  EXPECT_DOUBLE_EQ(a.max(), 50100.0);
  EXPECT_DOUBLE_EQ(a.sum(), 10.0 * 300 * 301 / 2 + 50000.0 * 100 + 100 * 101 / 2);
  EXPECT_EQ(a.decade_count(0), 9u);    // 10..90 ns
  EXPECT_EQ(a.decade_count(1), 90u);   // 100..990 ns
  EXPECT_EQ(a.decade_count(2), 201u);  // 1000..3000 ns
  EXPECT_EQ(a.decade_count(3), 100u);  // 50 us
  for (double p : {1.0, 50.0, 75.0, 76.0, 90.0, 99.0}) expect_within_bound(a, pooled, p);
  // Merging into an empty histogram copies the other one.
  empty.merge(b);
  EXPECT_EQ(empty.count(), 100u);
  EXPECT_DOUBLE_EQ(empty.min(), 50001.0);
  EXPECT_DOUBLE_EQ(empty.percentile(50), b.percentile(50));
}

// Repeated samples take a shortcut (same bucket and decade, min and max unchanged):
// the result must equal pooling one-sample histograms, each recorded the long way.
TEST(LatencyHistogram, RepeatedSamplesMatchTheFullPath) {
  std::mt19937_64 rng(7);
  const double values[] = {0.0, 0.5, 99.0, 100.0, 616.0, 1130.0, 5e6, 2e7};
  LatencyHistogram h, pooled;
  for (int i = 0; i < 2000; ++i) {
    // Runs of 1..4 equal values, so most samples repeat the previous one.
    const double v = values[rng() % 8];
    for (unsigned n = 1 + rng() % 4; n > 0; --n) {
      h.sample(v);
      LatencyHistogram one;
      one.sample(v);
      pooled.merge(one);
    }
  }
  EXPECT_EQ(h.count(), pooled.count());
  EXPECT_EQ(h.sum(), pooled.sum());
  EXPECT_EQ(h.min(), 0.0);
  EXPECT_EQ(h.max(), 2e7);
  EXPECT_EQ(h.bucket_count(), pooled.bucket_count());
  for (size_t d = 0; d < LatencyHistogram::kDecades; ++d) {
    EXPECT_EQ(h.decade_count(d), pooled.decade_count(d)) << d;
  }
  for (double p = 0; p <= 100; p += 0.5) EXPECT_EQ(h.percentile(p), pooled.percentile(p)) << p;
}

TEST(LatencyHistogram, RepeatAfterResetOrMergeIsRecordedInFull) {
  LatencyHistogram h;
  h.sample(300);
  h.reset();
  h.sample(300);  // the previous sample was forgotten: min, max and decade are set again
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.min(), 300.0);
  EXPECT_EQ(h.max(), 300.0);
  EXPECT_EQ(h.decade_count(1), 1u);
  EXPECT_EQ(h.percentile(50), 300.0);
  LatencyHistogram wide;
  wide.sample(10);
  wide.sample(1e6);
  h.merge(wide);
  h.sample(300);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.min(), 10.0);
  EXPECT_EQ(h.max(), 1e6);
  EXPECT_EQ(h.decade_count(0), 1u);
  EXPECT_EQ(h.decade_count(1), 2u);
  EXPECT_EQ(h.decade_count(5), 1u);  // 1 ms: 1ms-10ms
}

TEST(LatencyHistogram, RejectsInvalidSamplesAndPercentiles) {
  LatencyHistogram h;
  EXPECT_THROW(h.sample(-1), std::invalid_argument);
  EXPECT_THROW(h.sample(std::nan("")), std::invalid_argument);
  EXPECT_THROW(h.sample(INFINITY), std::invalid_argument);
  EXPECT_EQ(h.count(), 0u);
  h.sample(1);
  EXPECT_THROW(h.percentile(-0.1), std::invalid_argument);
  EXPECT_THROW(h.percentile(100.1), std::invalid_argument);
  EXPECT_THROW(h.percentile(std::nan("")), std::invalid_argument);
}

}  // namespace
}  // namespace iosim

// A latency histogram with bounded memory: values in nanoseconds (double).
//
// Count, sum, min, max and mean are exact. Percentiles come from log-linear
// buckets in the style of HDR histograms: every power-of-two octave [2^e, 2^(e+1))
// is cut into kSubBuckets = 64 equal slices, and a percentile is reported as the
// midpoint of the slice that holds the sample of that rank, clamped to [min, max].
// The relative error of a reported percentile is therefore at most
// 1 / (2 * kSubBuckets) = 1/128 < 0.8% (kMaxRelativeError) against the exact
// nearest-rank percentile of the recorded samples.
//
// Memory: one 8-byte counter per slice from the smallest octave (2^-10 ns, just under
// 1 ps, the finest SystemC resolution in use) up to the largest value seen; for
// latencies up to 10 ms that is 34 octaves x 64 = ~17 KiB, whatever the sample count.
// Values below 2^-10 ns (including 0) share one underflow bucket.
//
// It also counts the Linux Intel-IOMMU (DMAR) latency decades exactly, with the
// boundaries of drivers/iommu/intel/perf.c (dmar_latency_update: latency < 100 ns,
// < 1000 ns, ..., < 10^7 ns, else >= 10 ms) and the labels of its debugfs table.
//
// Simplification: a negative or non-finite sample is a caller bug and throws
// std::invalid_argument.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace iosim {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBucketBits = 6;
  static constexpr unsigned kSubBuckets = 1u << kSubBucketBits;  // slices per octave
  static constexpr double kMaxRelativeError = 1.0 / (2.0 * kSubBuckets);
  static constexpr int kMinExponent = -10;  // smallest resolved octave: 2^-10 ns

  // Linux DMAR decade buckets: <0.1us, 0.1us-1us, 1us-10us, 10us-100us, 100us-1ms,
  // 1ms-10ms, >=10ms.
  static constexpr size_t kDecades = 7;
  // Upper bounds (exclusive, ns) of the first six DMAR decades.
  static constexpr std::array<double, kDecades - 1> kDecadeLimitsNs = {100.0, 1e3, 1e4,
                                                                       1e5,   1e6, 1e7};
  static const char* decade_label(size_t i);  // "<0.1us", "0.1us-1us", ...
  static size_t decade_of(double ns) {        // index of the decade holding `ns`
    size_t i = 0;
    while (i < kDecadeLimitsNs.size() && ns >= kDecadeLimitsNs[i]) ++i;
    return i;
  }

  // Records one sample (ns). Throws std::invalid_argument if negative or not finite.
  void sample(double ns) {
    // A repeat of the previous sample (fixed latencies repeat often) lands in the
    // same bucket and decade and cannot move min or max.
    if (ns == last_) {
      ++counts_[last_index_];
      ++decades_[last_decade_];
      ++count_;
      sum_ += ns;
      return;
    }
    if (!(ns >= 0.0 && ns <= std::numeric_limits<double>::max())) reject(ns);
    const size_t idx = index_of(ns);
    if (idx >= counts_.size()) counts_.resize(idx + 1, 0);
    ++counts_[idx];
    const size_t decade = decade_of(ns);
    ++decades_[decade];
    if (count_ == 0 || ns < min_) min_ = ns;
    if (count_ == 0 || ns > max_) max_ = ns;
    ++count_;
    sum_ += ns;
    last_ = ns;
    last_index_ = idx;
    last_decade_ = decade;
  }
  void reset();
  // Adds every sample of `other` (pooling two distributions): counts, sum, min, max,
  // decades and buckets add up exactly, so percentiles of the merged histogram keep
  // the kMaxRelativeError bound against the pooled samples.
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const;   // NaN when empty
  double max() const;   // NaN when empty
  double mean() const;  // NaN when empty
  // Nearest-rank percentile, p in [0, 100] (0 -> min, 100 -> max); NaN when empty.
  // Throws std::invalid_argument for p outside [0, 100].
  double percentile(double p) const;
  uint64_t decade_count(size_t i) const { return decades_.at(i); }

  // Host memory held by the bucket array (for tests of the memory bound).
  size_t bucket_count() const { return counts_.size(); }

 private:
  static size_t index_of(double ns) {  // 0 = underflow bucket
    // Octave from the IEEE-754 exponent, slice from the top mantissa bits.
    uint64_t bits = 0;
    std::memcpy(&bits, &ns, sizeof bits);
    const int octave = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
    if (octave < kMinExponent) return 0;
    const uint64_t slice = (bits >> (52 - kSubBucketBits)) & (kSubBuckets - 1);
    return 1 + static_cast<size_t>(octave - kMinExponent) * kSubBuckets + slice;
  }
  [[noreturn]] static void reject(double ns);  // throws std::invalid_argument
  static double midpoint_of(size_t index);

  std::vector<uint64_t> counts_;
  std::array<uint64_t, kDecades> decades_{};
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  // The previous sample and where it went; NaN (equal to nothing) when there is none.
  // merge() keeps it: the pooled min and max still enclose it, and buckets only grow.
  double last_ = std::numeric_limits<double>::quiet_NaN();
  size_t last_index_ = 0;
  size_t last_decade_ = 0;
};

}  // namespace iosim

#include "sc_models/observe/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace iosim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr std::array<const char*, LatencyHistogram::kDecades> kDecadeLabels = {
    "<0.1us", "0.1us-1us", "1us-10us", "10us-100us", "100us-1ms", "1ms-10ms", ">=10ms"};

}  // namespace

const char* LatencyHistogram::decade_label(size_t i) {
  return kDecadeLabels.at(i);
}

double LatencyHistogram::midpoint_of(size_t index) {
  if (index == 0) return 0.0;
  size_t k = index - 1;
  int octave = static_cast<int>(k / kSubBuckets) + kMinExponent;
  double slice = static_cast<double>(k % kSubBuckets);
  return std::ldexp(1.0 + (slice + 0.5) / kSubBuckets, octave);
}

void LatencyHistogram::reject(double ns) {
  throw std::invalid_argument("LatencyHistogram: sample must be finite and >= 0, got " +
                              std::to_string(ns));
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  for (size_t i = 0; i < kDecades; ++i) decades_[i] += other.decades_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::reset() {
  counts_.clear();
  decades_.fill(0);
  count_ = 0;
  sum_ = 0;
  min_ = 0;
  max_ = 0;
  last_ = kNaN;
}

double LatencyHistogram::min() const {
  return count_ ? min_ : kNaN;
}
double LatencyHistogram::max() const {
  return count_ ? max_ : kNaN;
}
double LatencyHistogram::mean() const {
  return count_ ? sum_ / static_cast<double>(count_) : kNaN;
}

double LatencyHistogram::percentile(double p) const {
  if (!(p >= 0.0 && p <= 100.0)) {
    throw std::invalid_argument("LatencyHistogram: percentile must be in [0, 100], got " +
                                std::to_string(p));
  }
  if (count_ == 0) return kNaN;
  if (p == 0.0) return min_;
  if (p == 100.0) return max_;
  // Nearest rank: the smallest sample with at least p% of the samples at or below it.
  double r = std::ceil(p * static_cast<double>(count_) / 100.0);
  uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(r), 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(midpoint_of(i), min_, max_);
  }
  return max_;  // not reached: the counts sum to count_
}

}  // namespace iosim

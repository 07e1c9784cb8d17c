#include "device/address_pattern.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace iosim {
namespace {
constexpr uint64_t kMaxZipfSlots = 1ull << 20;
}

AddressPattern::AddressPattern(const DmaThreadConfig& cfg)
    : kind_(cfg.pattern),
      cfg_(cfg),
      slots_(cfg.window_bytes / cfg.request_bytes),
      rng_(cfg.seed | 1) {
  if (kind_ == AccessPattern::kScript) {
    throw std::invalid_argument("AddressPattern: a scripted thread has no synthetic pattern");
  }
  if (kind_ == AccessPattern::kZipf) {
    const uint64_t n = std::min(slots_, kMaxZipfSlots);
    zipf_cdf_.resize(n);
    double sum = 0;
    for (uint64_t k = 0; k < n; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), cfg.zipf_exponent);
      zipf_cdf_[k] = sum;
    }
    for (double& c : zipf_cdf_) c /= sum;
  }
}

uint64_t AddressPattern::random() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

double AddressPattern::uniform() {
  return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

uint64_t AddressPattern::next_slot() {
  switch (kind_) {
    case AccessPattern::kStream: {
      const uint64_t s = position_ % slots_;
      position_ = s + 1;
      return s;
    }
    case AccessPattern::kStrided: {
      const uint64_t s = (position_ % cfg_.window_bytes) / cfg_.request_bytes;
      position_ = (position_ + cfg_.stride_bytes) % cfg_.window_bytes;
      return s;
    }
    case AccessPattern::kRandom:
      return random() % slots_;
    case AccessPattern::kHotset: {
      const uint64_t hot = std::max<uint64_t>(
          1, static_cast<uint64_t>(static_cast<double>(slots_) * cfg_.hot_fraction));
      if (hot >= slots_ || uniform() < cfg_.hot_access_fraction) return random() % hot;
      return hot + random() % (slots_ - hot);
    }
    case AccessPattern::kZipf: {
      const double u = uniform();
      auto it = std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
      if (it == zipf_cdf_.end()) --it;
      return static_cast<uint64_t>(it - zipf_cdf_.begin());
    }
    case AccessPattern::kScript:
      break;  // rejected by the constructor
  }
  return 0;
}

DmaRequest AddressPattern::next() {
  DmaRequest r;
  r.va = cfg_.base_va + next_slot() * cfg_.request_bytes;
  r.len = cfg_.request_bytes;
  r.write = cfg_.read_fraction < 1.0 && uniform() >= cfg_.read_fraction;
  return r;
}

}  // namespace iosim

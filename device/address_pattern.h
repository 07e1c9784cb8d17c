// Synthetic DMA address patterns: sequential stream, uniform random, strided,
// hot-set and zipf over a window of request-sized slots, with a read/write mix.
//
// Pure C++ (no SystemC): DmaThread asks it for the next request. Every pattern
// wraps around inside the window; addresses are aligned to the request size.
//
// Simplifications: the random generator is a 64-bit xorshift (reproducible from
// the seed, not cryptographic); zipf ranks map to slots in address order (rank 1
// is the first slot) and its table is capped at 2^20 slots.
#pragma once

#include "device/device_config.h"

#include <cstdint>
#include <vector>

namespace iosim {

struct DmaRequest {
  uint64_t va = 0;
  uint32_t len = 0;
  bool write = false;
};

class AddressPattern {
 public:
  // cfg must have passed DmaThreadConfig::validate and not be a script.
  explicit AddressPattern(const DmaThreadConfig& cfg);

  DmaRequest next();
  uint64_t slots() const { return slots_; }

 private:
  uint64_t next_slot();
  uint64_t random();  // 64 random bits
  double uniform();   // [0, 1)

  AccessPattern kind_;  // a synthetic one
  DmaThreadConfig cfg_;
  uint64_t slots_;
  uint64_t position_ = 0;  // stream / strided cursor, in bytes from base
  uint64_t rng_;
  std::vector<double> zipf_cdf_;
};

}  // namespace iosim

// Iotlb: the IOMMU's translation cache of final translations, a TranslationCache
// tagged by PASID and Requester ID (domain field), with a timed lookup port and
// hit/miss statistics.
//
// Entry payload: target = physical page base, perms = tperm bits (kRead, kWrite,
// kExec, kUser, kDirty) plus kSre / kAtsAllowed below, user = the simulated time
// (ps) the translation was obtained.
//
// Timing: a lookup takes lookup_latency_ns on one of lookup_ports ports (a
// ServerPool: lookups beyond the ports queue). Called by the Translator.
//
// Simplifications: lookup time is the same for hits and misses; fills are free
// (their cost is in the walker's overhead).
#pragma once

#include <cstdint>

#include "iommu/iommu_config.h"
#include "sc_models/cache/translation_cache.h"
#include "sc_models/observe/stats.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace iotlb_perm {
inline constexpr uint32_t kSre = 1u << 8;           // PASID entry allows privileged requests
inline constexpr uint32_t kAtsAllowed = 1u << 9;    // context entry DTE
inline constexpr uint32_t kPassThrough = 1u << 10;  // PASID entry PGTT = pass-through
}  // namespace iotlb_perm

class Iotlb {
 public:
  Iotlb(const IotlbConfig& cfg, StatGroup& stats);

  // Looks `va` up for `tag` at sc_time_stamp() + delay, charging the lookup port;
  // advances `delay`. The pointer is valid until the next fill or invalidation.
  const TranslationEntry* lookup(const TranslationTag& tag, uint64_t va, sc_core::sc_time& delay);
  void fill(const TranslationEntry& e);
  // A hit the caller could not use (a write through an entry without the Dirty
  // bit, which must walk again to set it).
  void count_rewalk() { rewalks_.inc(); }

  TranslationCache& cache() { return cache_; }
  const TranslationCache& cache() const { return cache_; }
  uint64_t hits() const { return hits_.value(); }
  uint64_t misses() const { return misses_.value(); }

 private:
  TranslationCache cache_;
  ServerPool ports_;
  sc_core::sc_time lookup_;
  Counter& hits_;
  Counter& misses_;
  Counter& lookups_;
  Counter& fills_;
  Counter& rewalks_;
};

}  // namespace iosim

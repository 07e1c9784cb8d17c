// The device's Address Translation Cache: a TranslationCache tagged by PASID
// holding the ranges of ATS Translation Completions (S-bit sizes), plus the
// bookkeeping the invalidation contract needs:
//  - every fill gets a unique id (kept in the entry's user word) and its fill
//    time, so an access can say which translation it used and when it was
//    obtained;
//  - accesses acquire() the id of the translation they use and release() it
//    when they have completed (read data returned, write posted); an
//    invalidation drops the matching entries, learns their ids and
//    wait_unused() until none of them is in use any more.
//
// Simplifications: no timing here (the device charges atc_lookup_latency_ns);
// entries with R=W=0 are not cached (no negative caching); the domain tag is
// unused (one Function per ATC).
#pragma once

#include "sc_models/cache/translation_cache.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/timing/local_time.h"

#include <systemc>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace iosim {

class Atc {
 public:
  // A translation as an access uses it.
  struct Hit {
    uint64_t id = 0;
    uint64_t pa = 0;
    uint32_t perms = 0;
    sc_core::sc_time obtained;
  };

  // `timing`: the system's, told when a release wakes a waiter.
  Atc(const TranslationCacheConfig& cfg, Timing& timing)
      : cache_(cfg), timing_(timing), fill_time_(cache_.capacity()) {}

  // Finds the translation of va for pasid (kNoPasid without a PASID).
  std::optional<Hit> lookup(uint32_t pasid, uint64_t va);
  // Inserts one completion entry returned for untranslated address `va`. Entries
  // with R=W=0 are not inserted (returns 0); otherwise returns the fill id.
  uint64_t fill(uint32_t pasid, uint64_t va, const AtsCompletionEntry& e, sc_core::sc_time now);

  // Drops the entries an Invalidate Request covers: of `pasid` (or of every
  // PASID when absent), overlapping `range`; with a PASID, global entries too
  // when `global_invalidate`. Returns the ids of the dropped entries.
  std::vector<uint64_t> invalidate(std::optional<uint32_t> pasid, const AtsRange& range,
                                   bool global_invalidate);
  // Drops the entries of `pasid` overlapping the bytes [first, last] (a mirror device's
  // TLB invalidation, which names any page-aligned range). Returns their ids.
  std::vector<uint64_t> invalidate_bytes(uint32_t pasid, uint64_t first, uint64_t last);

  void acquire(uint64_t id);
  // `after`: the release takes effect that long after the kernel time (the
  // caller's annotated delay); a process in wait_unused() wakes then.
  void release(uint64_t id, const sc_core::sc_time& after = sc_core::SC_ZERO_TIME);
  uint32_t users(uint64_t id) const;
  // Waits (SystemC thread context) until no access uses any of `ids`.
  void wait_unused(const std::vector<uint64_t>& ids);

  const TranslationCache& cache() const { return cache_; }

 private:
  std::vector<uint64_t> drop(const TagFilter& f, uint64_t first, uint64_t last);

  TranslationCache cache_;
  Timing& timing_;
  uint64_t next_id_ = 1;
  // The fill time of the entry in each cache slot (written by fill(), read by a hit).
  std::vector<sc_core::sc_time> fill_time_;

  // (id, number of accesses using it) for the translations in flight, an
  // open-addressing table (linear probing, id 0 = empty): at a few hundred accesses
  // in flight a list scan per acquire and release would dominate. Ids may outlive
  // their entry (an access keeps using an evicted translation).
  struct User {
    uint64_t id = 0;
    uint32_t count = 0;
  };
  std::vector<User> users_ = std::vector<User>(16);
  size_t user_count_ = 0;
  static size_t user_home(uint64_t id, size_t mask) {  // Fibonacci hashing
    return (id * 0x9E3779B97F4A7C15ull) >> 32 & mask;
  }
  size_t user_bucket(uint64_t id) const;  // where id is, or the empty bucket it would go
  void grow_users();
  sc_core::sc_event released_;
  unsigned waiting_ = 0;  // processes in wait_unused()
};

}  // namespace iosim

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

#include "sc_models/ats_encoding.h"
#include "sc_models/translation_cache.h"

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

  explicit Atc(const TranslationCacheConfig& cfg) : cache_(cfg) {}

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

  void acquire(uint64_t id);
  // `after`: the release takes effect that long after the kernel time (the
  // caller's annotated delay); a process in wait_unused() wakes then.
  void release(uint64_t id, const sc_core::sc_time& after = sc_core::SC_ZERO_TIME);
  uint32_t users(uint64_t id) const;
  // Waits (SystemC thread context) until no access uses any of `ids`.
  void wait_unused(const std::vector<uint64_t>& ids);

  const TranslationCache& cache() const { return cache_; }

 private:
  TranslationCache cache_;
  uint64_t next_id_ = 1;
  // The fill time of each id, sorted by id: ids are handed out in increasing
  // order, so a fill appends (no node allocation per fill, a binary search per
  // lookup). Ids no longer in the cache stay until the list holds 16 times the cache's
  // capacity, then go all at once (prune_fill_times).
  using FillTimes = std::vector<std::pair<uint64_t, sc_core::sc_time>>;
  FillTimes fill_time_;
  // The last id looked up or filled and its fill time: a stream of accesses hits
  // one entry many times, and a miss looks up the entry it has just filled. A fill
  // time never changes, so the memo stays right after the id is gone (ids are not
  // reused).
  uint64_t memo_id_ = 0;
  sc_core::sc_time memo_time_;
  sc_core::sc_time fill_time_of(uint64_t id);
  FillTimes::iterator fill_time_slot(uint64_t id);  // end() when absent
  void prune_fill_times();
  // (id, number of accesses using it): the translations in flight, a handful, so a
  // flat list (no node allocation per access).
  std::vector<std::pair<uint64_t, uint32_t>> users_;
  sc_core::sc_event released_;
  unsigned waiting_ = 0;  // processes in wait_unused()
};

}  // namespace iosim

// PageWalker: the IOMMU's first-level page walkers and their page-walk caches.
//
// Walks the x86-64 4-level tables of the bound mm (sc_models/page_table/page_table.h format),
// reading each entry through memory at its own simulated time, so a walk sees the
// PTE values the CPU has written up to that moment. The page-walk caches hold
// PML4, PDPT and PD entries (one TranslationCache per level, tagged by PASID and
// Requester ID, holding the next table's address and the permissions accumulated
// so far); a walk starts below the deepest level that hits. Accessed bits are set
// in every entry used and the Dirty bit in the leaf when the walk is for a write
// (or an ATS request that may write) to a writable page, as the CPU walker does. Each
// A/D update is a locked compare-and-exchange (MemoryPort::compare_exchange_u64): an
// entry software changed after the walk read it (a PMD a collapse cleared, a PTE a
// zap cleared) is not written back, and the walk starts again from memory, so the
// walker never brings back an entry software removed.
//
// Called by the Translator on an IOTLB miss. Timing: a walk costs walk_overhead_ns
// (dispatch, walk-cache lookup, fill) plus each entry read's memory latency, and holds
// one of `walkers` walkers (a ServerSemaphore) for its whole duration; further walks
// queue in arrival order and a finished walk hands its walker to the oldest waiting
// one (waking only that one), so contention grows miss latency evenly. For a decoupled
// requester (MemoryPort::serving()) a walk that needs no synchronisation holds its
// walker only while the host runs it, so walkers are contended only across its
// synchronisation points.
//
// The caches and the per-entry decisions are sc_models/cache/walk_cache.h, shared with
// the CPU walker.
//
// Simplifications: not-present and faulting walks are never cached; no 5-level paging.
#pragma once

#include <array>
#include <cstdint>

#include "iommu/iommu_config.h"
#include "iommu/memory_port.h"
#include "sc_models/cache/walk_cache.h"
#include "sc_models/observe/stats.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/timing/server_semaphore.h"

namespace iosim {

struct WalkOutcome {
  WalkStatus status = WalkStatus::kNonCanonical;
  int fault_level = 0;
  PageSize size = PageSize::k4K;
  uint64_t page_pa = 0;  // physical base of the page (kOk)
  bool writable = false, user = false, no_execute = false, global = false, dirty = false;
  unsigned reads = 0;  // page-table entries read from memory
  bool ok() const { return status == WalkStatus::kOk; }
};

class PageWalker {
 public:
  PageWalker(const WalkerConfig& cfg, MemoryPort& mem, StatGroup& stats);

  // Walks `va` in the tables rooted at `root` for `tag` (the walk caches' tag, the
  // request's IOTLB tag); `write_intent` asks for the Dirty bit when the page is
  // writable. Advances `delay` (waits for a free walker and for each memory access).
  WalkOutcome walk(const TranslationTag& tag, uint64_t root, uint64_t va, bool write_intent,
                   sc_core::sc_time& delay);

  // Walk-cache invalidation over [first, last] for the filter (every level).
  void invalidate(const TagFilter& f, uint64_t first = 0, uint64_t last = ~0ull);
  void invalidate_all();

  // Walk cache of a level (4, 3, 2), or nullptr when disabled.
  const TranslationCache* cache(int level) const { return pwc_.cache(level); }
  unsigned busy() const { return walkers_.in_use(); }
  uint64_t walks() const { return walks_.value(); }
  // Walks waiting for a walker.
  size_t waiting() const { return walkers_.waiting(); }

 private:
  void acquire(sc_core::sc_time& delay);
  void release(sc_core::sc_time& delay);
  // Probes the walk caches (counting hits and misses per level).
  WalkCache::Start start_point(const TranslationTag& tag, uint64_t va, uint64_t root);

  WalkerConfig cfg_;
  MemoryPort& mem_;
  sc_core::sc_time overhead_;  // walk_overhead_ns
  WalkCache pwc_;              // PML4E, PDPTE and PDE caches, tagged as the IOTLB
  ServerSemaphore walkers_;    // the walkers, handed over in arrival order

  Counter& walks_;
  Counter& reads_;
  Counter& ad_writes_;
  Counter& faults_;
  std::array<Counter*, 5> pwc_hits_{};
  std::array<Counter*, 5> pwc_misses_{};
  Histogram& walk_latency_;
  Histogram& walker_wait_;
};

}  // namespace iosim

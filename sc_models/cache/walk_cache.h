// The parts of a timed x86-64 page walker that the CPU's and the IOMMU's walkers
// share (sc_models/page_table/page_table.h format).
//
// - WalkCache: the paging-structure caches (Intel SDM vol. 3A 4.10.3): one cache of
//   PML4 entries (level 4), PDPT entries (3) and PD entries (2). An entry at level l
//   covers the VA span of one level-l paging entry and holds the address of the
//   level l-1 table it points to plus the permissions accumulated from the root down
//   to it. lookup() probes from the lowest level up; the lowest hit says where the
//   walk continues, a full miss starts it at the root.
// - walk_step(): what a walker does with the entry it has just read: fault, follow
//   it to the next table, or end at a leaf; it accumulates permissions (RW and US
//   AND-ed, NX OR-ed, as tperm::kWrite/kUser/kExec) and gives the entry with the
//   A/D bits the walker must set (A in the leaf, D too for a write to a writable
//   page, and optionally A in every table entry used).
// - walk_tables(): the loop over walk_step from a lookup's start point, reading and
//   writing entries through caller functions and filling the caches on the way down.
//
// What it simplifies: no timing and no SystemC process (callers charge the cache
// probe and do the memory accesses with their own latency); the caches are fully
// associative LRU TranslationCaches; faulting entries are never cached.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sc_models/page_table/page_table.h"
#include "sc_models/cache/translation_cache.h"

namespace iosim {

// Permissions of a walk before any entry is read (tperm bits).
inline constexpr uint32_t kWalkRootPerms = tperm::kWrite | tperm::kUser | tperm::kExec;

class WalkCache {
 public:
  // Entries per level (0 disables that level's cache).
  WalkCache(uint32_t pml4e_entries, uint32_t pdpte_entries, uint32_t pde_entries);

  // Where a walk starts after probing the caches.
  struct Start {
    int level = kPml4Level;           // level of the first entry to read
    uint64_t table = 0;               // the table holding it
    uint32_t perms = kWalkRootPerms;  // permissions accumulated above it
    int hit_level = 0;                // cache level that hit (2..4), 0 on a full miss
    unsigned missed_levels = 0;       // bit l: the level-l cache was probed and missed
  };

  // Probes the enabled caches from level 2 up and stops at the first hit (which
  // updates that cache's replacement state); without a hit the walk starts at `root`.
  Start lookup(const TranslationTag& tag, uint64_t va, uint64_t root);
  // Caches the non-leaf entry read at `level` (2..4) for va: it points to
  // `next_table`, with `perms` accumulated down to it. No-op when the level is disabled.
  void insert(int level, const TranslationTag& tag, uint64_t va, uint64_t next_table,
              uint32_t perms);
  // Every level: entries of f overlapping [first, last]; returns how many were removed.
  size_t invalidate(const TagFilter& f, uint64_t first = 0, uint64_t last = ~0ull);
  size_t invalidate_all();

  // The cache of a level (2..4), nullptr when disabled or for another level.
  const TranslationCache* cache(int level) const;

 private:
  std::array<std::unique_ptr<TranslationCache>, 5> caches_;  // index = level (2..4 used)
};

// The decision for one entry read at `level` with `perms` accumulated above it.
struct WalkStep {
  WalkStatus status = WalkStatus::kOk;  // kNotPresent / kReservedBit: the walk faults here
  bool leaf = false;                    // the entry maps a page of `size`
  PageSize size = PageSize::k4K;
  uint64_t next_table = 0;  // non-leaf: the table to read next, at level - 1
  uint32_t perms = 0;       // permissions accumulated including this entry
  Pte update;               // the entry with the A/D bits set (== the entry: no write)
  bool ok() const { return status == WalkStatus::kOk; }
};

// What a walk sets besides the leaf's Accessed bit.
struct WalkRules {
  bool write = false;               // set Dirty in the leaf when the page is writable
  bool set_table_accessed = false;  // set Accessed in every non-leaf entry used
};

WalkStep walk_step(Pte entry, int level, uint32_t perms, const WalkRules& rules);

// How walk_tables() ended.
struct TableWalk {
  WalkStatus status = WalkStatus::kOk;  // kOk also when aborted
  bool aborted = false;  // `update` refused a write (the entry changed): retry the walk
  int level = 0;         // level of the last entry read (leaf or fault level)
  PageSize size = PageSize::k4K;
  Pte leaf;             // the leaf after its A/D update (kOk, not aborted)
  uint32_t perms = 0;   // permissions of the translation (kOk, not aborted)
  unsigned reads = 0;   // entries read (including a failed read)
  unsigned writes = 0;  // A/D updates attempted
};

// Walks from `start` (WalkCache::lookup) to the leaf. `read(uint64_t addr, Pte& out)`
// reads one entry and returns false when the address is outside memory (the walk
// ends with kBadAddress); `update(uint64_t addr, Pte old, Pte updated)` writes the
// A/D bits and returns false to abort the walk (e.g. a failed locked compare-and-
// exchange). Every non-leaf entry used is inserted into `cache`.
template <class Read, class Update>
TableWalk walk_tables(WalkCache& cache, const TranslationTag& tag, uint64_t va,
                      const WalkCache::Start& start, const WalkRules& rules, Read&& read,
                      Update&& update) {
  TableWalk w;
  uint64_t table = start.table;
  uint32_t perms = start.perms;
  for (int level = start.level; level >= kPtLevel; --level) {
    w.level = level;
    const uint64_t addr = entry_address(table, va, level);
    Pte entry;
    ++w.reads;
    if (!read(addr, entry)) {
      w.status = WalkStatus::kBadAddress;
      return w;
    }
    const WalkStep step = walk_step(entry, level, perms, rules);
    if (!step.ok()) {
      w.status = step.status;
      return w;
    }
    perms = step.perms;
    if (step.update != entry) {
      ++w.writes;
      if (!update(addr, entry, step.update)) {
        w.aborted = true;
        return w;
      }
    }
    if (step.leaf) {
      w.size = step.size;
      w.leaf = step.update;
      w.perms = perms;
      return w;
    }
    cache.insert(level, tag, va, step.next_table, perms);
    table = step.next_table;
  }
  return w;  // not reached: a PT-level entry is always a leaf
}

}  // namespace iosim

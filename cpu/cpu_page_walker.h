// CpuPageWalker: a core's hardware page-table walker with page-walk caches (Intel SDM
// vol. 3A 4.10.3 "Paging-Structure Caches": PML4E, PDPTE and PDE caches).
//
// A walk first probes the caches from the lowest level: a PDE-cache hit gives the PT
// address (one memory read left), a PDPTE-cache hit the PD address (two), a PML4E-cache
// hit the PDPT address (three), otherwise the walk starts at the PML4 (four reads).
// Each entry is read through memory (the core's TLM socket, with latency); non-leaf
// entries read are cached. When the leaf's A bit is clear, or D is clear for a
// permitted write, the walker sets them with a locked read-modify-write (one memory
// write; it is done only if the entry is unchanged since it was read, else the walk
// restarts), as x86 does.
//
// Called by its Core on a TLB miss, on the core's thread. Timing: pwc_lookup_cycles
// for the cache probe, then each entry read waits for its memory latency.
//
// The caches and the per-entry decisions are sc_models/cache/walk_cache.h, shared with the
// IOMMU's walker.
//
// Simplifications: no A bits on non-leaf entries; the caches are fully associative
// LRU; no speculative or parallel walks (one walk at a time per core).
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>

#include "sc_models/cache/walk_cache.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

struct CpuPageWalkerConfig {
  // Entries per paging-structure cache (0 disables one). Estimates: Intel documents the
  // caches but not their sizes; these are small next to the 32-entry PDE cache reported
  // for recent Intel cores by reverse-engineering studies.
  uint32_t pml4_cache_entries = 2;
  uint32_t pdpt_cache_entries = 4;
  uint32_t pd_cache_entries = 32;
  // Probe of the paging-structure caches at the start of a walk.
  uint32_t pwc_lookup_cycles = 2;

  template <class V>
  void visit(V& v) {
    v("pml4_cache_entries", pml4_cache_entries, "entries", "PML4E cache entries (0 = none)");
    v("pdpt_cache_entries", pdpt_cache_entries, "entries", "PDPTE cache entries (0 = none)");
    v("pd_cache_entries", pd_cache_entries, "entries", "PDE cache entries (0 = none)");
    v("pwc_lookup_cycles", pwc_lookup_cycles, "cycles", "paging-structure cache probe");
  }
};

class CpuPageWalker {
 public:
  // Timed 8-byte read of physical memory (waits for its latency).
  using Read = std::function<uint64_t(uint64_t pa)>;
  // Timed locked RMW: writes `desired` if the entry still holds `expected`.
  using CmpXchg = std::function<bool(uint64_t pa, uint64_t expected, uint64_t desired)>;

  struct Result {
    WalkStatus status = WalkStatus::kNotPresent;
    int fault_level = 0;
    uint64_t page_pa = 0;           // 4 KiB-aligned frame (kOk)
    PageSize size = PageSize::k4K;  // size of the leaf: a PMD/PUD leaf ends the walk (kOk)
    Pte leaf;                       // after the A/D update
    bool writable = false;
    bool user = false;
    int start_level = 4;  // level of the first entry read
    unsigned reads = 0;
    unsigned writes = 0;
    sc_core::sc_time latency = sc_core::SC_ZERO_TIME;
    bool ok() const { return status == WalkStatus::kOk; }
  };

  CpuPageWalker(const CpuPageWalkerConfig& cfg, const Clock& clock, Read read, CmpXchg cmpxchg);

  // Walks `va` in the tables at `root` for address space `asid`.
  Result walk(uint32_t asid, uint64_t root, uint64_t va, bool write);
  // Drops every cached entry of `asid` (INVLPG/INVPCID invalidate them all).
  void invalidate(uint32_t asid);
  void invalidate_all();

 private:
  Result walk_once(uint32_t asid, uint64_t root, uint64_t va, bool write, bool& retry);

  CpuPageWalkerConfig cfg_;
  const Clock& clock_;
  Read read_;
  CmpXchg cmpxchg_;
  WalkCache pwc_;  // PML4E, PDPTE and PDE caches, tagged by ASID
};

}  // namespace iosim

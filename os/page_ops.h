// PageOps: the memory manager's page-level operations that are not system calls of
// the faulting process (reclaim, compaction, KSM, clear_refs, device drivers), each run
// on a core's thread with the notifier event, range and order Linux uses:
//
//   migrate             MIGRATE range over [start, end) with an owner cookie
//                       (migrate_vma_setup); per present page: PTL; clear PTE; flush;
//                       copy to a new frame; set the new PTE; unlock; hold; end; the
//                       old frames are freed after range_end (the isolation reference,
//                       migrate_vma_finalize).
//   compact             the same page moves through the reverse map instead
//                       (compaction's migrate_pages: try_to_migrate under the anon_vma
//                       lock, MMU_NOTIFY_CLEAR): an rmap lock is held for read, not
//                       mmap_lock, so only mm_take_all_locks() excludes it from a
//                       notifier registration (the 2008 review's case).
//   ksm_merge           write_protect_page on both pages (CLEAR range of one page: PTL;
//                       clear + flush; set read-only clean PTE), then, if the contents
//                       are identical, replace_page (CLEAR range: PTL; pte_same check;
//                       clear + flush; map the kept page read-only; drop the merged
//                       page's mapping) (mm/ksm.c). ksmd holds a reference to both pages
//                       until the merge is done, so the merged page is freed after
//                       replace_page's range_end: deferring the secondary-TLB flush to
//                       range_end is safe on both sides, as mmu_notifier.rst says.
//   migrate of a PMD    a PMD leaf inside the range moves whole (migrate_pages with a
//                       huge target: PTL; clear the PMD; flush; copy 2 MiB; new PMD;
//                       unlock) inside the MIGRATE range; when no contiguous 2 MiB is
//                       free (or the range cuts it) it is split first (migrate_pages
//                       splits a THP it cannot allocate a target for: try_split_folio,
//                       thp_migration_split) and its 4 KiB pages move.
//   collapse            khugepaged's collapse_huge_page (mm/khugepaged.c) of one 2 MiB:
//                       mmap_lock(w); scan (all 512 PTEs present, anonymous, exclusive:
//                       khugepaged with max_ptes_none = 0; MADV_COLLAPSE would accept
//                       none PTEs); allocate the huge page; CLEAR range over the 2 MiB:
//                       PTL; clear the PMD that points to the PTEs + flush
//                       (pmdp_collapse_flush); unlock; hold; end; copy 512 pages; PTL;
//                       set the PMD leaf; unlock; free the old frames.
//   ksm_merge, make_device_exclusive split a PMD leaf first (split_huge_page,
//                       FOLL_SPLIT_PMD).
//   clear_soft_dirty    SOFT_DIRTY range [0, 2^64 - 1) (clear_refs with "4"); PTL;
//                       write-protect and clear soft-dirty in every writable PTE; flush.
//   make_device_exclusive  EXCLUSIVE range of one page with the caller's owner; PTL;
//                       clear + flush; the PTE is replaced by a device-exclusive entry;
//                       the next CPU access faults and restores it.
//   clear_flush_young / clear_young / test_young  page aging (folio_referenced): under
//                       the PTL, test and clear A (flushing for the _flush variant),
//                       OR-ed with the notifier's young callbacks.
// Each returns a count or a negative errno (see os/mm_ops.h). Timing: a page copy
// (migrate) or compare (KSM) at page_copy_gb_per_s, per_page_ns per PTE changed by
// clear_soft_dirty, and the costs of the shared steps (PTE writes, locks, flushes;
// os/mm.h).
//
// Simplifications: no migration entries (the PTE stays not present while the page is
// copied, under the PTL); KSM has no stable/unstable trees, the caller names the two
// pages; aging is per page.
#pragma once

#include <cstdint>
#include <map>

#include "os/mm.h"

namespace iosim {

class MmuGather;

class PageOps {
 public:
  explicit PageOps(OsEnv& env) : env_(env) {}

  // Pages migrated, or a negative errno.
  int migrate(Mm& mm, int cpu, uint64_t start, uint64_t len, const void* owner);
  // Pages moved, or a negative errno.
  int compact(Mm& mm, int cpu, uint64_t start, uint64_t len);
  // 1 when the page at (mm_b, va_b) was merged into (mm_a, va_a), 0 when the contents
  // differ (both stay write-protected), negative errno when a page is not mapped.
  int ksm_merge(Mm& mm_a, uint64_t va_a, Mm& mm_b, uint64_t va_b, int cpu);
  // PTEs write-protected.
  int clear_soft_dirty(Mm& mm, int cpu);
  // 0, or a negative errno (-EINVAL: not mapped, or not exclusively owned).
  int make_device_exclusive(Mm& mm, int cpu, uint64_t va, const void* owner);
  int clear_flush_young(Mm& mm, int cpu, uint64_t va);
  int clear_young(Mm& mm, int cpu, uint64_t va);
  int test_young(Mm& mm, int cpu, uint64_t va);
  // MADV_COLLAPSE-like collapse of the 2 MiB at haddr into one PMD leaf (see the file
  // comment): 0 (also when already huge), -EINVAL (misaligned, not one private VMA),
  // -EAGAIN (a PTE not present, the zero page or a shared page), -ENOMEM (no huge page).
  int collapse(Mm& mm, int cpu, uint64_t haddr);

 private:
  // The pages of [start, start + len) moved inside one range of `event`.
  int move_pages(Mm& mm, int cpu, uint64_t start, uint64_t len, MmuNotifierEvent event,
                 const void* owner);

  // write_protect_page(): takes a reference to the page in `tlb` (dropped at its
  // finish()), write-protects its PTE and returns the frame with the PTE in `orig`;
  // kNoFrame when not mapped.
  uint64_t write_protect_page(Mm& mm, int cpu, uint64_t va, MmuGather& tlb, Pte& orig);
  // Maps `kpage` read-only at va in place of the page `orig` maps; false (nothing
  // changed) when the PTE is no longer `orig`. The old page's mapping reference goes
  // through `tlb`.
  bool replace_page(Mm& mm, int cpu, uint64_t va, uint64_t kpage, Pte orig, MmuGather& tlb);
  int age(Mm& mm, uint64_t va, bool flush, int cpu);
  // The new huge page of each PMD leaf of [start, end) that moves whole; the others
  // are split here.
  std::map<uint64_t, uint64_t> huge_targets(Mm& mm, int cpu, uint64_t start, uint64_t end);
  // One PMD leaf moved to new_pa inside the caller's range.
  void move_huge(Mm& mm, uint64_t va, Pte pmd, uint64_t new_pa, MmuGather& tlb);
  int collapse_locked(Mm& mm, int cpu, uint64_t haddr);

  OsEnv& env_;
};

}  // namespace iosim

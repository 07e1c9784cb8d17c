// MmuGather: the one place that decides when a frame whose mapping a page-table change
// removed may go back to the page allocator (struct mmu_gather, mm/mmu_gather.c, and
// the folio references the kernel's paths hold across a notifier range).
//
// Two kinds of reference end here:
//   remove_page(pa)  the mapping's own reference, from the path that just cleared the
//                    PTE (zap_pte_range: the rmap is removed at once, the reference is
//                    gathered). It is dropped at the flush point, flush(): after the CPU
//                    TLB shootdown and, under os.secondary_tlb_flush = under_ptl, after
//                    arch_invalidate_secondary_tlbs (tlb_flush_mmu frees the batch after
//                    tlb_flush_mmu_tlbonly). A subscriber that invalidates only in
//                    invalidate_range_end (range_end) is not covered by that flush: a
//                    frame whose last reference is the mapping's is freed before
//                    range_end, which is case A of Documentation/mm/mmu_notifier.rst.
//                    Whatever was gathered without a flush is dropped at finish().
//   hold_page(pa)    the path's own reference on a page it works on (ksmd's reference
//                    on the scanned page, do_wp_page's on the old page of a COW,
//                    migration's isolation reference). It is dropped at finish(),
//                    which the path calls after its last invalidate_range_end, so such
//                    a page is never freed before the secondary TLBs were invalidated,
//                    under either policy (mm/ksm.c: ksm_do_scan puts the scanned page
//                    after cmp_and_merge_page; mm/memory.c: wp_page_copy puts the old
//                    folio after mmu_notifier_invalidate_range_end).
//
// Simplifications: the batch has no size limit (it is flushed once per flush point);
// no page-table freeing and no delayed rmap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace iosim {

class Mm;

class MmuGather {
 public:
  // tlb_gather_mmu: gathers for `mm`; flushes are initiated by core `cpu`.
  MmuGather(Mm& mm, int cpu);
  // tlb_finish_mmu when the path did not call finish() (an early return).
  ~MmuGather();
  MmuGather(const MmuGather&) = delete;
  MmuGather& operator=(const MmuGather&) = delete;

  // The PTE mapping `pa` was cleared: the mapcount drops now, the reference at flush().
  void remove_page(uint64_t pa);
  // The caller takes its own reference to `pa` (get_page), dropped at finish().
  void hold_page(uint64_t pa);
  // The flush point of [start, end) (the caller holds the PTL): Mm::flush_under_ptl,
  // then the gathered references are dropped.
  void flush(uint64_t start, uint64_t end);
  // After the path's last invalidate_range_end: drops what is still gathered and the
  // held references.
  void finish();

  size_t gathered() const { return gathered_.size(); }

 private:
  void put_all(std::vector<uint64_t>& frames);

  Mm& mm_;
  int cpu_;
  std::vector<uint64_t> gathered_;
  std::vector<uint64_t> held_;
};

}  // namespace iosim

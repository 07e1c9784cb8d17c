#include "os/page_ops.h"

#include <cstring>
#include <map>
#include <vector>

#include "os/mm_ops.h"
#include "os/mmu_gather.h"
#include "os/thp.h"
#include "os/tlb_flush.h"
#include "sc_models/memory/physical_memory.h"

namespace iosim {

namespace {

uint64_t page_of(uint64_t va) {
  return va & ~(Mm::kPageBytes - 1);
}

bool frames_identical(const PhysicalMemory& mem, uint64_t a, uint64_t b) {
  std::vector<uint8_t> x(Mm::kPageBytes), y(Mm::kPageBytes);
  mem.read(a, x.data(), x.size());
  mem.read(b, y.data(), y.size());
  return std::memcmp(x.data(), y.data(), x.size()) == 0;
}

}  // namespace

int PageOps::migrate(Mm& mm, int cpu, uint64_t start, uint64_t len, const void* owner) {
  if (len == 0 || start % Mm::kPageBytes || len % Mm::kPageBytes) return err::kEinval;
  mm.mmap_lock.down_read();
  const int moved = move_pages(mm, cpu, start, len, MmuNotifierEvent::kMigrate, owner);
  mm.mmap_lock.up_read();
  return moved;
}

int PageOps::compact(Mm& mm, int cpu, uint64_t start, uint64_t len) {
  if (len == 0 || start % Mm::kPageBytes || len % Mm::kPageBytes) return err::kEinval;
  RwSemaphore& anon_vma_lock = mm.rmap_lock(0);
  anon_vma_lock.down_read();
  const int moved = move_pages(mm, cpu, start, len, MmuNotifierEvent::kClear, nullptr);
  anon_vma_lock.up_read();
  return moved;
}

std::map<uint64_t, uint64_t> PageOps::huge_targets(Mm& mm, int cpu, uint64_t start, uint64_t end) {
  std::map<uint64_t, uint64_t> targets;
  if (!mm.huge_mapped()) return targets;
  std::vector<uint64_t> pmds;
  mm.for_each_present_leaf(start, end, [&](uint64_t va, const PageTableEditor::Slot& s) {
    if (s.size == PageSize::k2M) pmds.push_back(va);
  });
  for (uint64_t va : pmds) {
    const uint64_t pa = va >= start && va + thp::kPmdBytes <= end
                            ? env_.alloc->alloc_contiguous(thp::kPmdFrames)
                            : PageAllocator::kNoFrame;
    if (pa != PageAllocator::kNoFrame) {
      targets[va] = pa;
      continue;
    }
    // migrate_pages_batch: no huge target (or a THP the range cuts) -> try_split_folio,
    // then the 4 KiB pages migrate (thp_migration_split).
    mm.split_huge_pmd(cpu, va, "migrate_split");
    thp::count(env_, "thp_migration_split");
  }
  return targets;
}

void PageOps::move_huge(Mm& mm, uint64_t va, Pte pmd, uint64_t new_pa, MmuGather& tlb) {
  const uint64_t old_pa = pmd.page_address(PageSize::k2M);
  for (uint64_t f = old_pa; f < old_pa + thp::kPmdBytes; f += Mm::kPageBytes) tlb.hold_page(f);
  mm.ptl_lock();
  mm.set_huge_leaf(va, PageSize::k2M, Pte(), "migrate_clear");  // set_pmd_migration_entry
  for (uint64_t f = old_pa; f < old_pa + thp::kPmdBytes; f += Mm::kPageBytes) tlb.remove_page(f);
  tlb.flush(va, va + thp::kPmdBytes);
  mm.run_for_ns(env_.copy_ns(thp::kPmdBytes));  // folio_copy of 512 pages
  for (uint64_t i = 0; i < thp::kPmdFrames; ++i) {
    env_.mem->copy_frame(new_pa + i * Mm::kPageBytes, old_pa + i * Mm::kPageBytes);
  }
  mm.set_huge_leaf(va, PageSize::k2M, Pte::leaf(new_pa, PageSize::k2M, pmd.flags()),
                   "migrate");  // remove_migration_pmd
  thp::map_frames(*env_.alloc, new_pa, thp::kPmdBytes);
  mm.ptl_unlock();
  thp::count(env_, "thp_migration_success");
}

int PageOps::move_pages(Mm& mm, int cpu, uint64_t start, uint64_t len, MmuNotifierEvent event,
                        const void* owner) {
  // A PMD leaf moves whole to a new huge page when one is free, else it is split
  // (before the range, with the split's own CLEAR range) and its pages move one by one.
  std::map<uint64_t, uint64_t> targets = huge_targets(mm, cpu, start, start + len);
  MmuNotifierRange r;
  mmu_notifier_range_init_owner(r, event, kMmuNotifierRangeBlockable, mm, start, start + len,
                                owner);
  MmuGather tlb(mm, cpu);
  mm.range_start(r);
  int moved = 0;
  bool out_of_frames = false;
  mm.for_each_present_leaf(start, start + len, [&](uint64_t va, const PageTableEditor::Slot& s) {
    if (s.size == PageSize::k2M) {
      auto it = targets.find(va);
      if (it == targets.end()) return;
      move_huge(mm, va, s.pte, it->second, tlb);
      targets.erase(it);
      ++moved;
      return;
    }
    if (s.size != PageSize::k4K) return;  // 1 GiB hugetlb pages are not migrated
    const Pte p = s.pte;
    const uint64_t old_pa = p.page_address(PageSize::k4K);
    if (out_of_frames || env_.alloc->is_zero_page(old_pa)) return;
    const uint64_t pa = env_.alloc->alloc();
    if (pa == PageAllocator::kNoFrame) {
      out_of_frames = true;
      return;
    }
    tlb.hold_page(old_pa);  // the isolation reference (migrate_vma_collect)
    mm.ptl_lock();
    mm.clear_pte(va, "migrate_clear");
    tlb.remove_page(old_pa);
    tlb.flush(va, va + Mm::kPageBytes);
    mm.run_for_ns(env_.page_copy_ns());
    env_.mem->copy_frame(pa, old_pa);
    mm.set_pte(va, Pte::leaf(pa, PageSize::k4K, p.flags()), "migrate");
    env_.alloc->map(pa);
    mm.ptl_unlock();
    ++moved;
  });
  for (const auto& [va, pa] : targets) thp::put_frames(*env_.alloc, pa, thp::kPmdBytes);
  mm.range_end(cpu, r);
  tlb.finish();  // the old frames are freed after range_end (migrate_vma_finalize)
  return moved;
}

int PageOps::collapse(Mm& mm, int cpu, uint64_t haddr) {
  if (haddr % thp::kPmdBytes) return err::kEinval;  // madvise: misaligned start
  // collapse_huge_page runs under mmap_write_lock (the scan under the read lock is
  // folded into it here).
  mm.mmap_lock.down_write();
  const int ret = collapse_locked(mm, cpu, haddr);
  mm.mmap_lock.up_write();
  return ret;
}

int PageOps::collapse_locked(Mm& mm, int cpu, uint64_t haddr) {
  const uint64_t end = haddr + thp::kPmdBytes;
  const Vma* v = mm.vmas().find(haddr);
  // hugepage_vma_revalidate: SCAN_VMA_CHECK -> -EINVAL.
  if (!v || v->shared || v->hugetlb || !mm.vmas().covered(haddr, end) ||
      mm.vmas().in_range(haddr, end).size() != 1) {
    return err::kEinval;
  }
  if (const auto leaf = mm.present_leaf(haddr); leaf && leaf->size != PageSize::k4K) {
    return 0;  // SCAN_PMD_MAPPED: already huge
  }
  // hpage_collapse_scan_pmd with max_ptes_none = 0: every PTE present, anonymous and
  // exclusively owned (SCAN_EXCEED_NONE_PTE / SCAN_PAGE_COUNT -> -EAGAIN here).
  for (uint64_t va = haddr; va < end; va += Mm::kPageBytes) {
    const Pte p = mm.pte(va);
    const uint64_t pa = p.page_address(PageSize::k4K);
    if (!p.present() || env_.alloc->is_zero_page(pa) || env_.alloc->refcount(pa) != 1) {
      return err::kEagain;
    }
  }
  const uint64_t new_pa = env_.alloc->alloc_contiguous(thp::kPmdFrames);
  if (new_pa == PageAllocator::kNoFrame) return err::kEnomem;  // SCAN_ALLOC_HUGE_PAGE_FAIL
  // collapse_huge_page: MMU_NOTIFY_CLEAR over the 2 MiB around pmdp_collapse_flush
  // (the PMD that points to the page table is cleared and the range flushed); the
  // range ends before the copy.
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kClear, kMmuNotifierRangeBlockable, mm, haddr, end);
  mm.range_start(r);
  mm.ptl_lock();
  const std::vector<Pte> old = mm.clear_pmd_table(haddr, "collapse_clear");
  mm.flush_under_ptl(cpu, haddr, end);
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  // __collapse_huge_page_copy: 512 pages, then the old ones are released.
  mm.run_for_ns(env_.copy_ns(thp::kPmdBytes));
  for (unsigned i = 0; i < old.size(); ++i) {
    env_.mem->copy_frame(new_pa + i * Mm::kPageBytes, old[i].page_address(PageSize::k4K));
  }
  mm.ptl_lock();
  // mk_huge_pmd + pmd_mkdirty + maybe_pmd_mkwrite, set_pmd_at.
  const uint64_t flags = Mm::leaf_flags(v->writable()) | Pte::kAccessed | Pte::kDirty;
  mm.set_huge_leaf(haddr, PageSize::k2M, Pte::leaf(new_pa, PageSize::k2M, flags), "collapse");
  thp::map_frames(*env_.alloc, new_pa, thp::kPmdBytes);
  mm.ptl_unlock();
  for (const Pte& p : old) {  // __collapse_huge_page_copy_succeeded
    const uint64_t pa = p.page_address(PageSize::k4K);
    env_.alloc->unmap(pa);
    env_.alloc->put(pa);
  }
  thp::count(env_, "thp_collapse_alloc");
  return 0;
}

uint64_t PageOps::write_protect_page(Mm& mm, int cpu, uint64_t va, MmuGather& tlb, Pte& orig) {
  mm.split_huge_pmd(cpu, va, "ksm_split");  // try_to_merge_one_page: split_huge_page
  const Pte p = mm.pte(va);
  if (!p.present()) return PageAllocator::kNoFrame;
  const uint64_t pa = p.page_address(PageSize::k4K);
  tlb.hold_page(pa);  // ksmd's reference on the page it scans (scan_get_next_rmap_item)
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kClear, kMmuNotifierRangeBlockable, mm, va,
                          va + Mm::kPageBytes);
  mm.range_start(r);
  mm.ptl_lock();
  Pte cur = mm.pte(va);
  const bool same_page = cur.present() && cur.page_address(PageSize::k4K) == pa;
  if (same_page && (cur.writable() || cur.dirty())) {
    mm.clear_pte(va, "ksm_wrprotect_clear");  // ptep_clear_flush
    mm.flush_under_ptl(cpu, va, va + Mm::kPageBytes);
    cur = cur.without(Pte::kWritable | Pte::kDirty);
    mm.set_pte(va, cur, "ksm_wrprotect");
  }
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  orig = cur;
  return same_page ? pa : PageAllocator::kNoFrame;
}

bool PageOps::replace_page(Mm& mm, int cpu, uint64_t va, uint64_t kpage, Pte orig, MmuGather& tlb) {
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kClear, kMmuNotifierRangeBlockable, mm, va,
                          va + Mm::kPageBytes);
  mm.range_start(r);
  mm.ptl_lock();
  const Pte old = mm.pte(va);
  const bool same = old == orig;  // pte_same: not written (COW) or unmapped meanwhile
  if (same) {
    env_.alloc->get(kpage);
    env_.alloc->map(kpage);
    mm.clear_pte(va, "ksm_replace_clear");
    tlb.remove_page(old.page_address(PageSize::k4K));
    // ptep_clear_flush: the old page stays allocated (the caller holds it) until after
    // range_end, so a secondary TLB may keep it until then.
    tlb.flush(va, va + Mm::kPageBytes);
    mm.set_pte(va, Pte::leaf(kpage, PageSize::k4K, old.flags() & ~(Pte::kWritable | Pte::kDirty)),
               "ksm");
  }
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  return same;
}

int PageOps::ksm_merge(Mm& mm_a, uint64_t va_a, Mm& mm_b, uint64_t va_b, int cpu) {
  va_a = page_of(va_a);
  va_b = page_of(va_b);
  mm_a.mmap_lock.down_read();
  if (&mm_b != &mm_a) mm_b.mmap_lock.down_read();
  int ret = err::kEinval;
  {
    MmuGather tlb(mm_b, cpu);  // holds both pages until the merge is done (ksm_do_scan)
    Pte orig_a, orig_b;
    const uint64_t ka = write_protect_page(mm_a, cpu, va_a, tlb, orig_a);
    const uint64_t kb =
        ka == PageAllocator::kNoFrame ? ka : write_protect_page(mm_b, cpu, va_b, tlb, orig_b);
    if (kb != PageAllocator::kNoFrame) {
      ret = 0;
      if (ka != kb && frames_identical(*env_.mem, ka, kb)) {
        mm_a.run_for_ns(env_.page_copy_ns());  // memcmp of the two pages
        if (replace_page(mm_b, cpu, va_b, ka, orig_b, tlb)) ret = 1;
      }
    }
    tlb.finish();
  }
  if (&mm_b != &mm_a) mm_b.mmap_lock.up_read();
  mm_a.mmap_lock.up_read();
  return ret;
}

int PageOps::clear_soft_dirty(Mm& mm, int cpu) {
  mm.mmap_lock.down_read();
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kSoftDirty, kMmuNotifierRangeBlockable, mm, 0,
                          ~uint64_t{0});
  mm.range_start(r);
  mm.ptl_lock();
  int n = 0;
  for (const Vma& v : mm.vmas().all()) {
    mm.for_each_present_pte(v.start, v.end, [&](uint64_t va, Pte p) {
      if (!(p.writable() || (p.raw() & Mm::kSoftDirty))) return;
      mm.run_for_ns(env_.cfg.per_page_ns);
      mm.set_pte(va, p.without(Pte::kWritable | Mm::kSoftDirty), "soft_dirty");
      ++n;
    });
  }
  if (n) mm.flush_under_ptl(cpu, 0, ~uint64_t{0});
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  mm.mmap_lock.up_read();
  return n;
}

int PageOps::make_device_exclusive(Mm& mm, int cpu, uint64_t va, const void* owner) {
  va = page_of(va);
  mm.mmap_lock.down_read();
  mm.split_huge_pmd(cpu, va, "device_exclusive_split");  // get_user_pages(FOLL_SPLIT_PMD)
  const Pte p = mm.pte(va);
  const uint64_t pa = p.page_address(PageSize::k4K);
  if (!p.present() || env_.alloc->is_zero_page(pa) || env_.alloc->refcount(pa) != 1) {
    mm.mmap_lock.up_read();
    return err::kEinval;
  }
  MmuNotifierRange r;
  mmu_notifier_range_init_owner(r, MmuNotifierEvent::kExclusive, kMmuNotifierRangeBlockable, mm, va,
                                va + Mm::kPageBytes, owner);
  mm.range_start(r);
  mm.ptl_lock();
  mm.clear_pte(va, "device_exclusive");
  mm.flush_under_ptl(cpu, va, va + Mm::kPageBytes);
  mm.exclusive_entries()[va] = pa;
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  mm.mmap_lock.up_read();
  return 0;
}

int PageOps::age(Mm& mm, uint64_t va, bool flush, int cpu) {
  va = page_of(va);
  mm.ptl_lock();
  const Pte p = mm.pte(va);
  int young = 0;
  if (p.present() && p.accessed()) {
    young = 1;
    mm.set_pte(va, p.without(Pte::kAccessed), "clear_young");
    if (flush && env_.tlb)
      env_.tlb->flush_tlb_range(mm, mm.cpumask(), va, va + Mm::kPageBytes, cpu);
  }
  auto& subs = mm.notifier_subscriptions();
  young |= flush ? subs.clear_flush_young(va, va + Mm::kPageBytes)
                 : subs.clear_young(va, va + Mm::kPageBytes);
  mm.ptl_unlock();
  return young;
}

int PageOps::clear_flush_young(Mm& mm, int cpu, uint64_t va) {
  return age(mm, va, true, cpu);
}
int PageOps::clear_young(Mm& mm, int cpu, uint64_t va) {
  return age(mm, va, false, cpu);
}

int PageOps::test_young(Mm& mm, int /*cpu*/, uint64_t va) {
  va = page_of(va);
  mm.ptl_lock();
  int young = mm.pte(va).accessed() ? 1 : 0;
  young |= mm.notifier_subscriptions().test_young(va);
  mm.ptl_unlock();
  return young;
}

}  // namespace iosim

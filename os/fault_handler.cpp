#include "os/fault_handler.h"

#include "os/mmu_gather.h"
#include "os/os_context.h"
#include "os/thp.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/observe/stats.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {
constexpr FaultResult kAllResults[] = {
    FaultResult::kZeroPage,  FaultResult::kAnonymous, FaultResult::kCowCopy, FaultResult::kCowReuse,
    FaultResult::kExclusive, FaultResult::kSpurious,  FaultResult::kSegv,    FaultResult::kOom};
}  // namespace

const char* fault_result_name(FaultResult r) {
  switch (r) {
    case FaultResult::kZeroPage:
      return "zero_page";
    case FaultResult::kAnonymous:
      return "anonymous";
    case FaultResult::kCowCopy:
      return "cow_copy";
    case FaultResult::kCowReuse:
      return "cow_reuse";
    case FaultResult::kExclusive:
      return "exclusive";
    case FaultResult::kSpurious:
      return "spurious";
    case FaultResult::kSegv:
      return "segv";
    case FaultResult::kOom:
      return "oom";
  }
  return "?";
}

FaultHandler::FaultHandler(OsEnv& env) : env_(env) {
  StatGroup& g = env.os->stats().group("os.faults");
  for (FaultResult r : kAllResults) {
    counts_[static_cast<int>(r)] =
        &g.counter(fault_result_name(r), "faults", "page faults resolved this way");
  }
}

uint64_t FaultHandler::count(FaultResult r) const {
  return counts_[static_cast<int>(r)]->value();
}

FaultResult FaultHandler::handle(Mm& mm, int cpu, uint64_t va, bool write) {
  sc_core::sc_time pending = sc_core::SC_ZERO_TIME;
  return handle(mm, cpu, va, write, pending);
}

FaultResult FaultHandler::handle(Mm& mm, int cpu, uint64_t va, bool write,
                                 sc_core::sc_time& pending) {
  ExecContext& ctx = env_.os->current();
  ExecContext::Frame frame(ctx, "handle_mm_fault");
  if (env_.cfg.fault_entry_ns > 0) pending += ns(env_.cfg.fault_entry_ns);
  // Charged with mmap_lock's acquisition, or carried on while no other process can
  // run before it ends (RwSemaphore::down_read(pending)): the reads of the VMA and
  // the PTE then see the state of its end, and the first action others can see (the
  // PTL, a notifier call, a page allocation, the lock's release) charges it.
  mm.mmap_lock.down_read(pending);
  FaultResult r = handle_locked(mm, cpu, va & ~(Mm::kPageBytes - 1), write, pending);
  ctx.charge(pending);
  mm.mmap_lock.up_read();
  counts_[static_cast<int>(r)]->inc();
  return r;
}

FaultResult FaultHandler::handle_locked(Mm& mm, int cpu, uint64_t va, bool write,
                                        sc_core::sc_time& pending) {
  const Vma* vma = mm.vmas().find(va);
  if (!vma || (write && !vma->writable()) || (!write && !vma->readable())) {
    return FaultResult::kSegv;
  }
  ExecContext& ctx = env_.os->current();
  if (mm.exclusive_entries().count(va)) {
    ctx.charge(pending);
    return restore_exclusive(mm, cpu, va);
  }
  Pte p = mm.pte(va);  // the leaf of any size mapping va
  if (!p.present()) {
    const uint64_t haddr = va & ~(thp::kPmdBytes - 1);
    if (thp::vma_allows(env_.cfg, *vma, haddr) && thp::pmd_none(mm, haddr)) {
      if (auto r = do_huge_anonymous(mm, *vma, haddr, pending)) return *r;
    }
    return do_anonymous(mm, *vma, va, write, pending);
  }
  if (write && !p.writable()) {
    ctx.charge(pending);
    if (p.page_size_bit()) {
      if (auto r = do_huge_wp(mm, cpu, va, p)) return *r;
      p = mm.pte(va);  // VM_FAULT_FALLBACK: the 4 KiB PTE of the split PMD
      if (!p.present() || p.writable()) return FaultResult::kSpurious;
    }
    return do_wp_page(mm, cpu, va, p);
  }
  return FaultResult::kSpurious;
}

uint64_t FaultHandler::new_page(Mm& mm, uint64_t src) {
  uint64_t pa = env_.alloc->alloc();
  if (pa == PageAllocator::kNoFrame) return pa;
  mm.run_for_ns(env_.page_copy_ns());
  if (src == PageAllocator::kNoFrame || env_.alloc->is_zero_page(src)) {
    env_.mem->zero_frame(pa);
  } else {
    env_.mem->copy_frame(pa, src);
  }
  return pa;
}

bool FaultHandler::lock_pte_none(Mm& mm, uint64_t va, sc_core::sc_time& pending) {
  mm.ptl_lock(pending);  // charges what was pending, defers the lock's cost
  // The PTE is read at the end of the lock's cost: now when nothing else can run
  // before then.
  env_.os->current().keep_up(pending);
  return !mm.pte(va).present();
}

FaultResult FaultHandler::do_anonymous(Mm& mm, const Vma& vma, uint64_t va, bool write,
                                       sc_core::sc_time& pending) {
  ExecContext& ctx = env_.os->current();
  if (!write && !vma.shared) {
    if (lock_pte_none(mm, va, pending)) {
      mm.set_pte(va, Pte::leaf(env_.alloc->zero_page(), PageSize::k4K, Mm::leaf_flags(false)),
                 "zero_page", pending);
    }
    ctx.charge(pending);
    mm.ptl_unlock();
    return FaultResult::kZeroPage;
  }
  ctx.charge(pending);
  const uint64_t pa = new_page(mm, PageAllocator::kNoFrame);
  if (pa == PageAllocator::kNoFrame) return FaultResult::kOom;
  if (!lock_pte_none(mm, va, pending)) {  // another thread won the race
    ctx.charge(pending);
    mm.ptl_unlock();
    env_.alloc->put(pa);
    return FaultResult::kSpurious;
  }
  const uint64_t dirty = write ? (Pte::kDirty | Mm::kSoftDirty) : 0;
  mm.set_pte(va,
             Pte::leaf(pa, PageSize::k4K, Mm::leaf_flags(vma.writable()) | Pte::kAccessed | dirty),
             "anonymous", pending);
  env_.alloc->map(pa);
  mm.ptl_unlock();
  return FaultResult::kAnonymous;
}

FaultResult FaultHandler::do_wp_page(Mm& mm, int cpu, uint64_t va, Pte old) {
  const uint64_t old_pa = old.page_address(PageSize::k4K);
  const uint64_t dirty = Pte::kWritable | Pte::kDirty | Pte::kAccessed | Mm::kSoftDirty;
  if (!env_.alloc->is_zero_page(old_pa) && env_.alloc->refcount(old_pa) == 1) {
    mm.ptl_lock();  // wp_page_reuse: upgrading a PTE needs no flush on x86
    if (mm.pte(va) == old) mm.set_pte(va, old.with(dirty), "cow_reuse");
    mm.ptl_unlock();
    return FaultResult::kCowReuse;
  }
  // do_wp_page's reference to the old page: it stays allocated while it is copied and
  // until after range_end (wp_page_copy puts it then), whatever else unmaps it.
  MmuGather tlb(mm, cpu);
  tlb.hold_page(old_pa);
  const uint64_t pa = new_page(mm, old_pa);
  if (pa == PageAllocator::kNoFrame) return FaultResult::kOom;
  MmuNotifierRange r;  // wp_page_copy: MMU_NOTIFY_CLEAR over the page
  mmu_notifier_range_init(r, MmuNotifierEvent::kClear, kMmuNotifierRangeBlockable, mm, va,
                          va + Mm::kPageBytes);
  mm.range_start(r);
  mm.ptl_lock();
  if (mm.pte(va) != old) {  // changed while copying: drop the copy, retry the access
    mm.ptl_unlock();
    env_.alloc->put(pa);
    mm.range_end(cpu, r);
    return FaultResult::kSpurious;
  }
  mm.clear_pte(va, "cow_clear");  // ptep_clear_flush
  tlb.remove_page(old_pa);
  tlb.flush(va, va + Mm::kPageBytes);
  mm.set_pte(va, Pte::leaf(pa, PageSize::k4K, Mm::leaf_flags(true) | dirty), "cow");
  env_.alloc->map(pa);
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  tlb.finish();
  return FaultResult::kCowCopy;
}

std::optional<FaultResult> FaultHandler::do_huge_anonymous(Mm& mm, const Vma& vma, uint64_t haddr,
                                                           sc_core::sc_time& pending) {
  ExecContext& ctx = env_.os->current();
  ctx.charge(pending);
  // vma_alloc_folio(HPAGE_PMD_ORDER): no contiguous block -> count_vm_event(
  // THP_FAULT_FALLBACK) and VM_FAULT_FALLBACK to the 4 KiB path.
  const uint64_t pa = env_.alloc->alloc_contiguous(thp::kPmdFrames);
  if (pa == PageAllocator::kNoFrame) {
    thp::count(env_, "thp_fault_fallback");
    return std::nullopt;
  }
  // clear_huge_page of the 2 MiB.
  mm.run_for_ns(env_.copy_ns(thp::kPmdBytes));
  for (uint64_t f = pa; f < pa + thp::kPmdBytes; f += Mm::kPageBytes) env_.mem->zero_frame(f);
  mm.ptl_lock(pending);
  ctx.keep_up(pending);
  if (!thp::pmd_none(mm, haddr)) {  // another thread mapped it meanwhile
    ctx.charge(pending);
    mm.ptl_unlock();
    thp::put_frames(*env_.alloc, pa, thp::kPmdBytes);
    return FaultResult::kSpurious;
  }
  ctx.charge(pending);
  // __do_huge_pmd_anonymous_page: mk_huge_pmd, pmd_mkdirty, maybe_pmd_mkwrite.
  const uint64_t flags =
      Mm::leaf_flags(vma.writable()) | Pte::kAccessed | Pte::kDirty | Mm::kSoftDirty;
  mm.set_huge_leaf(haddr, PageSize::k2M, Pte::leaf(pa, PageSize::k2M, flags), "thp_anonymous");
  thp::map_frames(*env_.alloc, pa, thp::kPmdBytes);
  mm.ptl_unlock();
  thp::count(env_, "thp_fault_alloc");
  return FaultResult::kAnonymous;
}

std::optional<FaultResult> FaultHandler::do_huge_wp(Mm& mm, int cpu, uint64_t va, Pte pmd) {
  const uint64_t haddr = va & ~(thp::kPmdBytes - 1);
  const auto leaf = mm.present_leaf(haddr);
  if (!leaf || leaf->size != PageSize::k2M) return FaultResult::kSegv;  // 1 GiB: shared only
  const uint64_t pa = pmd.page_address(PageSize::k2M);
  if (thp::exclusive(*env_.alloc, pa, thp::kPmdBytes)) {
    // do_huge_pmd_wp_page: an exclusive anonymous folio is reused (no notifier).
    mm.ptl_lock();
    if (mm.pte(haddr) == pmd) {
      mm.set_pte(haddr, pmd.with(Pte::kWritable | Pte::kDirty | Pte::kAccessed | Mm::kSoftDirty),
                 "thp_reuse");
    }
    mm.ptl_unlock();
    return FaultResult::kCowReuse;
  }
  // Since Linux 5.8 (do_huge_pmd_wp_page): a shared huge page is not copied whole;
  // __split_huge_pmd (CLEAR over the 2 MiB), then VM_FAULT_FALLBACK to do_wp_page.
  mm.split_huge_pmd(cpu, haddr, "thp_cow_split");
  return std::nullopt;
}

FaultResult FaultHandler::restore_exclusive(Mm& mm, int cpu, uint64_t va) {
  MmuNotifierRange r;
  mmu_notifier_range_init_owner(r, MmuNotifierEvent::kExclusive, kMmuNotifierRangeBlockable, mm, va,
                                va + Mm::kPageBytes, nullptr);
  mm.range_start(r);
  mm.ptl_lock();
  auto it = mm.exclusive_entries().find(va);
  if (it != mm.exclusive_entries().end()) {
    const Vma* vma = mm.vmas().find(va);
    mm.set_pte(va, Pte::leaf(it->second, PageSize::k4K, Mm::leaf_flags(vma && vma->writable())),
               "exclusive_restore");
    mm.exclusive_entries().erase(it);
  }
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  return FaultResult::kExclusive;
}

}  // namespace iosim

#include "os/mm_ops.h"

#include <vector>

#include "os/exec_context.h"
#include "os/mmu_gather.h"
#include "os/os_context.h"
#include "os/thp.h"
#include "os/tlb_flush.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/observe/stats.h"

namespace iosim {

struct MmOps::ReaperStats {
  Counter* reaped = nullptr;
  Counter* gave_up = nullptr;
  Counter* attempts = nullptr;
  Counter* lock_contended = nullptr;
  Counter* start_failures = nullptr;
  Counter* ptes_cleared = nullptr;
};

MmOps::MmOps(OsEnv& env) : env_(env) {}
MmOps::~MmOps() = default;

bool MmOps::bad_range(uint64_t start, uint64_t len) const {
  return len == 0 || start % Mm::kPageBytes || len % Mm::kPageBytes || start + len < start ||
         !is_canonical(start + len - 1) || (start >> 47) != 0;
}

int64_t MmOps::mmap(Mm& mm, int /*cpu*/, uint64_t addr, uint64_t len, uint32_t prot, bool shared) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (addr != 0 && bad_range(addr, len)) return err::kEinval;
  if (len == 0 || len % Mm::kPageBytes) return err::kEinval;
  mm.mmap_lock.down_write();
  int64_t ret;
  if (addr == 0) addr = mm.vmas().find_free(len);
  if (mm.vmas().overlaps(addr, addr + len)) {
    ret = err::kEexist;
  } else {
    mm.run_for_ns(env_.cfg.vma_update_ns);
    mm.vmas().insert(Vma{addr, addr + len, prot, shared});
    ret = static_cast<int64_t>(addr);
  }
  mm.mmap_lock.up_write();
  return ret;
}

int MmOps::munmap(Mm& mm, int cpu, uint64_t start, uint64_t len) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (bad_range(start, len)) return err::kEinval;
  mm.mmap_lock.down_write();
  if (cuts_hugetlb(mm, start, start + len)) {
    mm.mmap_lock.up_write();
    return err::kEinval;
  }
  if (mm.vmas().overlaps(start, start + len)) {
    // __split_vma -> vma_adjust_trans_huge: a PMD leaf across start or end is split
    // (CLEAR over its 2 MiB) before the UNMAP range.
    mm.split_huge_pmd_edges(cpu, start, start + len, "munmap_split");
    mm.zap(cpu, start, start + len, MmuNotifierEvent::kUnmap, "munmap");
    mm.run_for_ns(env_.cfg.vma_update_ns);
    mm.vmas().remove(start, start + len);
  }
  mm.mmap_lock.up_write();
  return 0;
}

int MmOps::madvise_dontneed(Mm& mm, int cpu, uint64_t start, uint64_t len) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (bad_range(start, len)) return err::kEinval;
  mm.mmap_lock.down_read();
  int ret = 0;
  if (!mm.vmas().covered(start, start + len)) {
    ret = err::kEnomem;
  } else {
    mm.zap(cpu, start, start + len, MmuNotifierEvent::kClear, "madvise_dontneed");
  }
  mm.mmap_lock.up_read();
  return ret;
}

int MmOps::mprotect(Mm& mm, int cpu, uint64_t start, uint64_t len, uint32_t prot) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (bad_range(start, len) || prot > (kProtRead | kProtWrite | kProtExec)) return err::kEinval;
  mm.mmap_lock.down_write();
  int ret = 0;
  if (!mm.vmas().covered(start, start + len)) {
    ret = err::kEnomem;
  } else if (cuts_hugetlb(mm, start, start + len)) {
    ret = err::kEinval;
  } else {
    // mprotect_fixup -> split_vma -> vma_adjust_trans_huge, before PROTECTION_VMA.
    mm.split_huge_pmd_edges(cpu, start, start + len, "mprotect_split");
    mm.run_for_ns(env_.cfg.vma_update_ns);
    mm.vmas().protect(start, start + len, prot);
    protect_ptes(mm, cpu, start, start + len, prot);
  }
  mm.mmap_lock.up_write();
  return ret;
}

void MmOps::protect_ptes(Mm& mm, int cpu, uint64_t start, uint64_t end, uint32_t prot) {
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kProtectionVma, kMmuNotifierRangeBlockable, mm,
                          start, end);
  MmuGather tlb(mm, cpu);
  mm.range_start(r);
  mm.ptl_lock();
  bool changed = false;
  for (const Vma& v : mm.vmas().in_range(start, end)) {
    // change_pte_range, and change_huge_pmd for a PMD leaf inside the range (the edges
    // were split by mprotect()).
    mm.for_each_present_leaf(v.start, v.end, [&](uint64_t va, const PageTableEditor::Slot& s) {
      const Pte p = s.pte;
      const uint64_t bytes = page_bytes(s.size);
      if (va < start || va + bytes > end) return;
      mm.run_for_ns(env_.cfg.per_page_ns);
      const uint64_t pa = p.page_address(s.size);
      if (!(prot & kProtRead) && !(prot & kProtWrite)) {
        if (s.size == PageSize::k4K) {
          mm.clear_pte(va, "mprotect");
        } else {
          mm.set_huge_leaf(va, s.size, Pte(), "mprotect");
        }
        for (uint64_t f = pa; f < pa + bytes; f += Mm::kPageBytes) tlb.remove_page(f);
        changed = true;
        return;
      }
      const bool exclusive =
          !env_.alloc->is_zero_page(pa) && thp::exclusive(*env_.alloc, pa, bytes);
      const bool want_w = (prot & kProtWrite) && (v.shared || (exclusive && p.dirty()));
      if (want_w == p.writable()) return;
      mm.set_pte(va, want_w ? p.with(Pte::kWritable) : p.without(Pte::kWritable), "mprotect");
      changed = true;
    });
  }
  if (changed) tlb.flush(start, end);
  mm.ptl_unlock();
  mm.range_end(cpu, r);
  tlb.finish();
}

int MmOps::mremap(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (bad_range(old_addr, len) || bad_range(new_addr, len)) return err::kEinval;
  if (new_addr < old_addr + len && old_addr < new_addr + len) return err::kEinval;
  mm.mmap_lock.down_write();
  const std::vector<Vma> src = mm.vmas().in_range(old_addr, old_addr + len);
  if (!mm.vmas().covered(old_addr, old_addr + len) || src.size() != 1) {
    mm.mmap_lock.up_write();
    return err::kEinval;  // one VMA must cover the old range (-EFAULT in Linux)
  }
  if (mm.vmas().overlaps(new_addr, new_addr + len)) {
    mm.zap(cpu, new_addr, new_addr + len, MmuNotifierEvent::kUnmap, "mremap_unmap_dest");
    mm.vmas().remove(new_addr, new_addr + len);
  }
  // move_page_tables moves a PMD leaf whole when both addresses allow it; this model
  // splits every PMD leaf of the old range first (CLEAR over each 2 MiB) and moves PTEs.
  split_all_pmds(mm, cpu, old_addr, old_addr + len, "mremap_split");
  Vma moved = src.front();
  moved.start = new_addr;
  moved.end = new_addr + len;
  mm.run_for_ns(env_.cfg.vma_update_ns);
  mm.vmas().insert(moved);
  move_ptes(mm, cpu, old_addr, len, new_addr);
  mm.vmas().remove(old_addr, old_addr + len);
  mm.mmap_lock.up_write();
  return 0;
}

void MmOps::move_ptes(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr) {
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, kMmuNotifierRangeBlockable, mm, old_addr,
                          old_addr + len);
  mm.range_start(r);
  mm.ptl_lock();
  std::vector<std::pair<uint64_t, Pte>> moved;
  mm.for_each_present_pte(old_addr, old_addr + len, [&](uint64_t va, Pte p) {
    mm.run_for_ns(env_.cfg.per_page_ns);
    mm.clear_pte(va, "mremap");
    moved.emplace_back(new_addr + (va - old_addr), p);
  });
  if (!moved.empty()) mm.flush_under_ptl(cpu, old_addr, old_addr + len);
  for (const auto& [va, p] : moved) mm.set_pte(va, p, "mremap");
  mm.ptl_unlock();
  mm.range_end(cpu, r);
}

int MmOps::fork(Mm& parent, Mm& child, int cpu) {
  parent.run_for_ns(env_.cfg.syscall_entry_ns);
  parent.mmap_lock.down_write();
  for (const Vma& v : parent.vmas().all()) {
    parent.run_for_ns(env_.cfg.vma_update_ns);
    child.vmas().insert(v);
    copy_vma(parent, child, cpu, v);
  }
  parent.mmap_lock.up_write();
  return 0;
}

void MmOps::copy_vma(Mm& parent, Mm& child, int cpu, const Vma& v) {
  MmuNotifierRange r;
  if (v.cow()) {  // copy_page_range: only COW mappings notify
    mmu_notifier_range_init(r, MmuNotifierEvent::kProtectionPage, kMmuNotifierRangeBlockable,
                            parent, v.start, v.end);
    parent.range_start(r);
  }
  parent.ptl_lock();
  bool protected_any = false;
  // copy_pte_range, and copy_huge_pmd / copy_hugetlb_page_range for a huge leaf: the
  // whole leaf is shared read-only (a later write splits it: do_huge_pmd_wp_page).
  parent.for_each_present_leaf(v.start, v.end, [&](uint64_t va, const PageTableEditor::Slot& s) {
    Pte p = s.pte;
    const uint64_t bytes = page_bytes(s.size);
    if (va < v.start || va + bytes > v.end) return;
    parent.run_for_ns(env_.cfg.per_page_ns);
    if (v.cow() && p.writable()) {
      p = p.without(Pte::kWritable);
      parent.set_pte(va, p, "fork_wrprotect");
      protected_any = true;
    }
    const uint64_t pa = p.page_address(s.size);
    const Pte copy = v.cow() ? p.without(Pte::kDirty) : p;
    if (s.size == PageSize::k4K) {
      env_.alloc->get(pa);
      env_.alloc->map(pa);
      child.set_pte(va, copy, "fork_copy");
    } else {
      thp::get_frames(*env_.alloc, pa, bytes);
      thp::map_frames(*env_.alloc, pa, bytes);
      child.set_huge_leaf(va, s.size, copy, "fork_copy");
    }
  });
  if (protected_any) parent.flush_under_ptl(cpu, v.start, v.end);
  parent.ptl_unlock();
  if (v.cow()) parent.range_end(cpu, r);
}

bool MmOps::cuts_hugetlb(const Mm& mm, uint64_t start, uint64_t end) const {
  for (const Vma& v : mm.vmas().in_range(start, end)) {
    if (v.hugetlb && (v.start % thp::kPudBytes || v.end % thp::kPudBytes)) return true;
  }
  return false;
}

void MmOps::split_all_pmds(Mm& mm, int cpu, uint64_t start, uint64_t end, const char* reason) {
  if (!mm.huge_mapped()) return;
  std::vector<uint64_t> pmds;
  mm.for_each_present_leaf(start, end, [&](uint64_t va, const PageTableEditor::Slot& s) {
    if (s.size == PageSize::k2M) pmds.push_back(va);
  });
  for (uint64_t va : pmds) mm.split_huge_pmd(cpu, va, reason);
}

int MmOps::madvise_hugepage(Mm& mm, int /*cpu*/, uint64_t start, uint64_t len, bool on) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (bad_range(start, len)) return err::kEinval;
  // madvise_need_mmap_write(MADV_HUGEPAGE): the VMA flags change under mmap_lock (w).
  mm.mmap_lock.down_write();
  int ret = 0;
  if (!mm.vmas().covered(start, start + len)) {
    ret = err::kEnomem;
  } else {
    mm.run_for_ns(env_.cfg.vma_update_ns);
    mm.vmas().set_hugepage(start, start + len, on);  // hugepage_madvise + madvise_update_vma
  }
  mm.mmap_lock.up_write();
  return ret;
}

int64_t MmOps::mmap_hugetlb(Mm& mm, int /*cpu*/, uint64_t addr, uint64_t len, uint32_t prot) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  if (addr % thp::kPudBytes || len == 0 || len % thp::kPudBytes || bad_range(addr, len)) {
    return err::kEinval;
  }
  mm.mmap_lock.down_write();
  if (mm.vmas().overlaps(addr, addr + len)) {
    mm.mmap_lock.up_write();
    return err::kEexist;
  }
  // Reserve every 1 GiB page first (hugetlb_reserve_pages): all or nothing.
  std::vector<uint64_t> pages;
  for (uint64_t off = 0; off < len; off += thp::kPudBytes) {
    const uint64_t pa = env_.alloc->alloc_contiguous(thp::kPudBytes / Mm::kPageBytes);
    if (pa == PageAllocator::kNoFrame) {
      for (uint64_t p : pages) thp::put_frames(*env_.alloc, p, thp::kPudBytes);
      mm.mmap_lock.up_write();
      return err::kEnomem;
    }
    pages.push_back(pa);
  }
  mm.run_for_ns(env_.cfg.vma_update_ns);
  Vma v{addr, addr + len, prot, /*shared=*/true};
  v.hugetlb = true;
  mm.vmas().insert(v);
  // MAP_POPULATE: hugetlb_fault per page, each cleared (clear_huge_page) and mapped
  // by one PUD leaf.
  const uint64_t flags = Mm::leaf_flags(prot & kProtWrite) | Pte::kAccessed | Pte::kDirty;
  mm.ptl_lock();
  for (size_t i = 0; i < pages.size(); ++i) {
    mm.run_for_ns(env_.copy_ns(thp::kPudBytes));
    for (uint64_t f = pages[i]; f < pages[i] + thp::kPudBytes; f += Mm::kPageBytes) {
      env_.mem->zero_frame(f);
    }
    thp::map_frames(*env_.alloc, pages[i], thp::kPudBytes);
    mm.set_huge_leaf(addr + i * thp::kPudBytes, PageSize::k1G,
                     Pte::leaf(pages[i], PageSize::k1G, flags), "hugetlb_fault");
  }
  mm.ptl_unlock();
  mm.mmap_lock.up_write();
  return static_cast<int64_t>(addr);
}

void MmOps::exit_mmap(Mm& mm, int cpu) {
  mm.mmap_lock.down_write();
  for (const Vma& v : mm.vmas().all()) {
    mm.zap(cpu, v.start, v.end, MmuNotifierEvent::kUnmap, "exit");
  }
  mm.vmas().remove(0, ~uint64_t{0});
  if (env_.tlb) env_.tlb->flush_tlb_mm(mm, mm.cpumask(), cpu);
  mm.mmap_lock.up_write();
}

MmOps::OomReapResult MmOps::oom_reap(Mm& mm, int cpu) {
  OomReapResult r;
  // oom_reap_task(): while (attempts++ < MAX_OOM_REAP_RETRIES && !oom_reap_task_mm())
  //   schedule_timeout_idle(HZ/10);
  record_oom_reap_start();
  while (r.attempts < kMaxOomReapRetries) {
    if (r.attempts > 0) {
      mm.context().current().sleep_for(ns(kOomReapRetrySleepNs), "oom_reap retry");
    }
    ++r.attempts;
    // oom_reap_task_mm(): the reaper must not wait for mmap_lock.
    if (!mm.mmap_lock.down_read_trylock()) {
      ++r.lock_contended;
      continue;
    }
    const bool done = reap_vmas(mm, cpu, r);
    mm.mmap_lock.up_read();
    if (done) {
      r.reaped = true;
      break;
    }
  }
  reaper_->attempts->add(static_cast<uint64_t>(r.attempts));
  reaper_->lock_contended->add(static_cast<uint64_t>(r.lock_contended));
  reaper_->start_failures->add(static_cast<uint64_t>(r.start_failures));
  reaper_->ptes_cleared->add(r.ptes_cleared);
  (r.reaped ? reaper_->reaped : reaper_->gave_up)->inc();
  return r;
}

void MmOps::record_oom_reap_start() {
  if (reaper_) return;
  // Registered at the first reap, so runs without one have no such group.
  StatGroup& g = env_.os->stats().group("os.oom_reaper");
  reaper_ = std::make_unique<ReaperStats>();
  reaper_->reaped = &g.counter("reaped", "mms", "victims whose private memory was torn down");
  reaper_->gave_up = &g.counter("gave_up", "mms", "victims left after MAX_OOM_REAP_RETRIES");
  reaper_->attempts = &g.counter("attempts", "attempts", "oom_reap_task_mm calls");
  reaper_->lock_contended =
      &g.counter("lock_contended", "attempts", "attempts that found mmap_lock taken");
  reaper_->start_failures =
      &g.counter("start_failures", "ranges",
                 "non-blockable invalidate_range_start calls that returned -EAGAIN");
  reaper_->ptes_cleared = &g.counter("ptes_cleared", "PTEs", "PTEs the reaper cleared");
}

bool MmOps::reap_vmas(Mm& mm, int cpu, OomReapResult& r) {
  bool ret = true;
  for (const Vma& v : mm.vmas().all()) {
    // __oom_reap_task_mm: only anonymous or private mappings (shared memory may be
    // reached through other mms).
    if (v.shared) continue;
    const std::optional<uint64_t> cleared =
        mm.zap_nonblock(cpu, v.start, v.end, MmuNotifierEvent::kUnmap, "oom_reap");
    if (!cleared) {
      // A subscriber would have to sleep: leave this VMA, no invalidate_range_end.
      ++r.start_failures;
      ret = false;
      continue;
    }
    r.ptes_cleared += *cleared;
  }
  return ret;
}

}  // namespace iosim

#include "os/mm.h"

#include <stdexcept>

#include "os/mmu_gather.h"
#include "os/os_context.h"
#include "os/os_observer.h"
#include "os/stat_names.h"
#include "os/thp.h"
#include "os/tlb_flush.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/observe/stats.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {

uint64_t alloc_table_frame(OsEnv& env) {
  uint64_t pa = env.alloc->alloc();
  if (pa == PageAllocator::kNoFrame) throw std::runtime_error("out of frames for a page table");
  return pa;
}

uint64_t frame_of(const Pte& p) {
  return p.present() ? p.page_address(PageSize::k4K) : OsPteEvent::kNoFrame;
}

}  // namespace

OsEvent Mm::observed(const sc_core::sc_time& began, int cpu) const {
  OsEvent e;
  e.time = began;
  e.duration = sc_core::sc_time_stamp() - began;
  e.thread = &context().current();
  e.cpu = cpu >= 0 ? cpu : e.thread->cpu();
  e.mm_id = id();
  return e;
}

OsRangeEvent Mm::observed_range(const sc_core::sc_time& began, int cpu, uint64_t start,
                                uint64_t end, MmuNotifierEvent ev) const {
  OsRangeEvent e;
  static_cast<OsEvent&>(e) = observed(began, cpu);
  e.start = start;
  e.end = end;
  e.event = ev;
  return e;
}

Mm::Mm(uint32_t id, OsEnv& env)
    : MmStruct(*env.os, id, env.cfg.mm),
      env_(env),
      editor_(*env.mem, [&env] { return alloc_table_frame(env); }),
      root_(editor_.new_root()) {
  StatGroup& g = env.os->stats().group("os." + name());
  ptl_hold_ = &g.histogram(MmStats::kPtlHold, "page-table lock hold time");
  ptl_spin_ = &g.histogram("ptl_spin", "time spent waiting for the page-table lock");
  notifier_time_ = &g.histogram("notifier_time", "time in one MMU-notifier range call");
  secondary_flush_time_ =
      &g.histogram("secondary_flush_time", "time in arch_invalidate_secondary_tlbs under the PTL");
  pte_updates_ = &g.counter("pte_updates", "writes", "PTE writes by the OS");
  secondary_flushes_ = &g.counter("secondary_flushes", "calls",
                                  "arch_invalidate_secondary_tlbs calls under the PTL");
}

uint64_t Mm::leaf_flags(bool writable) {
  return Pte::kUser | (writable ? Pte::kWritable : 0);
}

std::optional<PageTableEditor::Slot> Mm::leaf_slot(uint64_t va) const {
  const uint64_t region = va >> 21;  // a non-canonical va never matches a canonical one
  if (region == pt_region_) {
    const uint64_t ea = entry_address(pt_table_, va, kPtLevel);
    return PageTableEditor::Slot{ea, Pte(env_.mem->read_u64(ea)), kPtLevel, PageSize::k4K};
  }
  auto slot = editor_.lookup(root_, va);
  if (slot && slot->level == kPtLevel) {
    pt_region_ = region;
    pt_table_ = slot->entry_addr & kPageMask;
  }
  return slot;
}

Pte Mm::pte(uint64_t va) const {
  auto slot = leaf_slot(va);
  return slot ? slot->pte : Pte();
}

Pte Mm::set_pte(uint64_t va, Pte value, const char* reason) {
  sc_core::sc_time pending = sc_core::SC_ZERO_TIME;
  return set_pte(va, value, reason, pending);
}

Pte Mm::set_pte(uint64_t va, Pte value, const char* reason, sc_core::sc_time& pending) {
  if (env_.cfg.pte_update_ns > 0) pending += iosim::ns(env_.cfg.pte_update_ns);
  context().current().charge(pending);
  Pte old;
  uint64_t bytes = kPageBytes;
  if (const auto slot = leaf_slot(va)) {
    // What PageTableEditor::set_leaf does, without walking the tables a second time.
    old = slot->pte;
    bytes = page_bytes(slot->size);  // a PMD or PUD leaf changes as a whole
    env_.mem->write_u64(slot->entry_addr, value.raw());
  } else if (value.present()) {
    old = editor_.map(root_, va, value.page_address(PageSize::k4K), PageSize::k4K, value.flags());
  }
  pte_updates_->inc();
  publish(va & ~(bytes - 1), bytes, old, value, reason);
  return old;
}

void Mm::publish(uint64_t va, uint64_t bytes, Pte old, Pte value, const char* reason) {
  if (env_.observer) {
    OsPteEvent e;
    static_cast<OsEvent&>(e) = observed(sc_core::sc_time_stamp());
    e.va = va;
    e.old_raw = old.raw();
    e.new_raw = value.raw();
    e.old_frame = frame_of(old);
    e.new_frame = frame_of(value);
    e.reason = reason;
    env_.observer->on_pte_update(e);
  }
  if (env_.gt) {
    env_.gt->pte_change(
        PteChangeEvent{sc_core::sc_time_stamp(), id(), va, bytes, old.raw(), value.raw(), reason});
  }
}

std::optional<PageTableEditor::Slot> Mm::present_leaf(uint64_t va) const {
  auto slot = leaf_slot(va);
  if (slot && slot->pte.present()) return slot;
  return std::nullopt;
}

Pte Mm::set_huge_leaf(uint64_t va, PageSize size, Pte value, const char* reason) {
  run_for_ns(env_.cfg.pte_update_ns);
  const int level = leaf_level(size);
  forget_pt();
  Pte old;
  if (const auto ea = find_entry_address(*env_.mem, root_, va, level)) {
    old = Pte(env_.mem->read_u64(*ea));
    env_.mem->write_u64(*ea, value.raw());
  } else if (value.present()) {
    old = editor_.map(root_, va, value.page_address(size), size, value.flags());
  }
  if (value.present()) huge_mapped_ = true;
  pte_updates_->inc();
  // An entry that pointed to a page table was no leaf of this size.
  publish(va, page_bytes(size), old.page_size_bit() ? old : Pte(), value, reason);
  return old;
}

void Mm::populate_pmd(uint64_t haddr, const std::vector<Pte>& ptes, const char* reason) {
  const uint64_t pt = alloc_table_frame(env_);
  env_.mem->zero_frame(pt);
  for (size_t i = 0; i < ptes.size() && i < kEntriesPerTable; ++i) {
    env_.mem->write_u64(pt + 8 * i, ptes[i].raw());
  }
  run_for_ns(env_.cfg.per_page_ns * static_cast<double>(ptes.size()));
  run_for_ns(env_.cfg.pte_update_ns);  // the PMD write that links the table
  const auto ea = find_entry_address(*env_.mem, root_, haddr, kPdLevel);
  if (!ea) throw std::logic_error("populate_pmd: no page directory for " + std::to_string(haddr));
  env_.mem->write_u64(*ea, Pte::table(pt).raw());
  forget_pt();
  pte_updates_->inc();
  for (size_t i = 0; i < ptes.size(); ++i) {
    if (ptes[i].present()) publish(haddr + i * kPageBytes, kPageBytes, Pte(), ptes[i], reason);
  }
}

std::vector<Pte> Mm::clear_pmd_table(uint64_t haddr, const char* reason) {
  const auto ea = find_entry_address(*env_.mem, root_, haddr, kPdLevel);
  if (!ea) return {};
  const Pte pmd(env_.mem->read_u64(*ea));
  if (!pmd.present() || pmd.page_size_bit()) return {};
  run_for_ns(env_.cfg.pte_update_ns);
  std::vector<Pte> old(kEntriesPerTable);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    old[i] = Pte(env_.mem->read_u64(pmd.table_address() + 8 * i));
  }
  env_.mem->write_u64(*ea, 0);
  forget_pt();
  pte_updates_->inc();
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    if (old[i].present()) publish(haddr + i * kPageBytes, kPageBytes, old[i], Pte(), reason);
  }
  return old;
}

bool Mm::split_huge_pmd(int cpu, uint64_t va, const char* reason) {
  if (!huge_mapped_) return false;
  const uint64_t haddr = va & ~(kPmdBytes - 1);
  const auto leaf = present_leaf(haddr);
  if (!leaf || leaf->size != PageSize::k2M) return false;
  // __split_huge_pmd: MMU_NOTIFY_CLEAR over (haddr, haddr + HPAGE_PMD_SIZE).
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kClear, kMmuNotifierRangeBlockable, *this, haddr,
                          haddr + kPmdBytes);
  range_start(r);
  ptl_lock();
  const auto cur = present_leaf(haddr);
  const bool split = cur && cur->size == PageSize::k2M;
  if (split) {
    // __split_huge_pmd_locked: pmdp_invalidate (clear + flush, the secondary TLBs
    // inside it under under_ptl), then the PTEs of the same frames and flags in a new
    // page table, and pmd_populate.
    const Pte pmd = cur->pte;
    set_huge_leaf(haddr, PageSize::k2M, Pte(), reason);
    flush_under_ptl(cpu, haddr, haddr + kPmdBytes);
    std::vector<Pte> ptes(kEntriesPerTable);
    const uint64_t pa = pmd.page_address(PageSize::k2M);
    const uint64_t flags = pmd.flags() & ~Pte::kPageSize;
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      ptes[i] = Pte::leaf(pa + i * kPageBytes, PageSize::k4K, flags);
    }
    populate_pmd(haddr, ptes, reason);
  }
  ptl_unlock();
  range_end(cpu, r);
  if (split) thp::count(env_, "thp_split_pmd");
  return split;
}

void Mm::split_huge_pmd_edges(int cpu, uint64_t start, uint64_t end, const char* reason) {
  if (!huge_mapped_) return;
  if (start % kPmdBytes) split_huge_pmd(cpu, start, reason);
  if (end % kPmdBytes) split_huge_pmd(cpu, end, reason);
}

Pte Mm::clear_pte(uint64_t va, const char* reason) {
  return set_pte(va, Pte(), reason);
}

void Mm::ptl_lock() {
  sc_core::sc_time pending = sc_core::SC_ZERO_TIME;
  ptl_lock(pending);
  context().current().charge(pending);
}

void Mm::ptl_lock(sc_core::sc_time& pending) {
  const sc_core::sc_time asked = sc_core::sc_time_stamp() + pending;
  page_table_lock.lock(pending);
  ptl_taken_ = sc_core::sc_time_stamp() + pending;  // taken when its cost is paid
  ptl_spin_->sample(ptl_taken_ - asked);
  if (env_.observer) {
    context().current().charge(pending);  // the event is stamped with the kernel time
    env_.observer->on_ptl_acquire(observed(ptl_taken_));
  }
}

void Mm::ptl_unlock() {
  ptl_hold_->sample(sc_core::sc_time_stamp() - ptl_taken_);
  const sc_core::sc_time taken = ptl_taken_;
  page_table_lock.unlock();
  if (env_.observer) env_.observer->on_ptl_release(observed(taken));
}

void Mm::flush_under_ptl(int cpu, uint64_t start, uint64_t end) {
  if (env_.tlb) env_.tlb->flush_tlb_range(*this, cpus_, start, end, cpu);
  if (policy() == SecondaryTlbFlush::kUnderPtl) {
    secondary_flushes_->inc();
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    if (env_.observer) {
      env_.observer->on_secondary_flush_begin(
          observed_range(t0, cpu, start, end, MmuNotifierEvent::kClear));
    }
    notifier_subscriptions().arch_invalidate_secondary_tlbs(start, end);
    secondary_flush_time_->sample(sc_core::sc_time_stamp() - t0);
    if (env_.observer) {
      env_.observer->on_secondary_flush_end(
          observed_range(t0, cpu, start, end, MmuNotifierEvent::kClear));
    }
  }
}

void Mm::range_start(MmuNotifierRange& r) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  notifier_subscriptions().invalidate_range_start(r);
  notifier_time_->sample(sc_core::sc_time_stamp() - t0);
  if (env_.observer) {
    env_.observer->on_range_start(observed_range(t0, -1, r.start, r.end, r.event));
  }
}

int Mm::range_start_nonblock(MmuNotifierRange& r) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  const int ret = notifier_subscriptions().invalidate_range_start_nonblock(r);
  notifier_time_->sample(sc_core::sc_time_stamp() - t0);
  if (ret == 0 && env_.observer) {
    env_.observer->on_range_start(observed_range(t0, -1, r.start, r.end, r.event));
  }
  return ret;
}

void Mm::range_end(int cpu, MmuNotifierRange& r) {
  const double hold_ns = env_.preempt_hold_ns(cpu);
  const sc_core::sc_time held = sc_core::sc_time_stamp();
  if (env_.observer && hold_ns > 0) env_.observer->on_preempt_begin(observed(held, cpu));
  run_for_ns(hold_ns);
  if (env_.observer && hold_ns > 0) env_.observer->on_preempt_end(observed(held, cpu));
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  notifier_subscriptions().invalidate_range_end(r);
  notifier_time_->sample(sc_core::sc_time_stamp() - t0);
  if (env_.observer) {
    env_.observer->on_range_end(observed_range(t0, cpu, r.start, r.end, r.event));
  }
}

uint64_t Mm::zap(int cpu, uint64_t start, uint64_t end, MmuNotifierEvent event,
                 const char* reason) {
  MmuNotifierRange r;
  mmu_notifier_range_init(r, event, kMmuNotifierRangeBlockable, *this, start, end);
  MmuGather tlb(*this, cpu);
  range_start(r);
  return zap_started(cpu, r, tlb, reason);
}

std::optional<uint64_t> Mm::zap_nonblock(int cpu, uint64_t start, uint64_t end,
                                         MmuNotifierEvent event, const char* reason) {
  MmuNotifierRange r;
  mmu_notifier_range_init(r, event, 0, *this, start, end);
  MmuGather tlb(*this, cpu);
  if (range_start_nonblock(r) != 0) {
    tlb.finish();
    return std::nullopt;
  }
  return zap_started(cpu, r, tlb, reason);
}

uint64_t Mm::zap_started(int cpu, MmuNotifierRange& r, MmuGather& tlb, const char* reason) {
  const uint64_t start = r.start, end = r.end;
  // zap_pmd_range: a PMD leaf the range covers in part is split first (its own CLEAR
  // range over the 2 MiB, nested in this one); a whole one is zapped (zap_huge_pmd).
  split_huge_pmd_edges(cpu, start, end, reason);
  ptl_lock();
  uint64_t cleared = 0;
  for (const Vma& v : vmas_.in_range(start, end)) {
    // A device-exclusive entry holds the page's mapping (zap_nonpresent_ptes); it has
    // no CPU TLB entry, so it needs no flush.
    for (auto it = exclusive_.lower_bound(v.start); it != exclusive_.end() && it->first < v.end;) {
      tlb.remove_page(it->second);
      it = exclusive_.erase(it);
    }
    for_each_present_leaf(v.start, v.end, [&](uint64_t va, const PageTableEditor::Slot& s) {
      const uint64_t bytes = page_bytes(s.size);
      // A 1 GiB hugetlb leaf is only ever zapped whole (MmOps refuses a partial range).
      if (va < start || va + bytes > end) return;
      run_for_ns(env_.cfg.per_page_ns);
      const uint64_t pa = s.pte.page_address(s.size);
      if (s.size == PageSize::k4K) {
        clear_pte(va, reason);
      } else {
        set_huge_leaf(va, s.size, Pte(), reason);  // zap_huge_pmd / huge_pmd_unshare's PUD
      }
      for (uint64_t f = pa; f < pa + bytes; f += kPageBytes) tlb.remove_page(f);
      ++cleared;
    });
  }
  if (cleared) tlb.flush(start, end);
  ptl_unlock();
  range_end(cpu, r);
  tlb.finish();
  return cleared;
}

void Mm::for_each_present_pte(uint64_t start, uint64_t end,
                              const std::function<void(uint64_t va, Pte pte)>& fn) {
  pt_walk_reads_ += editor_.for_each_present_leaf(root_, start, end,
                                                  [&](uint64_t va, const PageTableEditor::Slot& s) {
                                                    if (s.size == PageSize::k4K) fn(va, s.pte);
                                                  });
}

void Mm::for_each_present_leaf(
    uint64_t start, uint64_t end,
    const std::function<void(uint64_t va, const PageTableEditor::Slot& s)>& fn) {
  pt_walk_reads_ += editor_.for_each_present_leaf(root_, start, end, fn);
}

void Mm::run_for_ns(double ns) {
  if (ns > 0) context().current().run_for(iosim::ns(ns));
}

}  // namespace iosim

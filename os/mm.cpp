#include "os/mm.h"

#include <stdexcept>

#include "os/mmu_gather.h"
#include "os/os_context.h"
#include "os/os_observer.h"
#include "os/stat_names.h"
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
  if (const auto slot = leaf_slot(va)) {
    // What PageTableEditor::set_leaf does, without walking the tables a second time.
    old = slot->pte;
    env_.mem->write_u64(slot->entry_addr, value.raw());
  } else if (value.present()) {
    old = editor_.map(root_, va, value.page_address(PageSize::k4K), PageSize::k4K, value.flags());
  }
  pte_updates_->inc();
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
    env_.gt->pte_change(PteChangeEvent{sc_core::sc_time_stamp(), id(), va, kPageBytes, old.raw(),
                                       value.raw(), reason});
  }
  return old;
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
  ptl_lock();
  uint64_t cleared = 0;
  for (const Vma& v : vmas_.in_range(start, end)) {
    // A device-exclusive entry holds the page's mapping (zap_nonpresent_ptes); it has
    // no CPU TLB entry, so it needs no flush.
    for (auto it = exclusive_.lower_bound(v.start); it != exclusive_.end() && it->first < v.end;) {
      tlb.remove_page(it->second);
      it = exclusive_.erase(it);
    }
    for_each_present_pte(v.start, v.end, [&](uint64_t va, Pte p) {
      run_for_ns(env_.cfg.per_page_ns);
      clear_pte(va, reason);
      tlb.remove_page(p.page_address(PageSize::k4K));
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

void Mm::run_for_ns(double ns) {
  if (ns > 0) context().current().run_for(iosim::ns(ns));
}

}  // namespace iosim

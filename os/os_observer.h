// OsObserver: what the memory manager did, step by step, for timelines and traces.
//
// The memory manager (os/mm.cpp) calls an observer set in OsEnv::observer at each
// step of its invalidation sequences: MMU-notifier range start and end, page-table
// lock acquire and release, each PTE write, the preemption hold between dropping the
// PTL and invalidate_range_end, and the secondary-TLB flush made under the PTL
// (arch_invalidate_secondary_tlbs).
//
// Every callback runs on the thread doing the step, at the current simulated time,
// and carries that thread's execution context, the core (ExecContext::cpu(), or the
// cpu argument of the Mm call; -1 when the thread is not a core's) and the mm id. Steps that take
// time report when they began (`time`) and how long they took (`duration`): range start/end, the
// secondary flush and the PTL (hold time) are reported once, when they finish; the
// preemption hold is reported when it begins and when it ends.
//
// Simplifications: observers must not consume simulated time or call back into the
// memory manager; the PTL spin time is not reported (the ptl_spin histogram has it).
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "os/mmu_notifier_range.h"

namespace iosim {

class ExecContext;

struct OsEvent {
  sc_core::sc_time time;  // when the step began
  sc_core::sc_time duration = sc_core::SC_ZERO_TIME;
  int cpu = -1;  // core running the step; -1 when unknown
  uint32_t mm_id = 0;
  // The thread running the step (its kernel's context for it); null when not known.
  const ExecContext* thread = nullptr;
};

struct OsRangeEvent : OsEvent {
  uint64_t start = 0;  // [start, end) virtual range
  uint64_t end = 0;
  MmuNotifierEvent event = MmuNotifierEvent::kUnmap;
};

struct OsPteEvent : OsEvent {
  static constexpr uint64_t kNoFrame = ~uint64_t{0};
  uint64_t va = 0;                // page-aligned
  uint64_t old_raw = 0;           // x86-64 entry before (0 = not present)
  uint64_t new_raw = 0;           // entry after
  uint64_t old_frame = kNoFrame;  // frame before / after, kNoFrame when not present
  uint64_t new_frame = kNoFrame;
  const char* reason = "";  // "cow", "unmap", "mprotect", ... as in PteChangeEvent
};

class OsObserver {
 public:
  virtual ~OsObserver() = default;
  // invalidate_range_start / _end returned (time = the call, duration = the callbacks).
  virtual void on_range_start(const OsRangeEvent&) {}
  virtual void on_range_end(const OsRangeEvent&) {}
  // The PTL was taken (time = acquisition, after any spin).
  virtual void on_ptl_acquire(const OsEvent&) {}
  // The PTL was released (time = acquisition, duration = hold).
  virtual void on_ptl_release(const OsEvent&) {}
  // A PTE was written (time = when the write took effect).
  virtual void on_pte_update(const OsPteEvent&) {}
  // The preemption hold between dropping the PTL and invalidate_range_end began / ended
  // (end: time = start of the hold, duration = its length). Only when the hold is > 0.
  virtual void on_preempt_begin(const OsEvent&) {}
  virtual void on_preempt_end(const OsEvent&) {}
  // arch_invalidate_secondary_tlbs(start, end) under the PTL, when it begins and when it
  // returns (end: duration = time spent in it, spinning for the IOMMU).
  virtual void on_secondary_flush_begin(const OsRangeEvent&) {}
  virtual void on_secondary_flush_end(const OsRangeEvent&) {}
};

// Forwards every callback to several observers, in the order they were added (the
// memory manager holds one observer pointer).
class OsObserverList : public OsObserver {
 public:
  void add(OsObserver* o) { list_.push_back(o); }
  bool empty() const { return list_.empty(); }

  void on_range_start(const OsRangeEvent& e) override {
    for (OsObserver* o : list_) o->on_range_start(e);
  }
  void on_range_end(const OsRangeEvent& e) override {
    for (OsObserver* o : list_) o->on_range_end(e);
  }
  void on_ptl_acquire(const OsEvent& e) override {
    for (OsObserver* o : list_) o->on_ptl_acquire(e);
  }
  void on_ptl_release(const OsEvent& e) override {
    for (OsObserver* o : list_) o->on_ptl_release(e);
  }
  void on_pte_update(const OsPteEvent& e) override {
    for (OsObserver* o : list_) o->on_pte_update(e);
  }
  void on_preempt_begin(const OsEvent& e) override {
    for (OsObserver* o : list_) o->on_preempt_begin(e);
  }
  void on_preempt_end(const OsEvent& e) override {
    for (OsObserver* o : list_) o->on_preempt_end(e);
  }
  void on_secondary_flush_begin(const OsRangeEvent& e) override {
    for (OsObserver* o : list_) o->on_secondary_flush_begin(e);
  }
  void on_secondary_flush_end(const OsRangeEvent& e) override {
    for (OsObserver* o : list_) o->on_secondary_flush_end(e);
  }

 private:
  std::vector<OsObserver*> list_;
};

}  // namespace iosim

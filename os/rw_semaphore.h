// A kernel read-write semaphore (struct rw_semaphore): mmap_lock, i_mmap_rwsem and
// anon_vma->rwsem (the "rmap locks").
//
// Models: any number of readers or one writer; a thread that cannot take the lock
// sleeps in simulated time and is woken in FIFO order (a writer at the head of the
// queue blocks later readers, so writers are not starved; when the lock is released
// the head writer, or the run of readers at the head, is granted). Every down_*()
// calls might_sleep(), so taking it in atomic context is reported even when it does
// not block. Costs: one atomic operation per acquisition (acquire_ns) and the
// scheduler wake-up latency (wakeup_latency_ns) for a thread that had to sleep.
// Holders are tracked per thread so "does this thread hold mmap_lock for write"
// can be asked (mmap_assert_write_locked()).
//
// Simplifications: no optimistic spinning on the owner, no reader-wakeup batching
// across queued writers, no lock stealing, no killable/interruptible variants.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "os/exec_context.h"

namespace iosim {

class OsContext;

struct RwSemaphoreConfig {
  // One locked RMW on the count word: ~19 cycles for a LOCK CMPXCHG on Intel
  // Alder Lake-P (uops.info), ~6 ns at 3 GHz.
  double acquire_ns = 6.0;
  double wakeup_latency_ns = kDefaultWakeupLatencyNs;

  template <class V>
  void visit(V& v) {
    v("acquire_ns", acquire_ns, "ns", "cost of the atomic operation that takes the semaphore");
    v("wakeup_latency_ns", wakeup_latency_ns, "ns",
      "delay between the grant and a sleeping waiter running again");
  }
};

struct RwSemaphoreStats {
  uint64_t read_acquisitions = 0;
  uint64_t write_acquisitions = 0;
  uint64_t contended = 0;  // acquisitions that had to sleep
  sc_core::sc_time wait_total = sc_core::SC_ZERO_TIME;
  sc_core::sc_time wait_max = sc_core::SC_ZERO_TIME;
  sc_core::sc_time write_hold_total = sc_core::SC_ZERO_TIME;
  sc_core::sc_time write_hold_max = sc_core::SC_ZERO_TIME;
};

class RwSemaphore {
 public:
  // `os`: the kernel whose threads take the semaphore (might_sleep, its diagnostics).
  RwSemaphore(OsContext& os, std::string name, const RwSemaphoreConfig& cfg = {});
  RwSemaphore(const RwSemaphore&) = delete;
  RwSemaphore& operator=(const RwSemaphore&) = delete;

  void down_read();
  // down_read() for a caller that has executed `pending` without waiting for it (see
  // ExecContext::charge). When the lock is free, the caller may sleep and no other
  // process can run before `pending` and the acquisition cost end
  // (Timing::may_keep), the lock is taken now and the cost is added to
  // `pending`: nobody can tell it from taking it at the end of `pending`, and the
  // caller computes its times from sc_time_stamp() + pending. Otherwise `pending` is
  // charged and down_read() follows.
  void down_read(sc_core::sc_time& pending);
  void down_write();
  bool down_read_trylock();
  bool down_write_trylock();
  void up_read();
  void up_write();
  // Converts the caller's write hold into a read hold and wakes queued readers.
  void downgrade_write();

  bool is_locked() const { return writer_.valid() || !readers_.empty(); }
  bool is_write_locked() const { return writer_.valid(); }
  unsigned reader_count() const;
  bool read_held_by_current() const;
  bool write_held_by_current() const;
  bool held_by_current() const { return read_held_by_current() || write_held_by_current(); }
  // mmap_assert_write_locked(): reports kLockNotHeld naming `who` unless the caller holds
  // the semaphore for write.
  bool assert_write_held(const char* who) const;
  size_t waiters() const { return queue_.size(); }

  const std::string& name() const { return name_; }
  const RwSemaphoreStats& stats() const { return stats_; }

 private:
  struct Waiter {
    sc_core::sc_process_handle proc;
    bool writer;
    bool granted;
  };
  struct ReadHold {
    sc_core::sc_process_handle proc;
    unsigned count = 0;
  };
  // The read hold of `proc`, readers_.end() when it holds none.
  std::vector<ReadHold>::iterator find_reader(const sc_core::sc_process_handle& proc);
  std::vector<ReadHold>::const_iterator find_reader(const sc_core::sc_process_handle& proc) const;
  // The read hold of `proc`, added (with count 0) when it holds none.
  ReadHold& read_hold(const sc_core::sc_process_handle& proc);

  void acquire(bool writer, const char* what);
  void grant(Waiter& w);
  void wake_waiters();
  void finish_acquire(bool writer, const sc_core::sc_time& requested, bool slept);

  OsContext& os_;
  std::string name_;
  RwSemaphoreConfig cfg_;
  sc_core::sc_time acquire_time_;  // cfg_.acquire_ns
  sc_core::sc_process_handle writer_;
  // One entry per reading thread, unordered: a few at most, so a scan is cheaper than
  // a tree node per acquisition.
  std::vector<ReadHold> readers_;
  std::deque<Waiter*> queue_;
  sc_core::sc_event wake_;
  sc_core::sc_time write_since_ = sc_core::SC_ZERO_TIME;
  RwSemaphoreStats stats_;
};

}  // namespace iosim

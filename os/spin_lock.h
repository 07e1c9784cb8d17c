// A kernel spin lock (spinlock_t), e.g. the page-table lock (PTL).
//
// Models: preemption is disabled from the moment lock() is called (so the caller is
// in atomic context while spinning and while holding the lock); waiters are served
// in FIFO order like a ticket/queued spin lock; every acquisition costs one atomic
// read-modify-write (acquire_ns); the time spent spinning on a held lock and the
// time the lock is held are measured (count/total/max). The holder is tracked, so
// held_by_current() answers "does this thread hold the PTL". A lock flagged as a
// page-table lock also counts in ExecContext::page_table_locks_held().
//
// Misuse is reported, never aborted: unlocking a lock one does not hold is a
// kLockNotHeld diagnostic (and ignored); taking a lock one already holds is a
// kRecursiveLock diagnostic and, as in the kernel, the thread then spins forever.
//
// Simplifications: no cache-line transfer cost on hand-off beyond acquire_ns, no
// irq-disabling variants, no lockdep ordering.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <string>

namespace iosim {

class OsContext;

struct SpinLockConfig {
  // One locked cmpxchg: ~19 cycles measured for LOCK CMPXCHG m64,r64 on Intel
  // Alder Lake-P (uops.info), ~6 ns at 3 GHz.
  double acquire_ns = 6.0;

  template <class V>
  void visit(V& v) {
    v("acquire_ns", acquire_ns, "ns", "cost of the atomic operation that takes the lock");
  }
};

struct SpinLockStats {
  uint64_t acquisitions = 0;  // successful lock()/trylock()
  uint64_t contended = 0;     // acquisitions that had to spin
  sc_core::sc_time spin_total = sc_core::SC_ZERO_TIME;
  sc_core::sc_time spin_max = sc_core::SC_ZERO_TIME;
  uint64_t holds = 0;  // completed hold periods (unlocks)
  sc_core::sc_time hold_total = sc_core::SC_ZERO_TIME;
  sc_core::sc_time hold_max = sc_core::SC_ZERO_TIME;
};

class SpinLock {
 public:
  enum class Kind { kGeneric, kPageTable };

  // `os`: the kernel whose threads take the lock (their atomic-context state, its
  // diagnostics).
  SpinLock(OsContext& os, std::string name, const SpinLockConfig& cfg = {},
           Kind kind = Kind::kGeneric);
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock();
  // The same, with the acquisition cost deferred: it is added to `pending` (time the
  // caller has executed but not yet waited for, charged before its next action others
  // can see) instead of being waited for. `pending` is charged first: the request
  // itself is an action others can see. The lock is owned from the request on, as
  // with lock().
  void lock(sc_core::sc_time& pending);
  bool trylock();
  void unlock();

  bool is_locked() const { return owner_.valid(); }
  bool held_by_current() const;
  // lockdep_assert_held(): reports kLockNotHeld (naming `who`) if the caller does not
  // hold the lock; returns whether it does.
  bool assert_held(const char* who) const;
  // Name of the holding process, "" when free.
  std::string owner_name() const;
  size_t waiters() const { return queue_.size(); }

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  const SpinLockStats& stats() const { return stats_; }

 private:
  // Records the acquisition; its cost is added to `pending`.
  void take(const sc_core::sc_time& requested, bool contended, sc_core::sc_time& pending);

  OsContext& os_;
  std::string name_;
  SpinLockConfig cfg_;
  sc_core::sc_time acquire_time_ = sc_core::SC_ZERO_TIME;  // cfg_.acquire_ns
  Kind kind_;
  sc_core::sc_process_handle owner_;
  std::deque<sc_core::sc_process_handle> queue_;
  sc_core::sc_event handoff_;
  sc_core::sc_time hold_start_ = sc_core::SC_ZERO_TIME;
  SpinLockStats stats_;
};

// RAII guard (spin_lock/spin_unlock in one scope).
class SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& l) : l_(l) { l_.lock(); }
  ~SpinLockGuard() { l_.unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace iosim

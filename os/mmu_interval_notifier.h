// An interval subscriber (struct mmu_interval_notifier + its ops) and the
// collision-retry helpers of include/linux/mmu_notifier.h.
//
// A driver that mirrors only part of an address space inserts an interval
// [start, start + length) and implements invalidate(range, cur_seq), which must call
// mmu_interval_set_seq(sub, cur_seq) under the driver's own lock and may return
// false only when the range is not blockable and it would have to sleep. To build a
// secondary mapping the driver runs the read side:
//
//   seq = mmu_interval_read_begin(sub);   // waits while an invalidation is active
//   ... read the CPU page table, prepare the SPTE ...
//   lock(driver_lock);
//   if (mmu_interval_read_retry(sub, seq)) { unlock; goto again; }
//   ... install the SPTE ...
//   unlock(driver_lock);
//
// The sequence numbers are those of the kernel: the mm-wide invalidate_seq is even
// when idle and odd while an invalidation that hits an interval is active; every
// value passed as cur_seq and stored in a subscription is odd.
//
// The notifier layer owns the state below the callback (mm, interval bounds, tree
// position) and per-subscriber statistics.
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "os/mmu_notifier_range.h"

namespace iosim {

class MmStruct;

struct MmuIntervalNotifierStats {
  uint64_t invalidates = 0;
  std::array<uint64_t, kMmuNotifierEventCount> invalidate_events{};  // per event
  uint64_t would_block = 0;                                          // invalidate() returned false
  uint64_t sleep_violations = 0;  // slept in a non-blockable invalidate()
  sc_core::sc_time callback_time = sc_core::SC_ZERO_TIME;
  sc_core::sc_time callback_time_under_ptl = sc_core::SC_ZERO_TIME;
};

class MmuIntervalNotifier {
 public:
  enum class State {
    kIdle,            // not inserted (or removed)
    kInTree,          // in the interval tree
    kDeferredInsert,  // insert queued until the last active invalidation ends
    kDeferredRemove,  // in the tree; removal queued until the last invalidation ends
  };

  explicit MmuIntervalNotifier(std::string name) : name_(std::move(name)) {}
  virtual ~MmuIntervalNotifier() = default;
  MmuIntervalNotifier(const MmuIntervalNotifier&) = delete;
  MmuIntervalNotifier& operator=(const MmuIntervalNotifier&) = delete;

  // Upon return the caller must stop using any SPTE within the range. May sleep when
  // the range is blockable; otherwise returns false if it would have to sleep.
  virtual bool invalidate(const MmuNotifierRange& range, uint64_t cur_seq) = 0;

  const std::string& name() const { return name_; }
  MmStruct* mm() const { return mm_; }
  uint64_t start() const { return start_; }
  uint64_t last() const { return last_; }  // inclusive
  State state() const { return state_; }
  uint64_t invalidate_seq() const { return invalidate_seq_; }
  void set_invalidate_seq(uint64_t seq) { invalidate_seq_ = seq; }
  const MmuIntervalNotifierStats& stats() const { return stats_; }

 private:
  friend class MmuIntervalTree;
  friend class MmuNotifierSubscriptions;

  std::string name_;
  MmStruct* mm_ = nullptr;
  uint64_t start_ = 0;
  uint64_t last_ = 0;
  uint64_t invalidate_seq_ = 0;
  State state_ = State::kIdle;
  std::multimap<uint64_t, MmuIntervalNotifier*>::iterator node_;
  MmuIntervalNotifierStats stats_;
};

// Saves cur_seq; call from invalidate() under the lock also taken around read_retry.
inline void mmu_interval_set_seq(MmuIntervalNotifier& sub, uint64_t cur_seq) {
  sub.set_invalidate_seq(cur_seq);
}

// True if an invalidation collided with the read side that returned `seq`.
inline bool mmu_interval_read_retry(const MmuIntervalNotifier& sub, uint64_t seq) {
  return sub.invalidate_seq() != seq;
}

// Same test, usable without the driver lock; false is only a hint.
inline bool mmu_interval_check_retry(const MmuIntervalNotifier& sub, uint64_t seq) {
  return sub.invalidate_seq() != seq;
}

}  // namespace iosim

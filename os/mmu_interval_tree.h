// The interval-notifier half of struct mmu_notifier_subscriptions: the interval
// tree, the mm-wide invalidate_seq, the count of active invalidations, the deferred
// insert/remove list and the wait queue.
//
// Protocol (mm/mmu_notifier.c):
//   - invalidate_seq starts at 2 (even = idle). An invalidation start counts itself
//     in active_invalidate_ranges and, if it hits an interval, sets the seq odd
//     ("fully excluded": the tree may not change). The hit intervals are visited in
//     order of start address with cur_seq = the odd seq.
//   - The last end of an odd period makes the seq even again, applies the deferred
//     inserts/removes (most recent first) and wakes the wait queue.
//   - insert while invalidations are active: if the seq is odd the insert is
//     deferred, otherwise the seq is made odd and the interval inserted at once (an
//     active range might cover it); either way the subscription's seq is the current
//     odd seq so a read_begin waits for the end. When idle the subscription gets
//     seq - 1 (odd, never equal to the mm seq).
//   - remove while odd: a deferred insert is simply dropped; an interval in the
//     tree is queued for removal and the caller must wait for the seq to change.
//
// No SystemC process is involved; the caller (MmuNotifierSubscriptions) does the
// waiting on wq(). Simplification: overlap search is a linear scan of a map ordered
// by start (same visiting order as the kernel's augmented rbtree).
#pragma once

#include <systemc>

#include <cstdint>
#include <map>
#include <vector>

#include "os/mmu_interval_notifier.h"
#include "os/mmu_notifier_range.h"

namespace iosim {

class MmuIntervalTree {
 public:
  static constexpr uint64_t kInitialSeq = 2;

  MmuIntervalTree() = default;
  MmuIntervalTree(const MmuIntervalTree&) = delete;
  MmuIntervalTree& operator=(const MmuIntervalTree&) = delete;

  // Write side. inv_start_range() counts the invalidation as active and returns the
  // first interval hit (or nullptr); *cur_seq receives the seq to pass to invalidate().
  MmuIntervalNotifier* inv_start_range(const MmuNotifierRange& r, uint64_t* cur_seq);
  MmuIntervalNotifier* inv_next(const MmuIntervalNotifier& cur, const MmuNotifierRange& r);
  // Ends one active invalidation. Returns false (and changes nothing) when none is active.
  bool inv_end();

  // Inserts [start, last]. The subscription must be kIdle.
  void insert(MmuIntervalNotifier& sub, uint64_t start, uint64_t last);
  // Removes (or queues the removal of) a subscription that is not kIdle. Returns the
  // seq whose change the caller must wait for, or 0 when the removal is complete.
  uint64_t remove(MmuIntervalNotifier& sub);
  // read_begin's locked part: the subscription's seq, and whether it is being
  // invalidated right now.
  uint64_t read_begin_seq(const MmuIntervalNotifier& sub, bool* is_invalidating) const;

  bool is_invalidating() const { return (invalidate_seq_ & 1) != 0; }
  uint64_t invalidate_seq() const { return invalidate_seq_; }
  uint64_t active_invalidate_ranges() const { return active_; }
  size_t size() const { return tree_.size(); }
  size_t deferred() const { return deferred_.size(); }
  // Notified (wake_up_all) whenever an odd period ends.
  const sc_core::sc_event& wq() const { return wq_; }

 private:
  using Tree = std::multimap<uint64_t, MmuIntervalNotifier*>;

  MmuIntervalNotifier* first_hit(Tree::iterator from, const MmuNotifierRange& r);
  void tree_insert(MmuIntervalNotifier& sub);
  void tree_remove(MmuIntervalNotifier& sub);
  void apply_deferred();

  uint64_t invalidate_seq_ = kInitialSeq;
  uint64_t active_ = 0;
  Tree tree_;
  std::vector<MmuIntervalNotifier*> deferred_;  // in queueing order
  sc_core::sc_event wq_;
};

}  // namespace iosim

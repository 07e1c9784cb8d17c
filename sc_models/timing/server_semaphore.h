// ServerSemaphore: a shared resource held for a time its holder does not know in
// advance (a page walker for a whole walk, Outstanding Page Request Allocation
// credits until the PRG Response): reserve, wait, release.
//
// It counts units (walkers, credits). A request for n units takes them at once when
// n are free and nobody is waiting; otherwise it queues. Waiters are served in
// arrival order: a release hands the freed units to the oldest waiter if they cover
// its request (then to the next, and so on) and wakes exactly the waiters it served,
// each with its own event, one after the other (each woken waiter wakes the next
// served one when it runs, so they act in the order they asked even at the same
// simulated time). A request that arrives while others wait queues behind them even
// if units are free, so a later request never overtakes an earlier one (first come,
// first served; a large request at the head holds back smaller ones behind it, as a
// FIFO queue in hardware does).
//
// The units handed over are taken for the waiter at the release's simulated time;
// the waiter runs in a later delta cycle of that time. ServerPool (server_pool.h) is
// the simpler form for a resource whose service time is known when it is reserved.
//
// Simplification: no priorities and no time-out; a waiter leaves the queue only when
// served.
#pragma once

#include "sc_models/timing/local_time.h"

#include <systemc>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace iosim {

class ServerSemaphore {
 public:
  // `units` free units (servers or credits); at least one. `timing`: the system's,
  // told when a release wakes a waiter (a delta notification its lookahead must know of).
  ServerSemaphore(unsigned units, Timing& timing);

  // Takes `n` units (1 <= n <= capacity()), queuing in arrival order while they are
  // not free or others wait; `wait_for(const sc_core::sc_event&)` is the caller's way
  // of waiting for an event (e.g. one that sets a decoupled scope aside). Returns
  // true when the caller waited.
  template <class WaitFor>
  bool acquire(unsigned n, WaitFor&& wait_for) {
    check(n);
    if (queue_.empty() && free_ >= n) {
      free_ -= n;
      return false;
    }
    Waiter& w = enqueue(n);
    while (!w.served) wait_for(w.granted);
    wake_next(w);
    return true;
  }
  // As above, waiting with sc_core::wait.
  bool acquire(unsigned n = 1);

  // Returns `n` units and serves the waiters they now cover, oldest first.
  void release(unsigned n = 1);

  unsigned capacity() const { return capacity_; }
  unsigned free_units() const { return free_; }
  unsigned in_use() const { return capacity_ - free_; }
  // Requests queued and not yet served.
  size_t waiting() const { return queue_.size(); }
  // Waiters woken by release() since construction.
  uint64_t wakeups() const { return wakeups_; }

 private:
  struct Waiter {
    unsigned units = 0;
    bool served = false;  // the units are taken for it
    sc_core::sc_event granted;
  };
  void check(unsigned n) const;
  Waiter& enqueue(unsigned n);
  // Called by a served waiter when it runs: frees its slot and wakes the next served
  // waiter, if any.
  void wake_next(Waiter& w);
  void wake(Waiter& w);

  Timing& timing_;
  unsigned capacity_;
  unsigned free_;
  std::deque<Waiter*> queue_;   // waiting, oldest first
  std::deque<Waiter*> served_;  // served and not yet run, oldest first (the first is woken)
  // Waiters, with their events, are kept for reuse (pool_ owns them, spare_ lists the
  // free ones), so a wait costs no allocation once as many have waited at once.
  std::vector<std::unique_ptr<Waiter>> pool_;
  std::vector<Waiter*> spare_;
  uint64_t wakeups_ = 0;
};

}  // namespace iosim

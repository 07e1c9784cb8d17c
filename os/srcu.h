// Sleepable RCU (SRCU) in simulated time: read-side sections, synchronize_srcu(),
// call_srcu() and srcu_barrier().
//
// Models the guarantee the MMU-notifier layer relies on: a grace period started at
// time t ends only when every read-side section that began before t has ended, so a
// subscription removed from the list is freed only after every callback that may
// still be running on it has returned. Each reader gets a ticket; a grace period
// waits for the readers with earlier tickets (later readers do not extend it), and
// lasts at least grace_period_ns. call_srcu() callbacks run after a grace period in
// their own SystemC thread, inside a non-block section (they must not sleep).
//
// Simplifications: the grace period has a fixed minimum length instead of the
// kernel's per-CPU counter flipping and its expedited/normal modes; the domain is
// per object rather than the kernel's one global mmu_notifier srcu; the object must
// outlive the callbacks queued on it.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace iosim {

class OsContext;

class Srcu {
 public:
  // `os`: the kernel whose threads read and wait (might_sleep, its diagnostics).
  explicit Srcu(OsContext& os, std::string name, double grace_period_ns = 0.0,
                double wakeup_latency_ns = 0.0);
  Srcu(const Srcu&) = delete;
  Srcu& operator=(const Srcu&) = delete;

  // srcu_read_lock(): returns the ticket to pass to read_unlock().
  uint64_t read_lock();
  void read_unlock(uint64_t ticket);

  // synchronize_srcu(): sleeps until every reader that began before the call has
  // finished (and at least grace_period_ns). A thread calling it inside its own
  // read-side section would deadlock: that is reported (kSrcuDeadlock) and the
  // caller's own sections are not waited for.
  void synchronize();
  // call_srcu(): runs `cb` after a grace period, in a spawned thread.
  void call(std::function<void()> cb);
  // srcu_barrier(): sleeps until every callback queued so far has run.
  void barrier();

  unsigned readers() const { return static_cast<unsigned>(readers_.size()); }
  bool current_in_reader() const;
  uint64_t grace_periods() const { return grace_periods_; }
  uint64_t callbacks_pending() const { return pending_; }
  const std::string& name() const { return name_; }

 private:
  // Waits (without might_sleep) until readers with ticket < `before` other than
  // `skip`'s are gone and `min_end` is reached.
  void wait_grace(uint64_t before, const sc_core::sc_process_handle& skip,
                  const sc_core::sc_time& min_end);
  bool readers_before(uint64_t before, const sc_core::sc_process_handle& skip) const;

  OsContext& os_;
  std::string name_;
  sc_core::sc_time grace_period_;
  sc_core::sc_time wakeup_latency_;
  uint64_t next_ticket_ = 1;
  // Open read-side sections by ticket, in ticket order (tickets only grow).
  using Reader = std::pair<uint64_t, sc_core::sc_process_handle>;
  std::vector<Reader> readers_;
  unsigned grace_waiters_ = 0;  // threads waiting on reader_done_
  sc_core::sc_event reader_done_;
  sc_core::sc_event callback_done_;
  uint64_t grace_periods_ = 0;
  uint64_t pending_ = 0;
};

}  // namespace iosim

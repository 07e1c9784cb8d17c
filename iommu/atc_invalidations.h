// AtcInvalidations: the ATS Invalidate Requests an IOMMU's command queue has sent to
// devices and their Invalidate Completions (PCIe 6.0 section 10.3), the part of a
// command queue every architecture shares: VT-d's device-TLB invalidations and
// inv_wait, SMMUv3's CMD_ATC_INV and CMD_SYNC.
//
// issue() sends one Invalidate Request on a root port with a free ITag (the
// port's bookkeeping, RootPort); when the device already has Invalidate-Queue-Depth
// requests in flight the queue processor stalls until one completes. wait_all() is
// the ordering point of a completion wait or sync: it returns when every request in
// flight has completed or timed out. Completions count per ITag up to the
// Completion Count of the first; the ITag is retired when the last has arrived, and
// a completion for an ITag not in flight is counted as stale. A request not answered
// within the time-out is abandoned: its ITag is freed, the front-end's on_timeout
// hook runs with the port and ITag of the request (its error bits and fault interrupt), and
// take_failure() reports it to the next wait. A late completion that arrives while its ITag is in
// flight again counts for the new request (the ITag is all a completion carries).
//
// Only the queue processor thread issues and waits, and it serves its queue in
// order: there is a single waiter and no request overtakes another. Completions
// arrive in the devices' processes: on_completion() records them with their arrival
// time and wakes the waiting processor, or (when none waits) a method that retires
// them.
//
// Statistics (in the command queue's group): atc_inv_latency, itag_occupancy,
// itag_timeouts, stale_completions, itag_backpressure_stalls.
#pragma once

#include <systemc>
#include <tlm>

#include <functional>
#include <map>
#include <vector>

#include "iommu/memory_port.h"
#include "iommu/root_port.h"
#include "sc_models/observe/stats.h"
#include "sc_models/pcie/pcie_ext.h"

namespace iosim {

class AtcInvalidations {
 public:
  // Spawns its method in the module under construction (the command queue).
  // `on_timeout(port, itag)` runs when the request with that ITag on that port times
  // out (the ITag is free again when it runs).
  AtcInvalidations(StatGroup& stats, MemoryPort& mem, const sc_core::sc_time& timeout,
                   std::function<void(RootPort&, uint8_t)> on_timeout);

  // The root ports, known once elaboration has ended (called by the processor thread).
  void set_ports(std::vector<RootPort*> ports) { ports_ = std::move(ports); }

  // Sends `req` on `port` with a free ITag at sc_time_stamp() + d (waiting first for
  // a free one); d may stay annotated. Returns the ITag.
  uint8_t issue(RootPort& port, InvalidateRequest req, sc_core::sc_time& d);
  // Waits until no request is in flight (completed or timed out); d is consumed.
  void wait_all(sc_core::sc_time& d) {
    wait_until([this] { return !any_busy(); }, d);
  }
  // True (once) when a request timed out since the last call.
  bool take_failure() {
    const bool f = failed_pending_;
    failed_pending_ = false;
    return f;
  }

  // An Invalidate Completion arriving at sc_time_stamp() + delay on `port`.
  void on_completion(RootPort& port, const InvalidateCompletion& c, const sc_core::sc_time& delay);

  uint64_t timeouts() const { return timeouts_.value(); }

 private:
  struct Arrival {
    RootPort* port;
    InvalidateCompletion completion;
  };

  bool any_busy() const;
  void deliver_completions();
  // Counts the completions that have arrived by now; true when one freed an ITag.
  bool take_arrivals();
  void expire_itags();
  // Waits (with ITag timeouts) until done() holds.
  template <class Done>
  void wait_until(const Done& done, sc_core::sc_time& d);

  MemoryPort& mem_;
  sc_core::sc_time timeout_;
  std::function<void(RootPort&, uint8_t)> on_timeout_;
  std::vector<RootPort*> ports_;
  bool failed_pending_ = false;
  bool waiting_ = false;  // the processor waits on done_ in wait_until()
  // A lower bound of the deadlines of the ITags in flight (every ITag's deadline is
  // at or after it): expire_itags() has nothing to do before it.
  sc_core::sc_time deadline_bound_ = sc_core::sc_max_time();
  sc_core::sc_event done_, arrival_event_;
  // Fires at the earliest ITag deadline and notifies done_. Never cancelled: a
  // cancelled timed notification (or the timeout of a wait(t, e) woken by e) stays in
  // the kernel's queue until its time, so with ITag timeouts of seconds each waited
  // invalidation would grow that queue; a stale firing only re-checks.
  sc_core::sc_event timeout_event_;
  std::multimap<sc_core::sc_time, Arrival> arrivals_;

  Histogram& latency_;
  Average& occupancy_;
  Counter& timeouts_;
  Counter& stale_;
  Counter& backpressure_;
};

template <class Done>
void AtcInvalidations::wait_until(const Done& done, sc_core::sc_time& d) {
  // The condition is checked from `ready` (after the pending delay) on. When it does
  // not hold yet, the wait for the pending delay and the wait for a completion or a
  // deadline are one wait unless a completion arrives before `ready`.
  const sc_core::sc_time ready = sc_core::sc_time_stamp() + d;
  d = sc_core::SC_ZERO_TIME;
  for (;;) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (now >= ready) {
      expire_itags();
      if (done()) return;
    } else if (done()) {
      mem_.wait(ready - now);  // ITags only become busy on this thread
      continue;
    }
    sc_core::sc_time earliest = sc_core::SC_ZERO_TIME;
    bool any = false;
    for (RootPort* port : ports_) {
      port->for_each_busy_itag([&](uint8_t, const RootPort::Itag& t) {
        if (!any || t.deadline < earliest) earliest = t.deadline;
        any = true;
      });
    }
    deadline_bound_ = any ? earliest : sc_core::sc_max_time();
    // Deadlines are acted on from `ready` on, as when the delay was waited for first.
    if (any) timeout_event_.notify(std::max(earliest, ready) - now);
    // Completions already on their way wake this thread when they arrive (those
    // announced to the method are taken by whichever runs first).
    if (!arrivals_.empty()) done_.notify(std::max(arrivals_.begin()->first, now) - now);
    waiting_ = true;
    mem_.wait(done_);
    waiting_ = false;
    take_arrivals();
  }
}

}  // namespace iosim

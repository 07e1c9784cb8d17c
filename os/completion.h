// A kernel completion (struct completion): one side signals "done", the other waits.
//
// Models the counting semantics of complete()/complete_all()/wait_for_completion()
// and two ways to wait in simulated time: sleeping (wait_for_completion(), which
// checks might_sleep and pays the scheduler wake-up latency) and spinning
// (spin_until_done(), busy-polling with no wake-up latency; allowed under a spin lock,
// as an IOMMU driver polls its command-queue wait descriptor under the PTL).
//
// Simplifications: no timeouts, no interruptible/killable variants.
#pragma once

#include <systemc>

#include <cstdint>

#include "os/exec_context.h"

namespace iosim {

class OsContext;

class Completion {
 public:
  // `os`: the kernel whose threads wait (might_sleep, its diagnostics).
  explicit Completion(OsContext& os, double wakeup_latency_ns = kDefaultWakeupLatencyNs)
      : os_(os), wakeup_latency_ns_(wakeup_latency_ns) {}
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  void complete();      // one waiter may proceed
  void complete_all();  // every current and future waiter may proceed
  void reinit() { done_ = 0; }
  bool completion_done() const { return done_ > 0; }
  bool try_wait_for_completion();

  // Sleeps until completed (reports kSleepInAtomic in atomic context).
  void wait_for_completion();
  // Busy-waits until completed; allowed in atomic context.
  void spin_until_done();

  const sc_core::sc_event& event() const { return ev_; }

 private:
  void consume();

  OsContext& os_;
  double wakeup_latency_ns_;
  uint64_t done_ = 0;
  sc_core::sc_event ev_;
};

}  // namespace iosim

// Lookahead: a process may take a wait as annotated time instead of waiting for it
// when no other process can run before that wait would end (the conservative
// lookahead of parallel discrete-event simulation, applied within one kernel).
//
// Skipping a wait of d at kernel time t is exact when nothing else is runnable at
// t and the kernel's next pending activity (timed notification or timeout) lies
// strictly after t + d: in both executions no other process runs in [t, t + d],
// so every state the process reads is the state it would read at t + d, and what
// it changes is seen by others only after t + d. The process carries its position
// as annotated delay (sc_time_stamp() + delay), as every model here already does
// for the times it computes, and its next real wait brings the kernel there.
//
// Three rules keep it exact, and the call sites follow them:
//  - only code that computes every time from sc_time_stamp() + delay may skip;
//  - while ahead, a process must not make another process runnable: a delta or
//    immediate notification would wake the other process at t instead of t + d.
//    Timed notifications at an absolute time (now + delay) are fine. Code that
//    needs to wake someone synchronises first (a real wait) or notifies only when
//    a process waits;
//  - the horizon (set_horizon, e.g. the end of sc_start(duration)) is not crossed,
//    so a run that stops early has not done work that lies after its end.
//
// Models use it only through their system's Timing and their LocalTime objects
// (sc_models/timing/local_time.h); LocalTime also makes a narrower check of its own for
// an initiator's private path (may_skip_locally).
// A model with a single active initiator then costs one context switch per memory round trip
// instead of three; with several active initiators the check usually fails and the
// model synchronises as before. `sim.lookahead = false` turns it off; results are
// the same either way (tests compare the two), except where two processes act at
// the same simulated time: IEEE 1666 leaves their order to the kernel, whose
// timed-event heap breaks such ties by its shape, and fewer waits give it another
// shape. Either order is a valid run; a scenario whose outcome depends on a tie
// should not have one (configs/cow_race.scn staggers its two faults by 1 ns).
#pragma once

#include <systemc>

#include <cstdint>

namespace iosim {

// The TLM global quantum's storage (tlm::tlm_global_quantum::instance().get()).
const sc_core::sc_time& global_quantum_storage();

// That storage, found once when the program starts (before any static object of a
// file that includes this header is made), so that reading it takes no guard.
inline const sc_core::sc_time* const global_quantum = &global_quantum_storage();

// True when the TLM global quantum is non-zero (temporal decoupling). Reads the
// singleton's storage, so a later set() is seen and the hot paths make no library
// call per request.
inline bool quantum_set() {
  return global_quantum->value() != 0;
}

// sc_core::sc_time_stamp() (the running context's time) without the library call,
// for the per-request paths: the kernel's accessors are inline. The one use of the
// Accellera kernel's internals: the IEEE 1666 sc_time_stamp() is a library call,
// 6% more host instructions per IOTLB-hit request and per walk (bench/run
// --instructions: iotlb_hit 4153 -> 4400, iotlb_miss_walk 6566 -> 6942), which would
// take those paths past 1.10x of bench/instructions_baseline.json.
inline const sc_core::sc_time& kernel_time() {
  return sc_core::sc_get_curr_simcontext()->time_stamp();
}

}  // namespace iosim

namespace iosim {

// The lookahead of one simulated system: whether it is on, the horizon, and what it
// last learnt of the kernel's next pending activity. Held by the system's timing
// (sc_models/timing/local_time.h), so two systems in one simulation keep their own.
class Lookahead {
 public:
  bool enabled() const { return on_; }
  void set_enabled(bool on) { on_ = on; }

  // No wait is skipped past this absolute simulated time (default: none).
  void set_horizon(const sc_core::sc_time& t);

  // True when the running process may keep `d` as annotated time instead of waiting
  // for it (see above). False when disabled, with a non-zero TLM global quantum
  // (temporal decoupling has its own rules), when d is zero, when another process is
  // runnable now, or when any activity is pending at or before now + d.
  //
  // The bound is asked of the kernel once per run of a process (one evaluation
  // phase): until the process waits, only its own notifications could change what is
  // pending, and the call sites make none without forget() or a real wait. Inline so
  // that the common case, a bound already known, makes no call (the IOMMU and the
  // device ask several times per request).
  bool may_skip(const sc_core::sc_time& d) {
    // With a non-zero quantum the decoupled paths decide (sc_models/timing/server_pool.h).
    // (value() == 0: SC_ZERO_TIME is a library global, one more load per call.)
    if (!on_ || d.value() == 0 || quantum_set()) return false;
    if (sc_core::sc_delta_count() != bound_delta_ ||
        sc_core::sc_get_current_process_handle() != bound_process_) {
      return refresh(d);
    }
    if (!(kernel_time() + d < bound_)) return false;
    ++skipped_;
    return true;
  }

  // To be called after notifying an event while ahead (a timed notification at the
  // caller's own time): may_skip() asks the kernel again.
  void forget() { bound_process_ = sc_core::sc_process_handle(); }

  // For a model's own, narrower check (a private path's): true when the lookahead is
  // on, the quantum zero, `d` non-zero and now + d before the horizon; the caller
  // decides the rest and calls count_skip() when it skips.
  bool may_skip_locally(const sc_core::sc_time& d) const;
  void count_skip() { ++skipped_; }

  // How many waits may_skip() (or a model's own check, count_skip()) allowed to skip.
  uint64_t skips() const { return skipped_; }

  // Waits for `delay` unless it may be skipped; on return, `delay` is what is still
  // annotated (zero after a wait).
  void sync(sc_core::sc_time& delay) {
    if (delay.value() == 0 || may_skip(delay)) return;
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
  }

 private:
  // may_skip() for a process run whose bound is not known yet: asks the kernel.
  bool refresh(const sc_core::sc_time& d);

  bool on_ = true;
  bool horizon_set_ = false;
  sc_core::sc_time horizon_;
  // The kernel's next pending activity (absolute), or the horizon when that is
  // earlier, as found for one run of one process (one delta cycle and process).
  sc_core::sc_time bound_;
  uint64_t bound_delta_ = 0;
  sc_core::sc_process_handle bound_process_;
  uint64_t skipped_ = 0;
};

}  // namespace iosim

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
// Where it is used: the IOMMU's upstream request handling (MemoryPort::sync inside
// a MemoryPort::Decoupled scope) and the device's request issue. A model with a
// single active initiator then costs one context switch per memory round trip
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

namespace iosim::lookahead {

bool enabled();
void set_enabled(bool on);

// No wait is skipped past this absolute simulated time (default: none).
void set_horizon(const sc_core::sc_time& t);

// True when the running process may keep `d` as annotated time instead of waiting
// for it (see above). False when disabled, with a non-zero TLM global quantum
// (temporal decoupling has its own rules), when d is zero, when another process is
// runnable now, or when any activity is pending at or before now + d.
bool may_skip(const sc_core::sc_time& d);

// To be called after notifying an event while ahead (a timed notification at the
// caller's own time): may_skip() asks the kernel again.
void forget();

// How many waits may_skip() allowed to skip (over the whole process).
uint64_t skips();

// Waits for `delay` unless it may be skipped; on return, `delay` is what is still
// annotated (zero after a wait).
inline void sync(sc_core::sc_time& delay) {
  if (delay == sc_core::SC_ZERO_TIME || may_skip(delay)) return;
  sc_core::wait(delay);
  delay = sc_core::SC_ZERO_TIME;
}

}  // namespace iosim::lookahead

// LocalTime: the simulated time of one initiator process (a device's issue slot),
// which may run ahead of the kernel time. The model says what took time (advance)
// and where it must be in step with the kernel (sync, before touching state other
// processes share); this object decides whether a wait is taken, kept as TLM
// annotated delay, or added to a temporal-decoupling quantum.
//
// Guarantees. now() is the process's own simulated time in every mode; every
// request it sends carries now() - sc_time_stamp() as its annotated delay.
//  - Exact (zero TLM global quantum, the default): a wait is skipped only when no
//    other process can run before it ends, so the run is the one in which every
//    wait is taken (the kernel lookahead, sc_models/timing/lookahead.h), or when only the
//    initiator's own processes could, and none of them can act before the end
//    (the PrivatePath check below). Both keep every TLP at the same simulated time
//    in the same order; `sim.lookahead = false` turns the skips off.
//  - Decoupled (non-zero quantum, for processes created with may_decouple):
//    tlm_utils::tlm_quantumkeeper semantics: time is added to the local time and
//    the process synchronises at the quantum boundary or at sync().
// Exactness rules for the caller (the object cannot check them):
//  - compute every time from now(), never from sc_time_stamp() alone;
//  - while ahead, make no other process runnable at once: timed notifications at
//    now() are fine, followed by Timing::notified();
//  - call sync() (or flush()) before an action whose answer other processes give.
// Simplification: one process owns one LocalTime; the peers of a PrivatePath are
// the initiator's processes and nothing else touches its path before the target
// synchronises to a request's arrival.
#pragma once

#include "sc_models/timing/lookahead.h"
#include "sc_models/timing/server_pool.h"

#include <systemc>
#include <tlm>

// After <systemc>: the keeper header does not include the kernel declarations.
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace iosim {

// The processes of one initiator that alone use a path to a target that
// synchronises to each request's arrival (a device's issue slots and its link's
// upstream direction). A wait before a send may be kept as annotated delay when
// it is shorter than the path's crossing time, no other member can send before
// it ends (each member keeps the earliest time it may next send, set whenever it
// waits), and the initiator's other activity is quiet until then.
class PrivatePath {
 public:
  // Above this many members the check (which reads every member's clock) is not tried.
  static constexpr size_t kMaxMembers = 16;

  // `members`: how many LocalTimes will join; none keeps a clock above kMaxMembers.
  void set_members(size_t members);
  // The least time a request takes over the path (zero: the check is off).
  void set_crossing_time(const sc_core::sc_time& t) { crossing_ = t; }
  // The least time from a member's waking after a request (its answer back, or
  // its issue time) to its next send.
  void set_min_send_gap(const sc_core::sc_time& t) { min_gap_ = t; }
  // True when nothing else of the initiator (handlers of incoming messages) can
  // act at or before the given absolute time.
  void set_quiet_until(std::function<bool(const sc_core::sc_time&)> f) { quiet_ = std::move(f); }

 private:
  friend class LocalTime;
  uint64_t* join() { return next_ < clocks_.size() ? &clocks_[next_++] : nullptr; }
  // Whether the member with clock `self` may keep a wait of `d` before a send.
  bool may_skip(Lookahead& lookahead, const uint64_t* self, const sc_core::sc_time& d) const;

  std::vector<uint64_t> clocks_;  // raw sc_time values; 0: any time, ~0: finished
  size_t next_ = 0;
  sc_core::sc_time crossing_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_time min_gap_ = sc_core::SC_ZERO_TIME;
  std::function<bool(const sc_core::sc_time&)> quiet_;
};

// The scope of a running process (see Timing::sync_delay).
enum class DelayScope : uint8_t { kNone, kExact, kDecoupled };

// The timing of one simulated system, held by its simulation context
// (sc_models/sim/sim_context.h): its lookahead, the delay scope of the process running
// now, and the timing rules for code that works on a caller's annotated delay `d`
// (time ahead of the kernel): a target serving an initiator's request in the
// initiator's process, and model processes that keep their own delay (queues,
// handlers). What a wait may do is set per running process by the scopes below
// (none: every wait is taken).
class Timing {
 public:
  Timing() = default;
  Timing(const Timing&) = delete;
  Timing& operator=(const Timing&) = delete;

  Lookahead& lookahead() { return lookahead_; }
  const Lookahead& lookahead() const { return lookahead_; }

  // Serving: the running process serves an initiator's request. With a non-zero
  // quantum it runs decoupled (a wait only when `d` reaches the next quantum
  // boundary, as tlm_utils::tlm_quantumkeeper), else exactly (a wait kept as
  // annotated delay when no other process can run before it ends).
  class Serving;
  // KeepAhead: a process that is no decoupled initiator may keep a wait as
  // annotated delay where that is exact; with a non-zero quantum nothing changes.
  class KeepAhead;

  // Waits for `d` (if any) and resets it, unless the running scope lets it be kept.
  void sync_delay(sc_core::sc_time& d);
  // In an exact scope: waits for what sync_delay() kept, so the kernel time is the caller's
  // own (before waking another process). Does nothing otherwise.
  void settle_delay(sc_core::sc_time& d);
  // Waits for `e` (or `t`) with the running scope set aside: other processes run
  // meanwhile and take every wait.
  void wait_aside(const sc_core::sc_event& e);
  void wait_aside(const sc_core::sc_time& t);
  // True when a process may keep `d` as annotated delay: no other process can run
  // before it ends (exact; counted as a skip).
  bool may_keep(const sc_core::sc_time& d) { return lookahead_.may_skip(d); }
  // After a timed notification made while a process may be ahead: the next skip
  // decision asks the kernel again.
  void notified() { lookahead_.forget(); }

  // Spawns an initiator's process (a device's issue slot). Host-side only: each gets
  // a stack of its own size (initiator_stack_size), nothing simulated depends on it.
  sc_core::sc_process_handle spawn_initiator(std::function<void()> body, const char* name);

 private:
  class ScopeGuard;
  template <class What>
  void wait_outside_scope(const What& what);

  Lookahead lookahead_;
  DelayScope scope_ = DelayScope::kNone;  // the running process's scope
  unsigned spawned_ = 0;                  // initiators spawned (their stack sizes)
};

class Timing::ScopeGuard {
 public:
  ScopeGuard(Timing& timing, DelayScope inner) : timing_(timing), outer_(timing.scope_) {
    timing.scope_ = inner;
  }
  ~ScopeGuard() { timing_.scope_ = outer_; }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 protected:
  static DelayScope current(const Timing& timing) { return timing.scope_; }

 private:
  Timing& timing_;
  DelayScope outer_;
};

class Timing::Serving : ScopeGuard {
 public:
  explicit Serving(Timing& timing)
      : ScopeGuard(timing, quantum_set() ? DelayScope::kDecoupled : DelayScope::kExact) {}
};

class Timing::KeepAhead : ScopeGuard {
 public:
  explicit KeepAhead(Timing& timing)
      : ScopeGuard(timing, quantum_set() ? current(timing) : DelayScope::kExact) {}
};

class LocalTime {
 public:
  // `timing`: the system's (its lookahead decides the exact skips).
  // `may_decouple`: the process runs decoupled when the global quantum is non-zero.
  // `path`: the private path the process sends on (nullptr: none).
  explicit LocalTime(Timing& timing, bool may_decouple = false, PrivatePath* path = nullptr);

  // At the process's start, once the global quantum is known.
  void start();
  bool decoupled() const { return decoupled_; }
  // The process's simulated time.
  sc_core::sc_time now() const {
    return decoupled_ ? kernel_time() + qk_.get_local_time() + ahead_ : kernel_time() + ahead_;
  }

  // This took `d`.
  void advance(const sc_core::sc_time& d) { ahead_ += d; }
  // Before a step that reads shared state: the kernel catches up, unless no other
  // process can run meanwhile (exact) or the quantum is not reached (decoupled).
  void keep_up() {
    if (decoupled_) return to_quantum();
    mark(kernel_time() + ahead_);  // its next send is no sooner
    lookahead_.sync(ahead_);
  }
  // The kernel (decoupled: the local time, synchronising at the quantum boundary)
  // reaches now(); the next send is not known meanwhile.
  void flush();
  // flush(), and a decoupled process synchronises with the kernel: before waiting
  // for other processes.
  void sync() {
    flush();
    if (decoupled_) qk_.sync();
  }
  // Before sending a request that other processes answer: sync(), except that an
  // exact process may keep the wait as annotated delay (see PrivatePath).
  void sync_to_send() {
    if (decoupled_) {
      to_quantum();
      qk_.sync();
    } else {
      wait_to_send();
    }
    mark(sc_core::SC_ZERO_TIME);  // the answer's waits are not known here
  }
  // The annotated delay of a request sent after sync_to_send(), and what it comes
  // back with: kept ahead where no other process can run before it ends.
  const sc_core::sc_time& request_delay() const { return ahead_; }
  void answered(const sc_core::sc_time& delay) {
    ahead_ = delay;
    lookahead_.sync(ahead_);
  }

  // A request sent on the path at now() (its wait kept where PrivatePath allows):
  // its annotated delay. received() takes the delay it came back with: the
  // process is in step with the kernel at the answer (exact), or at the quantum.
  sc_core::sc_time send() {
    if (decoupled_) {
      qk_.inc(ahead_);
      ahead_ = sc_core::SC_ZERO_TIME;
      return qk_.get_local_time();
    }
    wait_to_send();
    // It wakes after the request crosses the path (or the target syncs to it).
    if (path_) mark(kernel_time() + ahead_ + path_->crossing_ + path_->min_gap_);
    return ahead_;
  }
  void received(const sc_core::sc_time& delay) {
    ahead_ = sc_core::SC_ZERO_TIME;
    if (decoupled_) {
      qk_.set(delay);
      if (qk_.need_sync()) qk_.sync();
      return;
    }
    if (path_) mark(kernel_time() + delay + path_->min_gap_);
    sc_core::wait(delay);
  }

  // Nothing to do until `t` (absolute; no wait when it has passed).
  void idle_until(const sc_core::sc_time& t);
  // Nothing to do for `d` (a wait even when zero; exact processes only).
  void idle_for(const sc_core::sc_time& d);
  // The process has ended: it sends nothing more.
  void finish() { mark(sc_core::sc_max_time()); }

 private:
  void mark(const sc_core::sc_time& t) {
    if (clock_) *clock_ = t.value();
  }
  // Decoupled: ahead_ joins the quantum keeper's local time (synchronising at the
  // boundary).
  void to_quantum();
  // Exact: waits for ahead_ unless the kernel or the private path lets it be kept.
  void wait_to_send() {
    if (ahead_.value() == 0 || lookahead_.may_skip(ahead_) ||
        (path_ && path_->may_skip(lookahead_, clock_, ahead_))) {
      return;
    }
    mark(kernel_time() + ahead_);  // sends when it wakes
    sc_core::wait(ahead_);
    ahead_ = sc_core::SC_ZERO_TIME;
  }

  Lookahead& lookahead_;
  bool may_decouple_;
  bool decoupled_ = false;
  PrivatePath* path_ = nullptr;  // set only when it keeps a clock for this process
  uint64_t* clock_ = nullptr;
  sc_core::sc_time ahead_ = sc_core::SC_ZERO_TIME;  // not yet waited for nor in qk_
  tlm_utils::tlm_quantumkeeper qk_;
};

// Stack size of the n-th initiator process. SystemC gives every thread a stack of
// the same size from aligned allocations, so the frames in use when the processes
// wait sit at the same address modulo 64 KiB: with tens of them they compete for
// the same few sets of the host's caches and every context switch misses. A
// different extra size per process (73 cache lines apart, odd, so 64 processes get
// 64 different offsets modulo 4 KiB and 64 KiB) spreads them.
int initiator_stack_size(unsigned n);

}  // namespace iosim

// LocalTime: an initiator process's own simulated time (see local_time.h).
#include "sc_models/timing/local_time.h"

namespace iosim {

void PrivatePath::set_members(size_t members) {
  clocks_.assign(members <= kMaxMembers ? members : 0, 0);
  next_ = 0;
}

bool PrivatePath::may_skip(Lookahead& lookahead, const uint64_t* self,
                           const sc_core::sc_time& d) const {
  if (!(d < crossing_) || !lookahead.may_skip_locally(d)) return false;
  const sc_core::sc_time end = kernel_time() + d;
  for (const uint64_t& c : clocks_) {
    if (&c != self && c <= end.value()) return false;
  }
  if (quiet_ && !quiet_(end)) return false;
  lookahead.count_skip();
  return true;
}

LocalTime::LocalTime(Timing& timing, bool may_decouple, PrivatePath* path)
    : lookahead_(timing.lookahead()), may_decouple_(may_decouple) {
  clock_ = path ? path->join() : nullptr;
  if (clock_) path_ = path;
}

void LocalTime::start() {
  qk_.reset();
  decoupled_ = may_decouple_ && quantum_set();
}

void LocalTime::to_quantum() {
  if (ahead_.value() == 0) return;
  qk_.inc(ahead_);
  ahead_ = sc_core::SC_ZERO_TIME;
  if (qk_.need_sync()) qk_.sync();
}

void LocalTime::flush() {
  mark(sc_core::SC_ZERO_TIME);
  if (decoupled_) return to_quantum();
  if (ahead_.value() == 0) return;
  sc_core::wait(ahead_);
  ahead_ = sc_core::SC_ZERO_TIME;
}

void LocalTime::idle_until(const sc_core::sc_time& t) {
  const sc_core::sc_time at = now();
  if (!(t > at)) return;
  mark(t);  // no sooner than then
  ahead_ += t - at;
  if (decoupled_) return to_quantum();
  sc_core::wait(ahead_);
  ahead_ = sc_core::SC_ZERO_TIME;
}

void LocalTime::idle_for(const sc_core::sc_time& d) {
  mark(kernel_time() + ahead_ + d);  // the next step may send at once when it ends
  sc_core::wait(ahead_ + d);
  ahead_ = sc_core::SC_ZERO_TIME;
}

// Waits for `what` with the running scope set aside: other processes run meanwhile.
template <class What>
void Timing::wait_outside_scope(const What& what) {
  const DelayScope scope = scope_;
  scope_ = DelayScope::kNone;
  sc_core::wait(what);
  scope_ = scope;
}

void Timing::sync_delay(sc_core::sc_time& d) {
  if (d == sc_core::SC_ZERO_TIME) return;
  if (scope_ == DelayScope::kDecoupled &&
      d < tlm::tlm_global_quantum::instance().compute_local_quantum()) {
    return;
  }
  if (scope_ == DelayScope::kExact && lookahead_.may_skip(d)) return;
  wait_outside_scope(d);
  d = sc_core::SC_ZERO_TIME;
}

void Timing::settle_delay(sc_core::sc_time& d) {
  if (scope_ != DelayScope::kExact || d == sc_core::SC_ZERO_TIME) return;
  wait_outside_scope(d);
  d = sc_core::SC_ZERO_TIME;
}

void Timing::wait_aside(const sc_core::sc_time& t) {
  wait_outside_scope(t);
}

void Timing::wait_aside(const sc_core::sc_event& e) {
  wait_outside_scope(e);
}

sc_core::sc_process_handle Timing::spawn_initiator(std::function<void()> body,
                                                   const char* name) {
  sc_core::sc_spawn_options opts;
  opts.set_stack_size(initiator_stack_size(spawned_++));
  return sc_core::sc_spawn(std::move(body), name, &opts);
}

int initiator_stack_size(unsigned n) {
  constexpr int kStrideBytes = 73 * 64;
  return sc_core::SC_DEFAULT_STACK_SIZE + static_cast<int>(n % 64) * kStrideBytes;
}

}  // namespace iosim

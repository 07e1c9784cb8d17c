// Lookahead: the check that no other process can run before a wait would end.
#include "sc_models/timing/lookahead.h"

#include <tlm>

namespace iosim {

const sc_core::sc_time& global_quantum_storage() {
  return tlm::tlm_global_quantum::instance().get();
}

}  // namespace iosim

namespace iosim {

bool Lookahead::refresh(const sc_core::sc_time& d) {
  const sc_core::sc_time& now = kernel_time();
  // Zero when a process is runnable or a delta notification is pending now.
  bound_ = now + sc_core::sc_time_to_pending_activity();
  // No skip may reach the horizon either: one bound for both.
  if (horizon_set_ && horizon_ < bound_) bound_ = horizon_;
  bound_delta_ = sc_core::sc_delta_count();
  bound_process_ = sc_core::sc_get_current_process_handle();
  return may_skip(d);  // the bound is now known: the inline check decides
}

void Lookahead::set_horizon(const sc_core::sc_time& t) {
  horizon_ = t;
  horizon_set_ = t != sc_core::sc_max_time();
  forget();  // the bound includes the horizon
}

bool Lookahead::may_skip_locally(const sc_core::sc_time& d) const {
  if (!on_ || d.value() == 0 || quantum_set()) return false;
  return !horizon_set_ || kernel_time() + d < horizon_;
}

}  // namespace iosim

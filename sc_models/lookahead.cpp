// Lookahead: the check that no other process can run before a wait would end.
#include "sc_models/lookahead.h"

#include <tlm>

namespace iosim {

const sc_core::sc_time& global_quantum_storage() {
  return tlm::tlm_global_quantum::instance().get();
}

}  // namespace iosim

namespace iosim::lookahead {
namespace {
bool horizon_set = false;
sc_core::sc_time horizon;
}  // namespace

namespace detail {
State state;

bool may_skip_refresh(const sc_core::sc_time& d) {
  const sc_core::sc_time& now = kernel_time();
  // Zero when a process is runnable or a delta notification is pending now.
  state.bound = now + sc_core::sc_time_to_pending_activity();
  // No skip may reach the horizon either: one bound for both.
  if (horizon_set && horizon < state.bound) state.bound = horizon;
  state.bound_delta = sc_core::sc_delta_count();
  state.bound_process = sc_core::sc_get_current_process_handle();
  return may_skip(d);  // the bound is now known: the inline check decides
}
}  // namespace detail

bool enabled() {
  return detail::state.on;
}

void set_enabled(bool v) {
  detail::state.on = v;
}

void set_horizon(const sc_core::sc_time& t) {
  horizon = t;
  horizon_set = t != sc_core::sc_max_time();
  forget();  // the bound includes the horizon
}

bool may_skip_locally(const sc_core::sc_time& d) {
  const detail::State& s = detail::state;
  if (!s.on || d.value() == 0 || quantum_set()) return false;
  return !horizon_set || kernel_time() + d < horizon;
}

void count_skip() {
  ++detail::state.skipped;
}

uint64_t skips() {
  return detail::state.skipped;
}

}  // namespace iosim::lookahead

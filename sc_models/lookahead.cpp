// Lookahead: the check that no other process can run before a wait would end.
#include "sc_models/lookahead.h"

namespace iosim::lookahead {
namespace {
bool on = true;
bool horizon_set = false;
sc_core::sc_time horizon;
uint64_t skipped = 0;
}  // namespace

bool enabled() {
  return on;
}

void set_enabled(bool v) {
  on = v;
}

void set_horizon(const sc_core::sc_time& t) {
  horizon = t;
  horizon_set = t != sc_core::sc_max_time();
}

bool may_skip(const sc_core::sc_time& d) {
  if (!on || d == sc_core::SC_ZERO_TIME) return false;
  // Zero when a process is runnable or a delta notification is pending now.
  const sc_core::sc_time next =
      sc_core::sc_time_to_pending_activity(sc_core::sc_get_curr_simcontext());
  if (!(d < next)) return false;
  if (horizon_set && !(sc_core::sc_time_stamp() + d < horizon)) return false;
  ++skipped;
  return true;
}

uint64_t skips() {
  return skipped;
}

}  // namespace iosim::lookahead

// Lookahead: the check that no other process can run before a wait would end.
#include "sc_models/lookahead.h"

#include "sc_models/server_pool.h"

namespace iosim::lookahead {
namespace {
bool on = true;
bool horizon_set = false;
sc_core::sc_time horizon;
uint64_t skipped = 0;
// The kernel's next pending activity (absolute), as found for this process run,
// or the horizon when that is earlier.
sc_core::sc_time bound;
uint64_t bound_delta = 0;
const sc_core::sc_process_b* bound_process = nullptr;
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
  forget();  // the bound includes the horizon
}

namespace {
// Asks the kernel for its next pending activity, for this run of `proc` (out of
// line: the common case, a bound already known, then saves no registers).
[[gnu::noinline]] void refresh_bound(const sc_core::sc_time& now, uint64_t delta,
                                     const sc_core::sc_process_b* proc) {
  // Zero when a process is runnable or a delta notification is pending now.
  bound = now + sc_core::sc_time_to_pending_activity(sc_core::sc_get_curr_simcontext());
  // No skip may reach the horizon either: one bound for both.
  if (horizon_set && horizon < bound) bound = horizon;
  bound_delta = delta;
  bound_process = proc;
}
}  // namespace

bool may_skip(const sc_core::sc_time& d) {
  // With a non-zero quantum the decoupled paths decide (sc_models/server_pool.h).
  if (!on || d == sc_core::SC_ZERO_TIME || quantum_set()) return false;
  // The bound is asked of the kernel once per run of a process (one evaluation
  // phase): until the process waits, only its own notifications could change what
  // is pending, and the call sites make none without forget() or a real wait.
  const sc_core::sc_time& now = kernel_time();
  const uint64_t delta = sc_core::sc_delta_count();
  const sc_core::sc_process_b* proc = sc_core::sc_get_current_process_b();
  if (delta != bound_delta || proc != bound_process) refresh_bound(now, delta, proc);
  if (!(now + d < bound)) return false;
  ++skipped;
  return true;
}

void forget() {
  bound_process = nullptr;
}

uint64_t skips() {
  return skipped;
}

}  // namespace iosim::lookahead

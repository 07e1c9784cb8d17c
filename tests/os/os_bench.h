// The kernel context of a test of the OS model's primitives (locks, SRCU, completions,
// mm_struct, the MMU-notifier layer, ExecContext): a simulation context and the
// OsContext built on it. Each test makes its own, builds its objects on it, runs its
// threads and asserts on that context's diagnostics, so nothing is shared between tests.
#pragma once

#include "os/os_context.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::test {

// Holds the simulation context, so that it is constructed before the OsContext that
// refers to it (a base class is constructed before the members of the derived class).
struct SimContextHolder {
  SimContext sim;
};

// An OsContext with its own simulation context: `TestOs os; SpinLock l(os, "l");`.
class TestOs : private SimContextHolder, public OsContext {
 public:
  TestOs() : OsContext(SimContextHolder::sim) {}
};

}  // namespace iosim::test

// The simulation context: what one simulated system shares among its modules.
//
// A platform (or a test bench) creates one context and hands it to every module it
// builds; a module registers its statistics, and reads the timing settings, through
// the context it was given and never through process-wide state. Two systems
// elaborated in one SystemC simulation, each with its own context, keep separate
// statistics and timing settings.
//
// Holds:
//  - the statistics registry (stats()): the tree the run's stats JSON is written from;
//  - the timing (timing()): the lookahead settings and state the initiators'
//    LocalTime objects and the models' delay scopes share (lookahead on or off, the
//    horizon no skipped wait may cross, how many waits were skipped).
//
// The TLM global quantum (tlm::tlm_global_quantum) is TLM-2.0's own and one per
// simulation: systems run side by side share it.
//
// The ground truth hub and the checkers belong to the platform's system, which makes
// one per context; the OS model's diagnostics belong to its kernel (os/os_context.h).
#pragma once

#include "sc_models/timing/local_time.h"
#include "sc_models/observe/stats.h"

namespace iosim {

class SimContext {
 public:
  SimContext() = default;
  SimContext(const SimContext&) = delete;
  SimContext& operator=(const SimContext&) = delete;

  StatRegistry& stats() { return stats_; }
  const StatRegistry& stats() const { return stats_; }
  Timing& timing() { return timing_; }
  const Timing& timing() const { return timing_; }
  Lookahead& lookahead() { return timing_.lookahead(); }
  const Lookahead& lookahead() const { return timing_.lookahead(); }

 private:
  StatRegistry stats_;
  Timing timing_;
};

}  // namespace iosim

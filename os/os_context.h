// The simulated kernel's own context: what the OS model's objects share within one
// simulated system, and nothing process-wide.
//
// Holds:
//  - the simulation context (sim(), stats()): the statistics registry the memory
//    manager, the fault handlers and the SVA driver register their statistics in;
//  - the kernel's diagnostics log (diagnostics()): its dmesg of rule violations;
//  - the execution context of every SystemC process that runs OS code (current()):
//    what the kernel keeps per task (preempt_count, non_block_count, the frames naming
//    what the thread executes). A context is created the first time a process asks for
//    it, named after the process; outside any process (elaboration, sc_main) there is
//    one "no process" context, named "".
//
// Every OS object that reports a violation, asks which thread calls it or registers
// statistics is given the OsContext of its kernel (the Kernel owns one), so two
// kernels simulated side by side keep separate logs, thread states and statistics, and
// a test asserts on the diagnostics of the context it built.
//
// The contexts live as long as the OsContext; a context is never reused by another
// process, since the table keeps the handles of terminated processes alive. Build the
// OsContext before, and destroy it after, the objects that refer to it.
#pragma once

#include <systemc>

#include <map>
#include <memory>

#include "os/diagnostics.h"
#include "os/exec_context.h"
#include "sc_models/sim/sim_context.h"

namespace iosim {

class OsContext {
 public:
  explicit OsContext(SimContext& sim);
  OsContext(const OsContext&) = delete;
  OsContext& operator=(const OsContext&) = delete;

  SimContext& sim() { return sim_; }
  StatRegistry& stats() { return sim_.stats(); }
  Timing& timing() { return sim_.timing(); }
  Diagnostics& diagnostics() { return diagnostics_; }
  const Diagnostics& diagnostics() const { return diagnostics_; }

  // The execution context of the calling SystemC process, created on first use;
  // outside any process the "no process" context.
  ExecContext& current();

 private:
  SimContext& sim_;
  Diagnostics diagnostics_;
  ExecContext no_process_;
  std::map<sc_core::sc_process_handle, std::unique_ptr<ExecContext>> threads_;
  // The process asked about last and its context: most calls come from the process
  // that asked just before, and comparing handles is cheaper than a lookup.
  sc_core::sc_process_handle last_process_;
  ExecContext* last_context_ = nullptr;
};

}  // namespace iosim

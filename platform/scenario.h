// Scenario: a scenario script (platform/script_parser.h) turned into what the system
// builder runs: boot steps (processes, boot-time mappings, forks and SVA binds, in
// script order), CPU thread programs (platform/thread_program.h) and device thread
// programs (ScriptOp lists, device/device_config.h).
//
// Statements (README, "Writing a scenario script"):
//   process P                         map P sym at=ADDR size=N [prot=] [shared=0|1]
//   fork P Q                          [populate=none|read|write] [value=V]
//   bind P deviceN
//   cpu thread NAME core=N process=P [hold=DUR]:   (one thread per core)
//     [@T] OPERATION ...|repeat N:   (the table of platform/cpu_operations.h)
//   dev thread NAME device=deviceN process=P:   (one operation at a time, in order;
//     P is bound to deviceN at boot or by a `bind deviceN` operation of one of its
//     CPU threads)
//     [@T] read|write|wait|stop|repeat N:
// "@T" is a time after the start event (when boot is done). An ADDR is a symbol
// defined by a map (plus offset=N where allowed) or a number. Every semantic error is
// a ScriptError at file:line:column saying what was expected.
//
// Process ids are 1, 2, ... in the order processes are declared (the workload's W0..
// first, then process, fork at boot, fork in a thread).
//
// Simplifications: a thread may only run in a process that exists at boot; repeat
// blocks are unrolled (at most ScenarioLimits::max_ops operations in all; a pass of a
// repeat whose body unrolls to nothing counts as one).
#pragma once

#include "device/device_config.h"
#include "platform/populate.h"
#include "platform/script_ast.h"
#include "platform/thread_program.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace iosim {

struct BootStep {
  enum class Kind { kProcess, kMap, kFork, kBind };
  Kind kind = Kind::kProcess;
  uint32_t mm_id = 0;     // the process (fork: the parent)
  uint32_t child_mm = 0;  // fork
  uint64_t va = 0;        // map
  uint64_t size = 0;
  uint32_t prot = kProtRead | kProtWrite;
  bool shared = false;
  Populate populate = Populate::kNone;
  uint64_t value = 0;
  // huge=: 0 (4 KiB pages), 2 MiB (VM_HUGEPAGE: faults map PMD leaves under os.thp =
  // madvise or always) or 1 GiB (an explicit hugetlb mapping of PUD leaves).
  uint64_t huge = 0;
  size_t device = 0;  // bind
  ScriptLoc loc;
};

struct ScenarioSymbol {
  std::string name;
  uint32_t mm_id;
  uint64_t va;
  uint64_t size;
};

struct CpuThreadSpec {
  ThreadProgram program;  // op times (at_ns) count from the start event
  int core = 0;
  ScriptLoc loc;
};

struct DevThreadSpec {
  std::string name;
  size_t device = 0;
  uint32_t mm_id = 0;
  std::vector<ScriptOp> ops;  // kAtTime times count from the start event
  ScriptLoc loc;
};

struct Scenario {
  std::vector<std::string> processes;  // name of mm id i + 1 (W0.. first)
  uint32_t workload_processes = 0;     // mm ids 1..workload_processes
  std::vector<BootStep> boot;
  std::vector<ScenarioSymbol> symbols;
  std::vector<CpuThreadSpec> cpu_threads;
  std::vector<DevThreadSpec> dev_threads;

  uint32_t process_count() const { return static_cast<uint32_t>(processes.size()); }
};

struct ScenarioLimits {
  uint32_t cores = 1;
  size_t devices = 1;
  uint64_t max_ops = 1000000;  // operations after unrolling repeat blocks, all threads
  // The synthetic workload's processes ([workload]): named W0, W1, ... in the script,
  // created first (mm ids 1..n), bound to every device, each with its window at
  // workload_base_va (the symbol "window").
  uint32_t workload_processes = 0;
  uint64_t workload_base_va = 0;
  uint64_t workload_window_bytes = 0;
};

// The multi-word keywords of the scenario language.
std::vector<std::string> scenario_keywords();

// Builds the scenario from parsed statements. Throws ScriptError.
Scenario build_scenario(const std::vector<ScriptStatement>& statements, const ScenarioLimits& lim);

// Parses and builds a script file. Syntax errors throw ScriptError (the first; its
// message lists every syntax error of the file).
Scenario load_scenario(const std::string& path, const ScenarioLimits& lim);
Scenario load_scenario_text(const std::string& text, const std::string& file,
                            const ScenarioLimits& lim);

}  // namespace iosim

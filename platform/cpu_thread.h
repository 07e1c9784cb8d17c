// CpuThread: a thread program (platform/thread_program.h) running on one core.
//
// The interpreter of a CPU thread: it runs in the core's SystemC process
// (Core::set_thread), from time 0 or from a start event, and executes the operations
// in order, each at its "@T" time (counted from its start) or right after the previous
// one. An operation runs through its entry of the operation table
// (platform/cpu_operations.h): the entry's function issues the core's loads and
// stores (load()/store() below), calls the kernel's system-call entry points, or
// calls the IOMMU driver's SVA interface the platform gives it (SvaControl). An
// operation that runs in the thread's process first enters the process's mm on this
// core (the mm's cpumask, which TLB shootdowns target).
//
// The thread records every load (value, time, VA, PA) and every operation (result,
// start, end). A load or store that faults fatally (SIGSEGV, OOM) kills the thread
// (result kKilled); exit ends it; no operation runs after either.
//
// Simplifications: one thread per core, never descheduled; the OS code an operation
// runs is charged to this thread (ExecContext cpu = the core).
#pragma once

#include "cpu/core.h"
#include "os/kernel.h"
#include "platform/sva_control.h"
#include "platform/thread_program.h"

#include <systemc>

#include <cstdint>
#include <vector>

namespace iosim {

class CpuThread {
 public:
  static constexpr int64_t kKilled = -14;  // EFAULT: the access faulted fatally

  // Puts `program` on `core` (call before sc_start). With `start`, the program begins
  // when it fires and its "@T" times count from then. `sva` is what the bind, unbind
  // and flush operations call (null: they return -ENODEV).
  CpuThread(const ThreadProgram& program, Core& core, Kernel& kernel,
            const sc_core::sc_event* start = nullptr, SvaControl* sva = nullptr);
  CpuThread(const CpuThread&) = delete;
  CpuThread& operator=(const CpuThread&) = delete;

  const ThreadProgram& program() const { return program_; }
  const std::string& name() const { return program_.name; }
  Core& core() const { return core_; }
  sc_core::sc_time start_time() const { return start_time_; }
  // Ended by a fatal fault or by exit.
  bool killed() const { return killed_; }
  const std::vector<LoadRecord>& loads() const { return loads_; }
  const std::vector<OpRecord>& ops() const { return records_; }

  // --- what an operation's function runs with (platform/cpu_operations.h) ---
  Kernel& kernel() { return kernel_; }
  // The IOMMU driver's SVA interface (platform/sva_control.h); null when none.
  SvaControl* sva() { return sva_; }
  // The thread's process (operations that run in it).
  Mm& mm() { return *mm_; }
  int cpu() const { return core_.id(); }
  // An 8-byte load or store in the thread's process: 0, or kKilled (the thread ends).
  int64_t load(uint64_t va);
  int64_t store(uint64_t va, uint64_t value);
  // The thread ends after the current operation.
  void end() { killed_ = true; }

 private:
  void run();
  void execute(size_t index, const ThreadOp& op);
  AddressSpace address_space() const { return {mm_->id(), mm_->root()}; }

  ThreadProgram program_;
  Core& core_;
  Kernel& kernel_;
  const sc_core::sc_event* start_;
  SvaControl* sva_;
  sc_core::sc_time start_time_ = sc_core::SC_ZERO_TIME;
  bool killed_ = false;
  Mm* mm_ = nullptr;
  size_t index_ = 0;  // of the operation running
  std::vector<LoadRecord> loads_;
  std::vector<OpRecord> records_;
};

}  // namespace iosim

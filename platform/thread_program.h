// A thread program: what one CPU thread does, as data, so a scenario script or a
// synthetic generator can build it and platform/cpu_thread.h can run it on a core.
// Each operation names its entry of the operation table (platform/cpu_operations.h),
// which says what its arguments are and what running it does; the fields below hold
// the decoded arguments (which ones an operation uses is in its table entry). An
// operation may carry an absolute start time ("at T": the thread waits until T before
// the operation; an earlier T is ignored).
//
// The thread records every load (value, time, VA, PA) and the result of every
// operation (the OS call's return value, or the fault that killed the thread) so
// scenarios can assert what each thread saw.
#pragma once

#include <systemc>

#include <cstdint>
#include <string>
#include <vector>

#include "os/vma.h"

namespace iosim {

struct CpuOperation;

struct ThreadOp {
  const CpuOperation* op = nullptr;  // its entry in the operation table
  double at_ns = -1;                 // absolute start time; < 0: right after the previous op
  uint64_t addr = 0;                 // VA (load/store/start of a range; mmap hint, 0 = any)
  uint64_t len = 0;                  // bytes of a range
  uint64_t value = 0;                // store value
  uint64_t addr2 = 0;                // mremap destination, KSM second VA
  uint32_t mm2 = 0;                  // fork child mm id, KSM second mm id
  uint32_t prot = kProtRead | kProtWrite;
  size_t device = 0;  // bind/unbind: the device's index (deviceN); owner=: or kNoDevice
  static constexpr size_t kNoDevice = ~size_t{0};
  bool shared = false;     // mmap MAP_SHARED
  double duration_ns = 0;  // wait
};

struct ThreadProgram {
  std::string name;  // e.g. "CPU-thread-0"
  uint32_t mm_id = 1;
  std::vector<ThreadOp> ops;
  // Preemption hold between dropping the PTL and invalidate_range_end for OS work of
  // this thread; < 0 keeps os.preempt_hold_ns.
  double preempt_hold_ns = -1;
};

struct LoadRecord {
  size_t op_index;
  uint64_t va;
  uint64_t pa;
  uint64_t value;
  sc_core::sc_time time;  // when the load took effect at memory
};

struct OpRecord {
  size_t op_index;
  const CpuOperation* op;
  int64_t result;  // OS return value; load/store: 0, or -14 (EFAULT) when killed (SIGSEGV)
  sc_core::sc_time start;
  sc_core::sc_time end;
};

}  // namespace iosim

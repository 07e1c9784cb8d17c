// A thread program: what one CPU thread does, as data, so a scenario parser or a
// synthetic generator can build it. Each operation may carry an absolute start time
// ("at T": the thread waits until T before the operation; an earlier T is ignored).
//
// Operations: load VA; store VA value (8 bytes); wait duration; and calls into the OS:
// mmap, munmap, mprotect, madvise DONTNEED, fork (child mm id), mremap, migrate,
// KSM merge (with another mm/VA), clear soft-dirty, make-device-exclusive, page aging
// (clear_flush_young) and exit.
//
// The core records every load (value, time, VA, PA) and the result of every OS call
// (return value, or the fault that killed the thread) so scenarios can assert what
// each thread saw.
#pragma once

#include <systemc>

#include <cstdint>
#include <string>
#include <vector>

#include "os/vma.h"

namespace iosim {

enum class OpKind {
  kLoad,
  kStore,
  kWait,
  kMmap,
  kMunmap,
  kMprotect,
  kMadviseDontneed,
  kFork,
  kMremap,
  kMigrate,
  kKsmMerge,
  kClearSoftDirty,
  kMakeExclusive,
  kClearFlushYoung,
  kExit,
};
const char* op_kind_name(OpKind k);

struct ThreadOp {
  OpKind kind = OpKind::kWait;
  double at_ns = -1;   // absolute start time; < 0: right after the previous op
  uint64_t addr = 0;   // VA (load/store/start of a range; mmap hint, 0 = any)
  uint64_t len = 0;    // bytes of a range
  uint64_t value = 0;  // store value
  uint64_t addr2 = 0;  // mremap destination, KSM second VA
  uint32_t mm2 = 0;    // fork child mm id, KSM second mm id
  uint32_t prot = kProtRead | kProtWrite;
  bool shared = false;     // mmap MAP_SHARED
  double duration_ns = 0;  // wait

  static ThreadOp load(uint64_t va) { return {OpKind::kLoad, -1, va}; }
  static ThreadOp store(uint64_t va, uint64_t v) { return {OpKind::kStore, -1, va, 0, v}; }
  static ThreadOp wait(double ns) {
    ThreadOp o{OpKind::kWait};
    o.duration_ns = ns;
    return o;
  }
  static ThreadOp mmap(uint64_t va, uint64_t len, uint32_t prot = kProtRead | kProtWrite,
                       bool shared = false) {
    ThreadOp o{OpKind::kMmap, -1, va, len};
    o.prot = prot;
    o.shared = shared;
    return o;
  }
  static ThreadOp range(OpKind k, uint64_t va, uint64_t len) { return {k, -1, va, len}; }
  static ThreadOp mprotect(uint64_t va, uint64_t len, uint32_t prot) {
    ThreadOp o{OpKind::kMprotect, -1, va, len};
    o.prot = prot;
    return o;
  }
  static ThreadOp fork(uint32_t child) {
    ThreadOp o{OpKind::kFork};
    o.mm2 = child;
    return o;
  }
  static ThreadOp mremap(uint64_t va, uint64_t len, uint64_t to) {
    ThreadOp o{OpKind::kMremap, -1, va, len};
    o.addr2 = to;
    return o;
  }
  static ThreadOp ksm(uint64_t va, uint32_t other_mm, uint64_t other_va) {
    ThreadOp o{OpKind::kKsmMerge, -1, va};
    o.mm2 = other_mm;
    o.addr2 = other_va;
    return o;
  }
  static ThreadOp simple(OpKind k, uint64_t va = 0) { return {k, -1, va}; }
  // Same op, starting no earlier than `t_ns`.
  ThreadOp at(double t_ns) const {
    ThreadOp o = *this;
    o.at_ns = t_ns;
    return o;
  }
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
  OpKind kind;
  int64_t result;  // OS return value; load/store: 0, or -14 (EFAULT) when killed (SIGSEGV)
  sc_core::sc_time start;
  sc_core::sc_time end;
};

}  // namespace iosim

// CpuTlbShootdown: how the OS reaches the CPU TLBs (native_flush_tlb_multi and friends).
//
// The memory manager lives in os/ and does not know the cores, so it flushes CPU
// TLBs through this interface; cpu/TlbShootdown implements it (local invalidation,
// IPIs to the other cores running the mm, waiting for every acknowledgement, the
// full-flush threshold). Calls are made from the SystemC thread of the initiating
// core and return when every targeted TLB no longer holds the range.
#pragma once

#include <cstdint>
#include <set>

namespace iosim {

class MmStruct;

class CpuTlbShootdown {
 public:
  virtual ~CpuTlbShootdown() = default;
  // flush_tlb_mm_range(): [start, end) of `mm` on `initiator_cpu` and on every other
  // core in `cpumask` (the cores running the mm).
  virtual void flush_tlb_range(MmStruct& mm, const std::set<int>& cpumask, uint64_t start,
                               uint64_t end, int initiator_cpu) = 0;
  // flush_tlb_mm(): every translation of `mm`.
  virtual void flush_tlb_mm(MmStruct& mm, const std::set<int>& cpumask, int initiator_cpu) = 0;
};

}  // namespace iosim

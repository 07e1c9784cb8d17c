// PageFaultHandler: what a core calls when an access faults (the #PF exception
// vector). os/ implements it (Kernel); a test bench may implement it with a stub.
//
// The core has already dropped its stale TLB entry for the address. The handler runs
// on the faulting core's SystemC thread, consumes simulated time there, and says
// whether the access may be retried (the page tables now allow it, or the fault was
// spurious) or the thread must die (SIGSEGV, OOM). The address space is named by the
// ASID the core tags its TLB entries with (the mm id).
#pragma once

#include <cstdint>

namespace iosim {

class PageFaultHandler {
 public:
  virtual ~PageFaultHandler() = default;
  // Handles a user access to `va` (a write when `write`) in address space `asid` on
  // core `cpu`. True: retry the access; false: the fault was fatal for the thread.
  virtual bool handle_page_fault(int cpu, uint32_t asid, uint64_t va, bool write) = 0;
};

}  // namespace iosim

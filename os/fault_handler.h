// FaultHandler: the anonymous-memory page-fault path (handle_mm_fault for
// do_anonymous_page, do_wp_page, remove_device_exclusive_entry), run on the faulting
// core's thread under mmap_lock (read).
//
//   - no VMA, or an access the VMA forbids: SIGSEGV (kSegv), nothing changes;
//   - read of a never-touched private page: maps the shared zero page read-only;
//   - write of a never-touched page: allocates a page, zeroes it, maps it writable;
//   - write to a read-only PTE of a writable VMA (COW): reuses the page when it is
//     exclusively owned (refcount 1, not the zero page: wp_page_reuse, no notifier),
//     else copies it (wp_page_copy) in the order of mmu_notifier.rst:
//     invalidate_range_start(CLEAR); take the PTL; clear the PTE and flush (CPU TLBs, and secondary
//     TLBs under under_ptl); set the new PTE; drop the PTL; [preemption hold];
//     invalidate_range_end;
//   - a device-exclusive entry is restored (EXCLUSIVE range, owner null);
//   - a present PTE that already allows the access: spurious (stale TLB), nothing to do.
// Costs: fault_entry_ns, page zero/copy at page_copy_gb_per_s, pte_update_ns per PTE.
//
// Transparent huge pages (os.thp, os/thp.h): a not-present fault in a VMA that allows
// them, with the PMD entry empty, maps a zeroed 2 MiB page by one PMD leaf
// (do_huge_pmd_anonymous_page; 2 MiB zeroing at page_copy_gb_per_s; no contiguous block:
// the 4 KiB path, thp_fault_fallback). A write to a read-only PMD leaf reuses an
// exclusive huge page, else splits the PMD (CLEAR over the 2 MiB) and COWs the 4 KiB
// page (do_huge_pmd_wp_page since Linux 5.8).
//
// Simplifications: no swap, no fault-around, no userfaultfd; OOM is returned
// as kOom (the core treats it as fatal for the thread).
#pragma once

#include <systemc>

#include <cstdint>
#include <optional>

#include "os/mm.h"

namespace iosim {

class Counter;

enum class FaultResult {
  kZeroPage,   // read fault mapped the zero page
  kAnonymous,  // write fault allocated a zeroed page
  kCowCopy,    // write to a shared/zero page copied it
  kCowReuse,   // write to an exclusively owned read-only page made it writable
  kExclusive,  // a device-exclusive entry was restored
  kSpurious,   // the PTE already allowed the access
  kSegv,       // no VMA or the VMA forbids the access
  kOom,        // no free frame
};
const char* fault_result_name(FaultResult r);
inline bool fault_handled(FaultResult r) {
  return r != FaultResult::kSegv && r != FaultResult::kOom;
}

class FaultHandler {
 public:
  explicit FaultHandler(OsEnv& env);

  // handle_mm_fault for a user access to `va` on `cpu`.
  FaultResult handle(Mm& mm, int cpu, uint64_t va, bool write);
  // The same for a caller that has executed `pending` without waiting for it: it is
  // charged together with the fault entry cost and reset (in one wait, at the first
  // action others can see: see RwSemaphore::down_read(pending)).
  FaultResult handle(Mm& mm, int cpu, uint64_t va, bool write, sc_core::sc_time& pending);

  uint64_t count(FaultResult r) const;

 private:
  // `pending`: time executed and not yet waited for (see handle()); the state read
  // here is that at its end.
  FaultResult handle_locked(Mm& mm, int cpu, uint64_t va, bool write, sc_core::sc_time& pending);
  FaultResult do_anonymous(Mm& mm, const Vma& vma, uint64_t va, bool write,
                           sc_core::sc_time& pending);
  // Takes the PTL (its cost added to `pending`) and tells whether va's PTE is still
  // not present, as read at the end of `pending`.
  bool lock_pte_none(Mm& mm, uint64_t va, sc_core::sc_time& pending);
  FaultResult do_wp_page(Mm& mm, int cpu, uint64_t va, Pte old);
  // do_huge_pmd_anonymous_page: a zeroed huge page mapped by one PMD leaf; nullopt
  // (fall back to 4 KiB) when no contiguous 2 MiB block is free.
  std::optional<FaultResult> do_huge_anonymous(Mm& mm, const Vma& vma, uint64_t haddr,
                                               sc_core::sc_time& pending);
  // do_huge_pmd_wp_page: reuse an exclusive huge page, else split the PMD and return
  // nullopt (VM_FAULT_FALLBACK: the caller COWs the 4 KiB page).
  std::optional<FaultResult> do_huge_wp(Mm& mm, int cpu, uint64_t va, Pte pmd);
  FaultResult restore_exclusive(Mm& mm, int cpu, uint64_t va);
  // A zeroed (or copied from `src`) frame, with the copy time charged; kNoFrame on OOM.
  uint64_t new_page(Mm& mm, uint64_t src);

  OsEnv& env_;
  Counter* counts_[8];
};

}  // namespace iosim

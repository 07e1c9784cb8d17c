// MmOps: the VMA-level system calls of the memory manager, each run on the calling
// core's thread with the notifier event, range and lock order Linux uses:
//
//   mmap             mmap_lock(w); VMA insert. No PTE and no notifier.
//   munmap           mmap_lock(w); zap(UNMAP, [start, end)); VMA removal.
//   madvise DONTNEED mmap_lock(r); zap(CLEAR, [start, end)) (zap_page_range_single).
//   mprotect         mmap_lock(w); VMA split/prot; range PROTECTION_VMA; PTL; change
//                    PTEs; flush; unlock; hold; end (change_protection).
//   mremap           mmap_lock(w); range UNMAP over the old range; PTL; move each PTE
//                    (clear old, flush, set new); unlock; hold; end (move_page_tables).
//                    A mapping at the destination is unmapped first (MREMAP_FIXED).
//   fork             parent mmap_lock(w); per COW VMA a PROTECTION_PAGE range on the
//                    parent: PTL; write-protect the parent PTE and copy it read-only to
//                    the child (shared VMAs copy as they are); flush; unlock; hold; end.
//   exit             mmput(): the notifier layer's release (interval subscribers see
//                    RELEASE), then exit_mmap tears down every mapping (zap UNMAP).
// Results are 0 / an address, or a negative errno (-EINVAL for a misaligned or empty
// range, -ENOMEM for a range not covered by VMAs or no frame left).
//
// Simplifications: MAP_FIXED only when the range is free (-EEXIST otherwise); mremap
// moves the whole range to a fixed destination of the same size (no grow/shrink);
// mprotect makes a PTE writable only for shared VMAs and exclusively owned pages
// (can_change_pte_writable), other pages fault and go through COW; PROT_NONE PTEs
// are cleared to not present and the frame is released (no NUMA-hinting PROT_NONE).
#pragma once

#include <cstdint>

#include "os/mm.h"

namespace iosim {

namespace err {
constexpr int kEagain = -11;
constexpr int kEnomem = -12;
constexpr int kEexist = -17;
constexpr int kEinval = -22;
}  // namespace err

class MmOps {
 public:
  explicit MmOps(OsEnv& env) : env_(env) {}

  // Returns the address or a negative errno. addr 0: the kernel picks the address.
  int64_t mmap(Mm& mm, int cpu, uint64_t addr, uint64_t len, uint32_t prot, bool shared);
  int munmap(Mm& mm, int cpu, uint64_t start, uint64_t len);
  int madvise_dontneed(Mm& mm, int cpu, uint64_t start, uint64_t len);
  int mprotect(Mm& mm, int cpu, uint64_t start, uint64_t len, uint32_t prot);
  int mremap(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr);
  // Copies `parent` into `child` (a fresh mm).
  int fork(Mm& parent, Mm& child, int cpu);
  // exit_mmap(): every mapping torn down. Installed as the mm's exit_mmap_hook.
  void exit_mmap(Mm& mm, int cpu);

 private:
  bool bad_range(uint64_t start, uint64_t len) const;
  void protect_ptes(Mm& mm, int cpu, uint64_t start, uint64_t end, uint32_t prot);
  void move_ptes(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr);
  void copy_vma(Mm& parent, Mm& child, int cpu, const Vma& v);

  OsEnv& env_;
};

}  // namespace iosim

// MmOps: the VMA-level system calls of the memory manager, each run on the calling
// core's thread with the notifier event, range and lock order Linux uses:
//
//   mmap             mmap_lock(w); VMA insert. No PTE and no notifier.
//   munmap           mmap_lock(w); zap(UNMAP, [start, end)); VMA removal.
//   madvise DONTNEED mmap_lock(r); zap(CLEAR, [start, end)) (zap_page_range_single);
//                    a PMD leaf cut by the range is split inside it (zap_pmd_range).
//   madvise HUGEPAGE mmap_lock(w); VM_HUGEPAGE on the range's VMAs. No notifier.
//   mmap_hugetlb     mmap_lock(w); VMA insert; 1 GiB pages cleared and mapped by PUD
//                    leaves (MAP_POPULATE). No notifier.
// Huge PMDs (os/thp.h): munmap and mprotect split a PMD leaf cut by the range first
// (CLEAR over its 2 MiB, __split_vma -> vma_adjust_trans_huge), then run as above
// (a PMD leaf inside the range is zapped/changed whole); fork shares a PMD leaf
// read-only (copy_huge_pmd); mremap splits the PMD leaves of the old range.
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
//   oom_reap         the OOM reaper on a victim (mm/oom_kill.c: oom_reap_task ->
//                    oom_reap_task_mm -> __oom_reap_task_mm): mmap_read_trylock (fails:
//                    the attempt fails); per private VMA a non-blockable UNMAP range
//                    (mmu_notifier_invalidate_range_start_nonblock): -EAGAIN skips the
//                    VMA (no end) and fails the attempt, else PTL, clear PTEs, flush,
//                    unlock, invalidate_range_end. Up to MAX_OOM_REAP_RETRIES = 10
//                    attempts, sleeping HZ/10 = 100 ms between them. VMAs stay.
// Results are 0 / an address, or a negative errno (-EINVAL for a misaligned or empty
// range, -ENOMEM for a range not covered by VMAs or no frame left).
//
// Simplifications: MAP_FIXED only when the range is free (-EEXIST otherwise); mremap
// moves the whole range to a fixed destination of the same size (no grow/shrink);
// mprotect makes a PTE writable only for shared VMAs and exclusively owned pages
// (can_change_pte_writable), other pages fault and go through COW; PROT_NONE PTEs
// are cleared to not present and the frame is released (no NUMA-hinting PROT_NONE);
// oom_reap sets no MMF_UNSTABLE: a later fault on the reaped range gets a new zero page
// where Linux's check_stable_address_space fails it (SIGBUS).
#pragma once

#include <cstdint>
#include <memory>

#include "os/mm.h"

namespace iosim {

namespace err {
constexpr int kEagain = -11;
constexpr int kEnomem = -12;
constexpr int kEexist = -17;
constexpr int kEnodev = -19;
constexpr int kEinval = -22;
constexpr int kEnospc = -28;
}  // namespace err

class MmOps {
 public:
  explicit MmOps(OsEnv& env);
  ~MmOps();

  // Returns the address or a negative errno. addr 0: the kernel picks the address.
  int64_t mmap(Mm& mm, int cpu, uint64_t addr, uint64_t len, uint32_t prot, bool shared);
  int munmap(Mm& mm, int cpu, uint64_t start, uint64_t len);
  int madvise_dontneed(Mm& mm, int cpu, uint64_t start, uint64_t len);
  int mprotect(Mm& mm, int cpu, uint64_t start, uint64_t len, uint32_t prot);
  // madvise(MADV_HUGEPAGE) (on) / MADV_NOHUGEPAGE (off): sets VM_HUGEPAGE on the range.
  int madvise_hugepage(Mm& mm, int cpu, uint64_t start, uint64_t len, bool on);
  // mmap(MAP_SHARED | MAP_HUGETLB | MAP_HUGE_1GB | MAP_POPULATE) at `addr`: 1 GiB
  // aligned, each 1 GiB page contiguous frames mapped by one PUD leaf. The address,
  // or -EINVAL (misaligned), -EEXIST (range in use), -ENOMEM (no free 1 GiB block).
  int64_t mmap_hugetlb(Mm& mm, int cpu, uint64_t addr, uint64_t len, uint32_t prot);
  int mremap(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr);
  // Copies `parent` into `child` (a fresh mm).
  int fork(Mm& parent, Mm& child, int cpu);
  // exit_mmap(): every mapping torn down. Installed as the mm's exit_mmap_hook.
  void exit_mmap(Mm& mm, int cpu);

  // What one oom_reap() did.
  struct OomReapResult {
    int attempts = 0;        // oom_reap_task_mm calls (1..kMaxOomReapRetries)
    bool reaped = false;     // an attempt covered every VMA
    int lock_contended = 0;  // attempts that found mmap_lock taken
    int start_failures = 0;  // non-blockable starts that returned -EAGAIN (VMAs skipped)
    uint64_t ptes_cleared = 0;
  };
  // Linux MAX_OOM_REAP_RETRIES (mm/oom_kill.c).
  static constexpr int kMaxOomReapRetries = 10;
  // schedule_timeout_idle(HZ/10) between attempts: 100 ms.
  static constexpr double kOomReapRetrySleepNs = 100e6;
  // The OOM reaper (a kernel thread on `cpu`) tears down `mm`'s private memory.
  OomReapResult oom_reap(Mm& mm, int cpu);

 private:
  bool bad_range(uint64_t start, uint64_t len) const;
  void protect_ptes(Mm& mm, int cpu, uint64_t start, uint64_t end, uint32_t prot);
  void move_ptes(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr);
  void copy_vma(Mm& parent, Mm& child, int cpu, const Vma& v);
  // True when [start, end) would cut a 1 GiB hugetlb VMA (munmap/mprotect: -EINVAL).
  bool cuts_hugetlb(const Mm& mm, uint64_t start, uint64_t end) const;
  // split_huge_pmd() of every PMD leaf in [start, end).
  void split_all_pmds(Mm& mm, int cpu, uint64_t start, uint64_t end, const char* reason);
  // __oom_reap_task_mm(): true when every VMA was reaped.
  bool reap_vmas(Mm& mm, int cpu, OomReapResult& r);
  void record_oom_reap_start();

  struct ReaperStats;  // os.oom_reaper counters
  OsEnv& env_;
  std::unique_ptr<ReaperStats> reaper_;
};

}  // namespace iosim

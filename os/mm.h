// Mm: an address space as the memory manager sees it. It derives from MmStruct (the
// notifier layer's mm_struct: mmap_lock, page-table lock, rmap locks, subscriptions)
// and adds the VMAs, the x86-64 page-table root in simulated memory, the cpumask of
// cores running it and the shared steps every operation is built from: PTE writes
// (timed, published to the ground truth), the PTL with hold/spin histograms, the flush
// point, the notifier range start/end, and the zap loop of munmap/madvise/exit. Each
// step is also reported to env.observer (os/os_observer.h) when one is set.
//
// Secondary-TLB policy (os.secondary_tlb_flush); where frames are freed is one rule,
// kept in os/mmu_gather.h:
//   under_ptl (Linux 6.6+): at the flush point, inside the PTL, the CPU TLBs are shot
//     down and then mmu_notifier_arch_invalidate_secondary_tlbs(mm, start, end) is
//     called (a subscriber such as the SVA driver spins there until the IOMMU reports
//     completion). Frames are freed after that flush, so no secondary TLB can still
//     reach a freed frame.
//   range_end (deferred): no secondary call under the PTL; subscribers invalidate from
//     invalidate_range_end, after the PTL is dropped and after the preemption hold. A
//     frame whose last reference is the mapping's (munmap, madvise, exit) is freed at
//     the flush point, before invalidate_range_end completes: a device can use a freed
//     (and reused) frame in between (case A of Documentation/mm/mmu_notifier.rst). A
//     COW can make a new PTE visible to the CPU while the device still uses the old
//     page (case B). Paths that hold their own reference to the old page (COW, KSM,
//     migration) free it only after invalidate_range_end, under both policies.
// Timing: PTE writes cost pte_update_ns; the preemption hold (os.preempt_hold_ns,
// per-CPU override in OsEnv) is spent between dropping the PTL and calling
// invalidate_range_end in every operation; locks and flushes charge their own costs.
//
// Huge leaves (os/thp.h): set_pte() writes whatever leaf maps va (a PMD or PUD leaf
// too) and publishes it with that leaf's size; set_huge_leaf(), populate_pmd() and
// clear_pmd_table() change a PMD/PUD entry itself; split_huge_pmd() is
// __split_huge_pmd. zap() zaps a PMD leaf the range covers whole (zap_huge_pmd) and
// first splits one it covers in part (zap_pmd_range).
//
// Simplifications: one PTL per mm (no split PTE locks); page tables
// are never freed (not even the one a collapse replaces); PTE writes go to memory through the
// zero-time backdoor; device-exclusive entries are kept in a side table instead of a swap-format
// PTE.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "os/mm_struct.h"
#include "os/mmu_notifier_range.h"
#include "os/os_config.h"
#include "os/vma.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/page_table/page_table.h"

namespace iosim {

class Histogram;
class Counter;
struct OsEvent;
struct OsRangeEvent;
class MmuGather;

class Mm : public MmStruct {
 public:
  static constexpr uint64_t kPageBytes = iosim::kPageBytes;
  // HPAGE_PMD_SIZE and a PUD leaf (1 GiB).
  static constexpr uint64_t kPmdBytes = uint64_t{1} << 21;
  static constexpr uint64_t kPudBytes = uint64_t{1} << 30;
  // x86 _PAGE_SOFT_DIRTY (_PAGE_BIT_SOFTW3, bit 11; arch/x86/include/asm/pgtable_types.h).
  static constexpr uint64_t kSoftDirty = uint64_t{1} << 11;

  // Allocates the PML4 from env.alloc. Throws std::runtime_error when out of frames.
  Mm(uint32_t id, OsEnv& env);

  OsEnv& env() { return env_; }
  const OsEnv& env() const { return env_; }
  SecondaryTlbFlush policy() const { return env_.cfg.secondary_tlb_flush; }
  uint64_t root() const { return root_; }
  VmaList& vmas() { return vmas_; }
  const VmaList& vmas() const { return vmas_; }

  // --- cpumask (mm_cpumask) ---
  void cpu_enter(int cpu) { cpus_.insert(cpu); }
  void cpu_leave(int cpu) { cpus_.erase(cpu); }
  const std::set<int>& cpumask() const { return cpus_; }

  // --- page tables ---
  // Leaf for va (zero time); Pte() when no table reaches it.
  Pte pte(uint64_t va) const;
  // Writes the leaf (creating tables), charges pte_update_ns, publishes the change.
  Pte set_pte(uint64_t va, Pte value, const char* reason);
  // The same for a caller with `pending` time not yet waited for: it is charged with
  // pte_update_ns in one wait before the write.
  Pte set_pte(uint64_t va, Pte value, const char* reason, sc_core::sc_time& pending);
  Pte clear_pte(uint64_t va, const char* reason);
  // Leaf flags of a user page with `prot` (RW only when `writable`).
  static uint64_t leaf_flags(bool writable);

  // --- huge leaves (os/thp.h) ---
  // True once a PMD or PUD leaf was installed (paths skip their huge-page passes before).
  bool huge_mapped() const { return huge_mapped_; }
  // The present leaf of any size mapping va; nullopt when none.
  std::optional<PageTableEditor::Slot> present_leaf(uint64_t va) const;
  // Writes the PMD (k2M) or PUD (k1G) entry of va (aligned) to the leaf `value` or to
  // not present, creating upper tables; charges pte_update_ns; publishes one change of
  // that size (an entry that pointed to a table is published as not present before).
  Pte set_huge_leaf(uint64_t va, PageSize size, Pte value, const char* reason);
  // pmd_populate: the PMD entry of haddr points to a new page table holding `ptes`
  // (512 entries, written before the table is linked); per_page_ns per entry and one
  // pte_update_ns; every present entry is published as a 4 KiB change.
  void populate_pmd(uint64_t haddr, const std::vector<Pte>& ptes, const char* reason);
  // pmdp_collapse_flush's clear: the PMD entry of haddr, which points to a page table,
  // becomes not present; returns that table's 512 entries, each present one published
  // as cleared. Empty when the entry is not a table pointer.
  std::vector<Pte> clear_pmd_table(uint64_t haddr, const char* reason);
  // __split_huge_pmd (mm/huge_memory.c) of the PMD leaf mapping va, if there is one:
  // MMU_NOTIFY_CLEAR over [haddr, haddr + 2 MiB); PTL; clear the PMD and flush
  // (pmdp_invalidate); the 512 PTEs in a new page table (same frames, same flags);
  // unlock; hold; end. The caller holds mmap_lock. True when a PMD was split.
  bool split_huge_pmd(int cpu, uint64_t va, const char* reason);
  // split_huge_pmd() of the PMDs that straddle start or end (vma_adjust_trans_huge).
  void split_huge_pmd_edges(int cpu, uint64_t start, uint64_t end, const char* reason);

  // --- page-table lock, with hold and spin histograms ---
  void ptl_lock();
  // The same with `pending` (SpinLock::lock(pending)): charged before the request, and
  // the acquisition cost is added to it instead of being waited for.
  void ptl_lock(sc_core::sc_time& pending);
  void ptl_unlock();

  // --- the flush point (caller holds the PTL) ---
  // CPU shootdown of [start, end), then arch_invalidate_secondary_tlbs under under_ptl.
  void flush_under_ptl(int cpu, uint64_t start, uint64_t end);

  // --- notifier range, timed ---
  void range_start(MmuNotifierRange& r);
  // The non-blockable start (mmu_notifier_invalidate_range_start_nonblock): 0, or
  // -EAGAIN when a subscriber would have to sleep (then no end may follow).
  int range_start_nonblock(MmuNotifierRange& r);
  // Preemption hold for `cpu`, then invalidate_range_end.
  void range_end(int cpu, MmuNotifierRange& r);

  // Clears every PTE in [start, end) inside one notifier range of `event` (zap_page_range):
  // start; PTL; clear (frames gathered, os/mmu_gather.h); flush (the gathered frames are
  // freed); unlock; hold; end. Device-exclusive entries in the range are dropped too.
  // The caller holds mmap_lock. Returns the PTEs cleared.
  uint64_t zap(int cpu, uint64_t start, uint64_t end, MmuNotifierEvent event, const char* reason);
  // zap() inside a non-blockable range (the OOM reaper's): nullopt, with nothing cleared
  // and no end, when its start failed.
  std::optional<uint64_t> zap_nonblock(int cpu, uint64_t start, uint64_t end,
                                       MmuNotifierEvent event, const char* reason);

  // Page-table range walk (walk_page_range): fn(va, pte) for every present 4 KiB PTE in
  // [start, end), in address order. Empty upper-level entries are skipped whole, so the
  // host work follows the populated tables, not the range length; the walk itself takes
  // no simulated time (callers charge per page they act on). `fn` may change the PTE it
  // is given and wait.
  void for_each_present_pte(uint64_t start, uint64_t end,
                            const std::function<void(uint64_t va, Pte pte)>& fn);
  // The same for every present leaf of any size, with its slot (size, entry).
  void for_each_present_leaf(
      uint64_t start, uint64_t end,
      const std::function<void(uint64_t va, const PageTableEditor::Slot& s)>& fn);
  // Page-table entries read by range walks of this mm so far.
  uint64_t pt_walk_reads() const { return pt_walk_reads_; }
  // Charges `ns` of CPU time on the calling thread.
  void run_for_ns(double ns);

  // Device-exclusive entries (make_device_exclusive): va -> frame.
  std::map<uint64_t, uint64_t>& exclusive_entries() { return exclusive_; }

  PageTableEditor& editor() { return editor_; }
  Counter& pte_updates() { return *pte_updates_; }

 private:
  // zap() after its range started: PTL, clear, flush, unlock, hold, end.
  uint64_t zap_started(int cpu, MmuNotifierRange& r, MmuGather& tlb, const char* reason);
  // Observer records of a step that began at `began` and ends now; cpu < 0: the
  // calling thread's core (ExecContext::cpu()).
  OsEvent observed(const sc_core::sc_time& began, int cpu = -1) const;
  // The leaf slot for va (PageTableEditor::lookup). The page table (PT) found last is
  // remembered with the 2 MiB region it maps: a region's PT stays where it is until its
  // PMD entry changes (split, collapse: forget_pt()), so a lookup in that region reads
  // one entry instead of walking four levels.
  std::optional<PageTableEditor::Slot> leaf_slot(uint64_t va) const;
  // Forgets the remembered PT (a PMD entry changed).
  void forget_pt() const { pt_region_ = ~uint64_t{0}; }
  // Publishes one leaf change to the observer and the ground truth.
  void publish(uint64_t va, uint64_t bytes, Pte old, Pte value, const char* reason);
  OsRangeEvent observed_range(const sc_core::sc_time& began, int cpu, uint64_t start, uint64_t end,
                              MmuNotifierEvent ev) const;

  OsEnv& env_;
  PageTableEditor editor_;
  uint64_t root_;
  mutable uint64_t pt_region_ = ~uint64_t{0};  // va >> 21 of the remembered PT (none)
  mutable uint64_t pt_table_ = 0;              // its physical address
  uint64_t pt_walk_reads_ = 0;
  bool huge_mapped_ = false;  // a PMD/PUD leaf was ever installed (else no split checks)
  VmaList vmas_;
  std::set<int> cpus_;
  std::map<uint64_t, uint64_t> exclusive_;
  sc_core::sc_time ptl_taken_;
  Histogram* ptl_hold_;
  Histogram* ptl_spin_;
  Histogram* notifier_time_;
  Histogram* secondary_flush_time_;
  Counter* pte_updates_;
  Counter* secondary_flushes_;
};

}  // namespace iosim

// Configuration of the OS memory manager (the [os] section) and the services every mm
// shares (OsEnv): the kernel's context, physical memory, page allocator, CPU TLB
// shootdown, ground truth, and the optional observer of the memory manager's steps.
//
// Latency defaults: the zero-fill fault (fault entry + page zeroing + PTE update)
// adds up to ~0.9 us, close to the ~1.0 us median minor page fault measured with
// rdtsc on Linux 6.6 / Core i7-11th gen (ddumbying.vercel.app/experiments/
// pagefault-latency). Syscall entry, per-page loop and VMA costs are estimates
// (marked as such); override them per platform.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "os/mm_struct.h"
#include "os/page_allocator.h"
#include "sc_models/config/choice.h"
#include "sc_models/memory/page_size.h"

namespace iosim {

class OsContext;
class PhysicalMemory;
class GroundTruth;
class CpuTlbShootdown;
class OsObserver;

// Where secondary TLBs (IOMMU, device ATCs) are invalidated, see os/mm.h.
enum class SecondaryTlbFlush { kUnderPtl, kRangeEnd };
inline constexpr ChoiceValue<SecondaryTlbFlush> kSecondaryTlbFlushValues[] = {
    {"under_ptl", SecondaryTlbFlush::kUnderPtl,
     "arch_invalidate_secondary_tlbs at the flush point, inside the PTL (Linux 6.6+)"},
    {"range_end", SecondaryTlbFlush::kRangeEnd, "deferred to invalidate_range_end"}};
inline constexpr Choices<SecondaryTlbFlush> kSecondaryTlbFlush{kSecondaryTlbFlushValues};

// Transparent huge pages for anonymous faults (/sys/kernel/mm/transparent_hugepage/
// enabled; os/thp.h).
enum class ThpMode { kNever, kMadvise, kAlways };
inline constexpr ChoiceValue<ThpMode> kThpModeValues[] = {
    {"never", ThpMode::kNever, "4 KiB pages only"},
    {"madvise", ThpMode::kMadvise, "2 MiB pages in VMAs marked MADV_HUGEPAGE"},
    {"always", ThpMode::kAlways, "2 MiB pages wherever an aligned 2 MiB range fits a VMA"}};
inline constexpr Choices<ThpMode> kThpMode{kThpModeValues};

struct OsConfig {
  SecondaryTlbFlush secondary_tlb_flush = SecondaryTlbFlush::kUnderPtl;
  // Preemption window: time between dropping the PTL and invalidate_range_end.
  double preempt_hold_ns = 0.0;
  // Kernel entry + exit of a system call. Estimate: ~100 ns on a modern x86 core
  // without speculative-execution mitigations.
  double syscall_entry_ns = 100.0;
  // Exception entry/exit of a page fault, VMA lookup and fault dispatch. Calibrated so a
  // zero-fill fault costs ~0.9 us in total (see file comment).
  double fault_entry_ns = 300.0;
  // One PTE write (atomic exchange on a page-table line usually not in cache): one DRAM
  // access, as sc_models/memory/physical_memory.h's default access latency.
  double pte_update_ns = 90.0;
  // Per-page loop overhead of zap/protect/copy loops. Estimate.
  double per_page_ns = 20.0;
  // Bandwidth of clear_page/copy_page on one core. Estimate: ~10 GB/s for a single
  // core's rep-movs/stos on DDR4 servers; 4 KiB then costs ~410 ns.
  double page_copy_gb_per_s = 10.0;
  // VMA tree update (split, insert, remove). Estimate.
  double vma_update_ns = 200.0;
  // Transparent huge pages (transparent_hugepage/enabled). Linux defaults to always or
  // madvise by distribution; never keeps every 4 KiB-only result.
  ThpMode thp = ThpMode::kNever;

  MmStructConfig mm;
  PageAllocatorConfig allocator;

  // Throws ParamError naming the first invalid parameter.
  void validate() const;

  template <class V>
  void visit(V& v) {
    v.choice("secondary_tlb_flush", secondary_tlb_flush, kSecondaryTlbFlush,
             "where secondary TLBs are invalidated");
    v("preempt_hold_ns", preempt_hold_ns, "ns",
      "hold between dropping the PTL and invalidate_range_end (preemption window)");
    v("syscall_entry_ns", syscall_entry_ns, "ns", "system call entry and exit");
    v("fault_entry_ns", fault_entry_ns, "ns", "page-fault exception entry, exit and dispatch");
    v("pte_update_ns", pte_update_ns, "ns", "one PTE write through memory");
    v("per_page_ns", per_page_ns, "ns", "loop overhead per page in zap/protect/copy loops");
    v("page_copy_gb_per_s", page_copy_gb_per_s, "GB/s", "clear_page/copy_page bandwidth");
    v("vma_update_ns", vma_update_ns, "ns", "VMA split/insert/remove");
    v.choice("thp", thp, kThpMode, "transparent huge pages for anonymous faults");
    v.section("mm", mm);
    v.section("allocator", allocator);
  }
};

// Shared by the kernel and every mm.
struct OsEnv {
  OsConfig cfg;
  PhysicalMemory* mem = nullptr;
  PageAllocator* alloc = nullptr;
  CpuTlbShootdown* tlb = nullptr;  // null: no CPU TLBs to flush
  GroundTruth* gt = nullptr;       // null: nothing observes
  // Per-CPU override of cfg.preempt_hold_ns (set per scenario thread).
  std::map<int, double> preempt_hold_ns_by_cpu;
  OsObserver* observer = nullptr;  // null: no timeline/trace of the OS steps (os_observer.h)
  // The kernel's context (threads, diagnostics, statistics); set by the Kernel.
  OsContext* os = nullptr;

  double preempt_hold_ns(int cpu) const {
    auto it = preempt_hold_ns_by_cpu.find(cpu);
    return it == preempt_hold_ns_by_cpu.end() ? cfg.preempt_hold_ns : it->second;
  }
  double page_copy_ns() const { return static_cast<double>(kPageBytes) / cfg.page_copy_gb_per_s; }
  // clear_huge_page / copy of `bytes` at page_copy_gb_per_s.
  double copy_ns(uint64_t bytes) const {
    return static_cast<double>(bytes) / cfg.page_copy_gb_per_s;
  }
};

}  // namespace iosim

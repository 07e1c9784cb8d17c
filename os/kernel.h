// Kernel: the OS memory manager as the cores and the threads running on them call it.
// It owns its context (OsContext: its threads' execution contexts and its diagnostics
// log, on the simulation context its statistics go to), the page allocator, the address
// spaces (Mm by id) and the code paths (FaultHandler, MmOps, PageOps), and charges a
// system call's entry cost. Every entry point runs on the calling core's SystemC thread
// (the `cpu` argument names that core for TLB shootdown and for the per-CPU preemption
// hold) and consumes simulated time there. The system calls are the entry points below;
// the platform's operation table (platform/cpu_operations.h) is what calls them from a
// thread program.
//
// Layering: of cpu/, os/ sees only the page-fault handler interface it implements
// (cpu/page_fault_handler.h: a core's fault enters here, the ASID naming the mm); the
// cores' TLBs are reached through the CpuTlbShootdown interface (os/tlb_flush.h) set
// with set_tlb_shootdown().
//
// Simplifications: no scheduler, no processes beyond their mm; an mm is created
// explicitly (create_mm) or by fork, and exists until the Kernel is destroyed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "cpu/page_fault_handler.h"
#include "os/fault_handler.h"
#include "os/mm.h"
#include "os/mm_ops.h"
#include "os/os_config.h"
#include "os/os_context.h"
#include "os/page_allocator.h"
#include "os/page_ops.h"

namespace iosim {

class Kernel : public PageFaultHandler {
 public:
  // The kernel's statistics go to `sim`'s registry. Throws ParamError for an invalid
  // configuration.
  Kernel(SimContext& sim, const OsConfig& cfg, PhysicalMemory& mem, GroundTruth* gt = nullptr);

  void set_tlb_shootdown(CpuTlbShootdown* s) { env_.tlb = s; }
  // Observer of the memory manager's steps (timeline, trace); null to detach.
  void set_observer(OsObserver* o) { env_.observer = o; }
  // Preemption hold used by operations that run on `cpu` (overrides os.preempt_hold_ns).
  void set_preempt_hold_ns(int cpu, double ns) { env_.preempt_hold_ns_by_cpu[cpu] = ns; }

  // A new empty address space. Throws std::invalid_argument if the id is taken.
  Mm& create_mm(uint32_t id);
  Mm* find_mm(uint32_t id);
  // Throws std::out_of_range naming the id when there is no such mm.
  Mm& mm(uint32_t id);

  // --- entry points (see MmOps / PageOps / FaultHandler for the exact sequences) ---
  // A core's page fault (cpu/page_fault_handler.h): handle_fault on mm `asid`.
  bool handle_page_fault(int cpu, uint32_t asid, uint64_t va, bool write) override {
    return fault_handled(faults_.handle(mm(asid), cpu, va, write));
  }
  FaultResult handle_fault(Mm& mm, int cpu, uint64_t va, bool write) {
    return faults_.handle(mm, cpu, va, write);
  }
  // The same, charging the caller's `pending` time with the fault entry (one wait).
  FaultResult handle_fault(Mm& mm, int cpu, uint64_t va, bool write, sc_core::sc_time& pending) {
    return faults_.handle(mm, cpu, va, write, pending);
  }
  int64_t mmap(Mm& mm, int cpu, uint64_t addr, uint64_t len, uint32_t prot, bool shared) {
    return ops_.mmap(mm, cpu, addr, len, prot, shared);
  }
  int munmap(Mm& mm, int cpu, uint64_t start, uint64_t len) {
    return ops_.munmap(mm, cpu, start, len);
  }
  int madvise_dontneed(Mm& mm, int cpu, uint64_t start, uint64_t len) {
    return ops_.madvise_dontneed(mm, cpu, start, len);
  }
  int madvise_hugepage(Mm& mm, int cpu, uint64_t start, uint64_t len) {
    return ops_.madvise_hugepage(mm, cpu, start, len, true);
  }
  int64_t mmap_hugetlb(Mm& mm, int cpu, uint64_t addr, uint64_t len, uint32_t prot) {
    return ops_.mmap_hugetlb(mm, cpu, addr, len, prot);
  }
  int collapse(Mm& mm, int cpu, uint64_t haddr) { return pages_.collapse(mm, cpu, haddr); }
  int mprotect(Mm& mm, int cpu, uint64_t start, uint64_t len, uint32_t prot) {
    return ops_.mprotect(mm, cpu, start, len, prot);
  }
  int mremap(Mm& mm, int cpu, uint64_t old_addr, uint64_t len, uint64_t new_addr) {
    return ops_.mremap(mm, cpu, old_addr, len, new_addr);
  }
  // Creates mm `child_id` as a copy of `parent`; 0 or a negative errno (-EEXIST).
  int fork(Mm& parent, int cpu, uint32_t child_id);
  // The calling task leaves the mm (mmput): the last user tears it down.
  void exit(Mm& mm, int cpu);
  // The OOM reaper, run by the calling core as a kernel thread, on victim `mm`
  // (MmOps::oom_reap).
  MmOps::OomReapResult oom_reap(Mm& mm, int cpu) { return ops_.oom_reap(mm, cpu); }
  int migrate(Mm& mm, int cpu, uint64_t start, uint64_t len, const void* owner) {
    return pages_.migrate(mm, cpu, start, len, owner);
  }
  int compact(Mm& mm, int cpu, uint64_t start, uint64_t len) {
    return pages_.compact(mm, cpu, start, len);
  }
  int ksm_merge(Mm& mm_a, uint64_t va_a, Mm& mm_b, uint64_t va_b, int cpu) {
    return pages_.ksm_merge(mm_a, va_a, mm_b, va_b, cpu);
  }
  int clear_soft_dirty(Mm& mm, int cpu) { return pages_.clear_soft_dirty(mm, cpu); }
  int make_device_exclusive(Mm& mm, int cpu, uint64_t va, const void* owner) {
    return pages_.make_device_exclusive(mm, cpu, va, owner);
  }
  int clear_flush_young(Mm& mm, int cpu, uint64_t va) {
    return pages_.clear_flush_young(mm, cpu, va);
  }
  int clear_young(Mm& mm, int cpu, uint64_t va) { return pages_.clear_young(mm, cpu, va); }
  int test_young(Mm& mm, int cpu, uint64_t va) { return pages_.test_young(mm, cpu, va); }

  // The kernel's own context: its threads' execution contexts, its diagnostics log
  // (dmesg) and the simulation context its statistics go to.
  OsContext& context() { return os_; }
  OsEnv& env() { return env_; }
  const OsConfig& config() const { return env_.cfg; }
  PageAllocator& allocator() { return alloc_; }
  const FaultHandler& faults() const { return faults_; }

 private:
  OsContext os_;  // first: everything below refers to it
  OsEnv env_;
  PageAllocator alloc_;
  FaultHandler faults_;
  MmOps ops_;
  PageOps pages_;
  std::map<uint32_t, std::unique_ptr<Mm>> mms_;
  std::map<MmStruct*, int> exit_cpu_;  // core running the last mmput, for exit_mmap
};

}  // namespace iosim

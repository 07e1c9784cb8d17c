// MirrorDriver: the driver of one mirror device (device.N.kind = mirror; the device's
// software interface is device/mirror_sw_interface.h), the other big family of MMU-notifier
// users besides SVA: GPUs and RDMA NICs without ATS that keep their own page table
// (and, in spirit, the KVM shadow MMU of the 2008 notifier review). It runs on the
// cores that call it; its fault handler is one interrupt-driven kernel thread.
//
//   - init(): a fault buffer and a status word in memory; FAULT_BASE written.
//   - bind(mm): a free device context, an empty device page table for it (CTX_ROOT),
//     and a notifier subscription, by device.N.mirror.api:
//       interval: mmu_interval_notifier_insert over the user address space;
//       range:    mmu_notifier_register of a subscription with invalidate_range_start,
//                 invalidate_range_end and release.
//     unbind(mm): the subscription removed, the context's device PTEs cleared and its
//     TLB flushed, the page references dropped, the context disabled.
//   - a device fault (the fault interrupt; FAULT_PUT/GET and the records in memory):
//     per record, an HMM-style range fault of the page, then REPLAY:
//       interval (include/linux/mmu_notifier.h, the mmu_interval_read_begin pattern):
//         seq = read_begin; mmap_lock read; read the CPU PTE (a missing or read-only
//         one is faulted in with the lock dropped, then the whole sequence again);
//         unlock; lock the driver mutex; read_retry(seq) -> again; write the device
//         PTE; unlock. mirror.check_retry = false skips the read_retry check.
//       range (KVM's mmu_invalidate_in_progress / mmu_invalidate_seq): under the
//         driver lock, wait while a range in progress covers the page and note the
//         sequence; read the CPU PTE as above; under the lock again, retry when the
//         sequence moved or a range covers the page; take a page reference; write
//         the device PTE.
//   - interval invalidate(range, cur_seq): the owner filter (MIGRATE and EXCLUSIVE
//     ranges this driver owns are skipped), then under the mutex set_seq and clear the
//     device PTEs of the range; unlock; flush the device TLB for the range (sleeping on
//     the device's invalidation interrupt). A non-blockable range returns false when
//     the mutex is taken or a flush would be needed (the caller gets -EAGAIN).
//   - range invalidate_range_start: owner filter; under the driver spin lock, count
//     the range in progress, move the sequence and clear the device PTEs; then, by
//     device.N.mirror.refcount: drop_at_start flushes the device TLB (spinning) and
//     drops the references of the cleared pages; drop_at_end keeps both for
//     invalidate_range_end, which flushes and then drops; drop_before_flush drops
//     them at start and flushes at end (wrong: the VM can free a page the device TLB
//     still maps). invalidate_range_end ends the range in progress and wakes faults.
//     It never fails (it spins rather than sleeps), so it may implement end.
//   - release(mm): every device PTE of the context cleared and flushed.
//   - page aging (range api: clear_flush_young, clear_young, test_young), as KVM ages
//     sptes without Accessed bits (access tracking): the device page table has no A
//     bit, so a mapped device PTE counts as young; clearing it unmaps it (flush,
//     reference dropped) and the device's next access faults it in again. clear_young
//     flushes too (the kernel allows either). Clearing twice is harmless: the second
//     finds nothing mapped and returns 0.
// Every completed flush is reported to the ground truth as an invalidation of the
// context's checker tag (mirror_context_tag); every device PTE written notes when its
// CPU PTE was read (GroundTruth::device_pte_made). Clearing a range whose device PTEs
// are already clear (a repeated invalidation) flushes nothing and is counted.
//
// Timing: register accesses cost the device's MMIO latencies; fault_entry_ns when the
// handler wakes, per_fault_ns per faulted page between reading the CPU PTE and taking
// the driver lock, pte_write_ns per device PTE written or cleared; locks and the
// kernel's fault handler charge their own.
//
// Simplifications: a missing CPU PTE is faulted in through the kernel's fault handler
// (which takes mmap_lock itself) rather than handle_mm_fault under the caller's lock;
// one page per fault record; the handler serves the records of one interrupt in order.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "device/mirror_sw_interface.h"
#include "os/kernel.h"
#include "os/mmu_interval_notifier.h"
#include "os/mmu_notifier.h"
#include "os/rw_semaphore.h"
#include "os/spin_lock.h"
#include "sc_models/observe/stats.h"

namespace iosim {

class MirrorDriver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<MirrorDriver> regs;
  sc_core::sc_port<MirrorDeviceInterrupts> irq;

  // `rid`: the device's requester ID (its checker tags). Throws ParamError for an
  // invalid configuration.
  MirrorDriver(sc_core::sc_module_name name, const MirrorConfig& cfg, uint16_t rid, Kernel& kernel);
  ~MirrorDriver() override;

  // --- from a SystemC thread (they take simulated time) ---
  void init();
  // The device context of `mm` (a new one at the first bind). Throws
  // std::runtime_error when no context is free or init() was not called.
  uint32_t bind(Mm& mm, int cpu);
  // Ignored when `mm` is not bound.
  void unbind(Mm& mm, int cpu);

  // --- pure ---
  std::optional<uint32_t> context_of(const Mm& mm) const;
  // bind(mm) would succeed: mm is bound, or a context is free.
  bool can_bind(const Mm& mm) const;
  uint32_t tag_of(uint32_t ctx) const { return mirror_context_tag(rid_, ctx); }
  const MirrorConfig& config() const { return cfg_; }
  // Device PTEs present in context `ctx` (for tests).
  size_t device_ptes(uint32_t ctx) const;
  uint64_t faults() const { return faults_.value(); }
  uint64_t fault_retries() const { return fault_retries_.value(); }
  uint64_t flushes() const { return flushes_.value(); }
  uint64_t repeated_invalidations() const { return repeated_.value(); }
  uint64_t owner_skipped() const { return owner_skipped_.value(); }
  uint64_t would_block() const { return would_block_.value(); }
  uint64_t young_calls() const { return young_calls_.value(); }
  // The owner cookie of this driver in MIGRATE and EXCLUSIVE ranges.
  const void* owner() const { return this; }

 private:
  struct Context;
  class IntervalSub;
  class RangeSub;
  // Device PTEs cleared by an invalidation: (va, frame).
  using Cleared = std::vector<std::pair<uint64_t, uint64_t>>;

  void on_fault_irq();
  void run_faults();
  void handle_record(const MirrorFaultRecord& r);
  // Makes the device PTE for `va`; false when the CPU cannot map it (no VMA, no
  // permission, out of memory): the access will fault again and fail.
  bool fault_in(Context& c, uint64_t va, bool write);
  // The CPU PTE of `va` usable for the access, read under mmap_lock (faulted in with
  // the lock dropped when needed): the frame and writability; nullopt when the CPU
  // fault fails.
  struct CpuPte {
    uint64_t frame;
    bool writable;
    sc_core::sc_time read_at;
  };
  std::optional<CpuPte> read_cpu_pte(Context& c, uint64_t va, bool write);
  void write_device_pte(Context& c, uint64_t va, const CpuPte& p);
  Cleared clear_device_ptes(Context& c, uint64_t start, uint64_t end);
  // Rings the device's TLB invalidation of [start, end) and waits for its status
  // write: sleeping (interval api) or spinning (range api).
  void flush_device_tlb(Context& c, uint64_t start, uint64_t end, bool spin);
  void drop_references(Context& c, const Cleared& cleared);

  // Notifier callbacks.
  bool interval_invalidate(Context& c, const MmuNotifierRange& r, uint64_t cur_seq);
  void range_start(Context& c, const MmuNotifierRange& r);
  void range_end(Context& c, const MmuNotifierRange& r);
  void release(Context& c);
  // Page aging (range api): the device PTEs of the range are cleared (and the device
  // TLB flushed, the references dropped), so the next device access faults and shows
  // the page in use again; 1 when one was mapped.
  int clear_young(Context& c, uint64_t start, uint64_t end);
  // A device PTE is present in [start, end).
  bool mapped(const Context& c, uint64_t start, uint64_t end) const;
  bool owner_filtered(const MmuNotifierRange& r);

  // One 8-byte register access; waits for its latency. Returns the value read (a
  // write: `value`).
  uint64_t reg_access(tlm::tlm_command cmd, uint64_t off, uint64_t value);
  uint64_t read_reg(uint64_t off);
  void write_reg(uint64_t off, uint64_t value);
  uint64_t alloc_frame(const char* what);

  MirrorConfig cfg_;
  uint16_t rid_;
  Kernel& kernel_;
  sc_core::sc_event_finder_t<MirrorDeviceInterrupts> fault_line_, inv_line_;
  sc_core::sc_time fault_entry_, per_fault_, pte_write_;
  SpinLock regs_lock_;  // serialises the invalidation register sequence
  uint64_t fault_buffer_ = 0, status_addr_ = 0;
  uint64_t next_seq_ = 1;
  bool irq_pending_ = false;
  sc_core::sc_event irq_ev_, inv_seen_;
  std::vector<std::unique_ptr<Context>> contexts_;  // by context index (nullptr: free)

  StatGroup& stats_;
  Counter& faults_;
  Counter& fault_failures_;
  Counter& fault_retries_;
  Counter& ptes_written_;
  Counter& flushes_;
  Counter& repeated_;
  Counter& owner_skipped_;
  Counter& would_block_;
  Counter& young_calls_;
  Histogram& fault_latency_;
  Histogram& flush_latency_;
};

}  // namespace iosim

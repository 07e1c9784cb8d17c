// SvaDriver: the shared-virtual-addressing (SVA) part of an IOMMU driver, running on
// the cores that call it. It sees the IOMMU as software does (iommu/vtd/sw_interface.h):
// registers over TLM (`regs`, timed), tables and queues in simulated memory, and the
// completion and fault interrupt lines (`irq`). Called by the platform (init, attach,
// bind), its MMU notifier (SvaNotifier: invalidate, release) and the IOPF handler.
//   - init(): root table, command queue, page request queue and a status frame for
//     inv_wait status writes; RTADDR, IQA and PQA written over TLM;
//   - attach_device(): the device's context entry and a flat PASID table;
//   - bind(): one PASID per mm (lowest free from 1, shared by all its devices: Linux's
//     mm->pasid), its PASID entry (first-level root = the mm's PML4) in each bound
//     device's table, a PASID-cache invalidation and one MMU notifier per mm;
//   - invalidate(): the policy (os/sva_policy.h) turns the range into descriptors; each
//     batch (descriptors up to an inv_wait) is written, the tail register rung, and the
//     caller spins on the wait's status word. A spin lock serialises the queue, so this
//     is legal under a page-table lock. Failures: see submit_and_wait();
//   - unbind(): the teardown of Linux's remove_dev_pasid (intel_pasid_tear_down_entry,
//     then intel_drain_pasid_prq), in this order: clear the device's PASID entry;
//     PASID-cache, PASID-selective IOTLB and device-TLB invalidations with one wait;
//     drain the page requests of the PASID (IopfHandler: the queue is empty and the
//     handler idle; the device's Stop Marker is its own) and flush the IOTLB and device
//     TLB again, for translations fetched while they were answered; then the last
//     device unregisters the notifier and frees the PASID (lowest free first, so the
//     next bind of any mm may get it). sva.unbind_skip_atc_flush leaves out the
//     device-TLB invalidations: a fault knob that shows the hazard of a device keeping
//     translations of a PASID handed to another process;
//   - flush_pasid() / flush_all(): explicit flushes of the command set (a PASID, or
//     everything), each with its wait;
//   - release() (mm exit) clears every PASID entry of the mm, as Linux's op.
//
// Timing: table and descriptor writes go through the memory backdoor (memory is
// sequentially consistent) and cost table_write_ns / descriptor_write_ns; register
// accesses cost the IOMMU's register latency. Software polls the status word every
// poll_interval_ns: the model wakes at the IOMMU's status write (the wait sets IF, so
// the IOMMU raises its completion event there) and ends the spin at the first poll at
// or after it; the whole wait is spin time. Costs no other process can observe are
// charged in one wait before the next visible action (the queue lock and a batch's
// descriptor writes with the doorbell, the doorbell's latency with the polling), at
// the same simulated times as charging each on its own.
//
// Simplifications: one IOMMU; flat PASID tables of 256 entries (PASIDs 1..255);
// domain ID = PASID; one status word for every wait (the queue is serialised); no
// interrupt remapping; unbind of a device never bound is ignored.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iommu/vtd/sw_interface.h"
#include "os/kernel.h"
#include "os/spin_lock.h"
#include "os/sva_invalidation_stats.h"
#include "os/sva_notifier.h"
#include "os/sva_policy.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/payload_pool.h"
#include "sc_models/observe/stats.h"

namespace iosim {

class SvaNotifier;

struct SvaConfig {
  // Range-to-command policy (see os/sva_policy.h).
  SvaPolicyFactory policy = sva_policies().find("intel")->value;
  // MMU-notifier ops (os/sva_notifier.h); none (auto) follows os.secondary_tlb_flush.
  std::optional<SvaNotifierMode> notifier;
  // Linux QI_MAX_BATCHED_DESC_COUNT (drivers/iommu/intel/iommu.h, qi_batch, 6.12+):
  // 16 descriptors, then qi_submit_sync adds the wait. 1 models the older drivers that
  // submitted every descriptor with its own wait.
  uint32_t intel_batch_descriptors = 16;
  // VT-d CAP.MAMV: largest address mask of a page-selective invalidation. 18 is the
  // MAMV of the widely reported Xeon CAP value 0xd2008c40660462 (bits 53:48 = 0x12).
  uint32_t intel_max_address_mask = 18;
  // Linux CMDQ_MAX_TLBI_OPS (arm-smmu-v3-sva.c): 1 << (PAGE_SHIFT - 3) = 512 per-page
  // TLBIs; a range of that many pages or more invalidates the whole ASID (SMMUs
  // without range invalidation).
  uint32_t arm_full_flush_pages = 512;
  // IQA.QS: the command queue holds 256 << QS descriptors.
  uint32_t command_queue_qs = 0;
  // PQA.PQS: the page request queue holds 128 << PQS descriptors.
  uint32_t page_request_queue_pqs = 0;
  // Estimate: two 64-bit stores of a descriptor into the (cached) queue ring.
  double descriptor_write_ns = 10.0;
  // Estimate: a 16-byte table entry write plus the cache-line flush that makes it
  // visible to the IOMMU's table walker.
  double table_write_ns = 100.0;
  // Polling period of the status word: a read that misses (the IOMMU's write
  // invalidated the line; one DRAM access, ~90 ns as sc_models/memory/physical_memory.h's
  // default) plus a PAUSE (~140 cycles on Skylake-SP, Intel optimization manual,
  // ~40 ns at 3.5 GHz).
  double poll_interval_ns = 130.0;
  // Model safety net: give up a wait after this long without completion or failure
  // (0 disables it). Linux VT-d's qi_submit_sync has no such limit; the IOMMU's ITag
  // timeout is the modelled failure path, so a non-zero value must be at least
  // iommu.command_queue.itag_timeout_ns (see validate_wait_timeout()).
  double wait_timeout_ns = 0;
  // Linux info->dtlb_extra_inval (intel/iommu.c, dev_needs_extra_dtlb_flush: Intel
  // QAT devices 0x4940-0x4943): every device-TLB invalidation is written twice into
  // the same batch (cache_tag_flush_devtlb_psi). Applies to every ATS device here.
  bool intel_dtlb_extra_inval = false;
  // Fault injection: unbind() writes no device-TLB invalidation, so the device keeps
  // the PASID's translations after it is freed (a driver that skips a teardown step).
  bool unbind_skip_atc_flush = false;
  // The lock serialising the command queue (Linux qi->q_lock, a raw spin lock).
  SpinLockConfig queue_lock;

  template <class V>
  void visit(V& v) {
    v.choice("policy", policy, sva_policies(), "range-to-command invalidation policy");
    v.choice("notifier", notifier, kSvaNotifier, "MMU-notifier ops the driver registers");
    v("intel_batch_descriptors", intel_batch_descriptors, "descriptors",
      "intel: descriptors per batch before an inv_wait");
    v("intel_max_address_mask", intel_max_address_mask, "",
      "intel: largest page-selective address mask (CAP.MAMV); larger ranges flush the PASID");
    v("intel_dtlb_extra_inval", intel_dtlb_extra_inval, "",
      "intel: write every device-TLB invalidation twice per batch (Linux dtlb_extra_inval quirk)");
    v("arm_full_flush_pages", arm_full_flush_pages, "pages",
      "arm: ranges of at least this many pages invalidate the whole PASID");
    v("command_queue_qs", command_queue_qs, "", "command queue size: 256 << QS descriptors");
    v("page_request_queue_pqs", page_request_queue_pqs, "",
      "page request queue size: 128 << PQS descriptors");
    v("descriptor_write_ns", descriptor_write_ns, "ns", "writing one descriptor into the queue");
    v("table_write_ns", table_write_ns, "ns", "writing one context/PASID table entry");
    v("poll_interval_ns", poll_interval_ns, "ns", "status-word polling period");
    v("wait_timeout_ns", wait_timeout_ns, "ns",
      "abandon a wait without completion or failure after this long (0 = never; else >= "
      "iommu.command_queue.itag_timeout_ns)");
    v("unbind_skip_atc_flush", unbind_skip_atc_flush, "",
      "fault: unbind leaves the device TLB alone (the device keeps a freed PASID's "
      "translations)");
    v.section("queue_lock", queue_lock);
  }
  // Throws ParamError naming the first invalid key.
  void validate() const;
  // Throws ParamError when wait_timeout_ns is non-zero and below the IOMMU's ITag
  // timeout: such a limit abandons waits for ATC invalidations the IOMMU still tracks
  // (with 1 ns, every wait), so the driver would go on before the device answered or
  // the IOMMU reported the time-out.
  void validate_wait_timeout(double itag_timeout_ns) const;
};

class IopfHandler;

class SvaDriver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<SvaDriver> regs;
  sc_core::sc_port<IommuInterrupts> irq;

  // The configuration is validated here; validate_wait_timeout() needs the IOMMU's
  // configuration and is the platform's to call.
  SvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel);
  ~SvaDriver() override;

  void set_ground_truth(GroundTruth* gt) { gt_ = gt; }

  // --- from a SystemC thread (they take simulated time) ---
  void init();
  void attach_device(uint16_t rid, bool ats, bool pri);
  // A device that translates by itself (a mirror device): attached without ATS and
  // PRI, its requests without PASID pass through (Linux's identity domain): the
  // RID_PASID entry with PGTT = pass-through.
  void attach_identity(uint16_t rid);
  // The PASID of `mm` (allocated at its first bind, published as a bound
  // PasidBindingEvent). Throws std::runtime_error when the device is not attached,
  // init() was not called or no PASID is free.
  uint32_t bind(Mm& mm, uint16_t rid, int cpu);
  // The teardown above; the free of the PASID is published as an unbound
  // PasidBindingEvent at the time the teardown ends.
  void unbind(Mm& mm, uint16_t rid, int cpu);
  // PASIDs a bind of a new mm could still get.
  uint32_t free_pasids() const;
  // PASID-selective IOTLB and device-TLB invalidation of `mm`'s PASID on every device
  // it is bound to (Linux cache_tag_flush_all on the SVA domain: qi_flush_piotlb with
  // npages -1, qi_flush_dev_iotlb_pasid over the whole space), then the wait. False
  // when `mm` has no PASID.
  bool flush_pasid(Mm& mm);
  // Global PASID-cache and IOTLB invalidations (Linux's flush_context/flush_iotlb with
  // DMA_CCMD/DMA_TLB_GLOBAL_FLUSH) and a whole-space device-TLB invalidation of every
  // bound PASID on each ATS device, then the wait.
  void flush_all();
  // The notifier's invalidation of [start, end) of `mm`; `event` is the notifier
  // range's (nullopt: called outside any range). Its latency is sampled in
  // invalidation_latency and in the breakdown (os/sva_invalidation_stats.h).
  void invalidate(Mm& mm, uint64_t start, uint64_t end,
                  std::optional<MmuNotifierEvent> event = std::nullopt);
  // Writes the descriptors (a wait is appended when the list does not end with one),
  // rings the tail per batch and spins on each wait. False when a wait failed.
  // A failed wait is seen through the fault event and FSTS (Linux qi_check_fault). After
  // an ATC invalidation time-out (FSTS.ITE) the policy decides: intel writes the batch
  // again while its devices are present (qi_submit_sync's restart, unbounded as in
  // Linux) and gives up when one is gone (-ETIMEDOUT; the presence check covers every
  // device of the batch, as the IOMMU has no ITESID register); arm writes the wait
  // again (the repeated CMD_SYNC); amd_legacy goes on as if the wait had completed (its
  // IOMMU completes the wait and logs an event the driver does not read). A rejected
  // descriptor (FSTS.IQE) fails the wait. A wait neither completed nor failed within
  // wait_timeout_ns (0: never; Linux VT-d has no software limit) is abandoned.
  // Counters: retries (written again), failed_waits (given up, or amd_legacy going on
  // after a time-out), wait_timeouts (abandoned). invalidate() publishes its
  // InvalidationDoneEvent only when this returns true (amd_legacy's included).
  bool submit_and_wait(const std::vector<Desc128>& descs);

  // --- pure ---
  std::vector<Desc128> build_commands(uint32_t pasid, const std::vector<uint16_t>& rids,
                                      uint64_t start, uint64_t end) const;
  std::optional<uint32_t> pasid_of(const Mm& mm) const;
  Mm* mm_of_pasid(uint32_t pasid) const;
  // Devices bound to the PASID, in bind order.
  std::vector<uint16_t> devices_of(uint32_t pasid) const;
  SvaNotifierMode notifier_mode() const { return mode_; }
  const SvaConfig& config() const { return cfg_; }
  uint64_t status_address() const { return status_addr_; }
  uint64_t command_queue_base() const { return cq_base_; }
  uint64_t page_request_queue_base() const { return pq_base_; }
  uint64_t pasid_table_of(uint16_t rid) const;
  uint64_t failed_waits() const { return failed_waits_.value(); }
  uint64_t retries() const { return retries_.value(); }
  uint64_t wait_timeouts() const { return wait_timeouts_.value(); }
  // Surprise removal (or return) of an attached device: the presence check the
  // intel policy makes after an ITag timeout (Linux pci_device_is_present()).
  void set_device_present(uint16_t rid, bool present);

  // --- used by the IOPF handler and the notifier ---
  void set_iopf_handler(IopfHandler* h) { iopf_ = h; }
  void release(Mm& mm);
  uint64_t read_reg(uint64_t off);
  void write_reg(uint64_t off, uint64_t value);
  // The same with deferred time: `pending` (time the caller has executed since its
  // last action others can see) is charged before the access, and the register
  // latency is added to it instead of being waited for.
  uint64_t read_reg(uint64_t off, sc_core::sc_time& pending);
  void write_reg(uint64_t off, uint64_t value, sc_core::sc_time& pending);
  Kernel& kernel() { return kernel_; }

 private:
  void reg_access(tlm::tlm_command cmd, uint64_t off, uint64_t& value, sc_core::sc_time& pending);

  struct DeviceState {
    bool ats = false;
    bool pri = false;
    bool present = true;  // what pci_device_is_present() would answer
    uint64_t pasid_table = 0;
  };
  enum class WaitResult {
    kDone,        // the status was written
    kAtcTimeout,  // failed with FSTS.ITE: an ATC invalidation timed out
    kRejected,    // failed with FSTS.IQE only
    kAbandoned,   // sva.wait_timeout_ns passed
  };
  struct Binding {
    Mm* mm = nullptr;
    uint32_t pasid = 0;
    std::vector<uint16_t> rids;
    SvaNotifier* notifier = nullptr;
    bool released = false;
  };

  void on_wait_irq();
  void on_fault_irq();
  void on_timeout();
  uint64_t alloc_frame(const char* what);
  uint64_t alloc_frames(unsigned n, const char* what);  // contiguous
  uint32_t read_status() const;
  void write_entry(uint64_t addr, const Desc128& d);
  Binding* binding_of(const Mm& mm);
  const Binding* binding_of(const Mm& mm) const;
  std::vector<uint16_t> ats_rids(const std::vector<uint16_t>& rids) const;
  // Appends the PASID-selective IOTLB invalidation of `pasid` and, when `atc`, a
  // whole-space device-TLB invalidation on each ATS device of `rids`.
  void append_pasid_flush(std::vector<Desc128>& d, uint32_t pasid,
                          const std::vector<uint16_t>& rids, bool atc) const;
  // Whole-PASID teardown commands for `rids`: PASID cache, IOTLB, ATCs (`atc`), wait.
  std::vector<Desc128> teardown_commands(uint32_t pasid, const std::vector<uint16_t>& rids,
                                         bool atc = true) const;
  Desc128 wait_descriptor() const;
  // One batch: the descriptors (the last is a wait) while holding the queue lock.
  // `pending` (time not yet waited for) is charged with the doorbell and reset.
  WaitResult run_batch(const Desc128* d, size_t n, sc_core::sc_time& pending);
  // run_batch() again after ATC time-outs as the policy says; false when given up.
  bool complete_batch(const Desc128* d, size_t n, sc_core::sc_time& pending);
  // Every device a dev-TLB descriptor of the batch targets is present.
  bool devices_present(const Desc128* d, size_t n) const;
  void put_descriptor(const Desc128& d, sc_core::sc_time& pending);
  // Polls from sc_time_stamp() + pending (the doorbell's register latency).
  WaitResult spin_for_status(uint32_t data, uint64_t wait_slot_end,
                             const sc_core::sc_time& pending);
  // First status poll at or after `now` of a spin that started at `start`.
  sc_core::sc_time poll_seen(const sc_core::sc_time& start, const sc_core::sc_time& now) const;

  // The interrupt lines the methods are sensitive to, found through `irq` once it is
  // bound (at the end of elaboration).
  sc_core::sc_event_finder_t<IommuInterrupts> completion_line_, fault_line_;
  SvaConfig cfg_;
  Kernel& kernel_;
  std::unique_ptr<SvaPolicy> policy_;
  SvaNotifierMode mode_;
  GroundTruth* gt_ = nullptr;
  IopfHandler* iopf_ = nullptr;
  SpinLock queue_lock_;
  sc_core::sc_event irq_;  // IOMMU completion or fault event seen
  bool fault_pending_ = false;
  bool spinning_ = false;                                   // spin_for_status is polling
  sc_core::sc_time spin_deadline_ = sc_core::SC_ZERO_TIME;  // its wait_timeout_ns deadline
  // Wakes the poller at its deadline. Never cancelled: a cancelled timed notification
  // stays in the kernel's queue until its time, so cancelling one per wait would
  // grow that queue by one entry per invalidation; a stale firing re-arms instead.
  sc_core::sc_event timeout_ev_;
  sc_core::sc_time spin_start_ = sc_core::SC_ZERO_TIME;  // its first poll

  uint64_t root_table_ = 0, cq_base_ = 0, pq_base_ = 0, status_addr_ = 0;
  uint64_t cq_bytes_ = 0, cq_tail_ = 0, cq_head_cache_ = 0;
  uint32_t next_status_ = 1;
  std::map<uint8_t, uint64_t> context_tables_;  // bus -> context table
  std::map<uint16_t, DeviceState> devices_;
  std::map<uint32_t, Binding> bindings_;  // by PASID
  std::vector<std::unique_ptr<SvaNotifier>> notifiers_;
  PayloadPool payloads_;  // register access payloads

  StatGroup& stats_;
  Histogram& invalidation_latency_;
  Histogram& spin_time_;
  Counter& invalidations_;
  Counter& descriptors_;
  Counter& batches_;
  Counter& full_flushes_;
  Counter& failed_waits_;
  Counter& wait_timeouts_;
  Counter& retries_;
  Counter& queue_full_stalls_;
  SvaInvalidationStats breakdown_;  // invalidation_latency by event and range size
};

}  // namespace iosim

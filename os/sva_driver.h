// SvaDriver: what every architecture's shared-virtual-addressing (SVA) driver does,
// running on the cores that call it; VtdSvaDriver (os/vtd_sva_driver.h) adds VT-d's
// tables, command queue and page request queue. It sees the IOMMU as software does:
// registers over TLM (`regs`, timed) and the completion, fault and page request
// interrupt lines (`irq`, iommu/interrupts.h). Called by the platform (init, attach,
// bind), its MMU notifier (SvaNotifier: invalidate, release) and the IOPF handler.
//
// Here: device bookkeeping (ATS, PRI, presence); the PASID allocator (one PASID per
// mm, lowest free from 1, shared by all its devices: Linux's mm->pasid); bindings
// (mm <-> PASID <-> devices) with one MMU notifier per mm, registered at the first bind
// and unregistered with the last unbind, and their PasidBindingEvents; the skeletons of
// bind, unbind, release, flush_pasid and invalidate around the architecture's hooks;
// the wait for a command queue completion: spinning until a 32-bit status word in
// memory holds a value, polled every poll_interval_ns, woken by the completion line,
// with the architecture's hook judging fault interrupts and wait_timeout_ns
// abandoning it; the statistics and the queue lock (Linux qi->q_lock, cmdq->lock).
//
// Timing: register accesses cost the IOMMU's register latency. The model wakes the
// poller at the IOMMU's status write (the wait asks for a completion interrupt) and
// ends the spin at the first poll at or after it; the whole wait is spin time.
//
// Simplifications: one IOMMU; PASIDs 1..255; unbind of a device never bound is ignored.
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

#include "iommu/interrupts.h"
#include "os/io_page_request.h"
#include "os/kernel.h"
#include "os/spin_lock.h"
#include "os/sva_invalidation_stats.h"
#include "os/sva_notifier.h"
#include "os/sva_policy_name.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/payload_pool.h"
#include "sc_models/observe/stats.h"
#include "sc_models/pcie/ats_encoding.h"

namespace iosim {

class SvaNotifier;

struct SvaConfig {
  // Range-to-command policy of the architecture's driver (os/sva_policy_name.h).
  SvaPolicyName policy = SvaPolicyName::kAuto;
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
    v.choice("policy", policy, kSvaPolicy,
             "range-to-command invalidation policy of the architecture's driver");
    v.choice("notifier", notifier, kSvaNotifier, "MMU-notifier ops the driver registers");
    v("intel_batch_descriptors", intel_batch_descriptors, "descriptors",
      "intel: descriptors per batch before an inv_wait");
    v("intel_max_address_mask", intel_max_address_mask, "",
      "intel: largest page-selective address mask (CAP.MAMV); larger ranges flush the PASID");
    v("intel_dtlb_extra_inval", intel_dtlb_extra_inval, "",
      "intel: write every device-TLB invalidation twice per batch (Linux dtlb_extra_inval quirk)");
    v("arm_full_flush_pages", arm_full_flush_pages, "pages",
      "arm, on an SMMU without range invalidation: ranges of at least this many pages invalidate "
      "the whole ASID");
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
  // The IOMMU's tables and queues, allocated and programmed.
  virtual void init() = 0;
  // The device's table entry (after init()), with ATS and PRI as given.
  virtual void attach_device(uint16_t rid, bool ats, bool pri) = 0;
  // A device that translates by itself (a mirror device): attached without ATS and
  // PRI, its requests without PASID pass through (Linux's identity domain).
  virtual void attach_identity(uint16_t rid) = 0;
  // The PASID of `mm` (allocated at its first bind, published as a bound
  // PasidBindingEvent), then set_dev_pasid() for a device not yet bound. Throws
  // std::runtime_error when the device is not attached, init() was not called or no
  // PASID is free.
  uint32_t bind(Mm& mm, uint16_t rid, int cpu);
  // remove_dev_pasid(); after the last device the notifier is unregistered and the
  // PASID freed (lowest free first, so the next bind of any mm may get it), published
  // as an unbound PasidBindingEvent at the time the teardown ends.
  void unbind(Mm& mm, uint16_t rid, int cpu);
  // PASIDs a bind of a new mm could still get.
  uint32_t free_pasids() const;
  // Invalidates `mm`'s PASID in the IOMMU and on every device it is bound to
  // (flush_pasid_on()), then waits. False when `mm` has no PASID.
  bool flush_pasid(Mm& mm);
  // Invalidates every cached translation and table entry, then waits.
  virtual void flush_all() = 0;
  // The notifier's invalidation of [start, end) of `mm` (invalidate_range());
  // `event` is the notifier range's (nullopt: called outside any range). Its latency
  // is sampled in invalidation_latency and in the breakdown
  // (os/sva_invalidation_stats.h), and an InvalidationDoneEvent published, when the
  // commands completed.
  void invalidate(Mm& mm, uint64_t start, uint64_t end,
                  std::optional<MmuNotifierEvent> event = std::nullopt);

  // --- pure ---
  std::optional<uint32_t> pasid_of(const Mm& mm) const;
  Mm* mm_of_pasid(uint32_t pasid) const;
  // Devices bound to the PASID, in bind order.
  std::vector<uint16_t> devices_of(uint32_t pasid) const;
  SvaNotifierMode notifier_mode() const { return mode_; }
  const SvaConfig& config() const { return cfg_; }
  uint64_t failed_waits() const { return failed_waits_.value(); }
  uint64_t retries() const { return retries_.value(); }
  uint64_t wait_timeouts() const { return wait_timeouts_.value(); }
  // Surprise removal (or return) of an attached device: what pci_device_is_present()
  // answers when a driver checks after an ATC invalidation time-out.
  void set_device_present(uint16_t rid, bool present);

  // --- used by the IOPF handler and the notifier ---
  void set_iopf_handler(IopfHandler* h) { iopf_ = h; }
  // mm exit: mm_release() on a bound mm, once.
  void release(Mm& mm);
  // From the IOPF handler's thread on the page request interrupt: acknowledges the
  // interrupt, hands every pending request to `sink` in queue order, frees their
  // slots, and recovers from a queue overflow (sink.discard_partial_groups()).
  // `pending` as read_reg()'s.
  virtual void read_page_requests(PageRequestSink& sink, sc_core::sc_time& pending) = 0;
  // Sends the response `code` for the page request group `last` ends, through the
  // command queue, and waits for it.
  virtual void send_page_response(const IoPageRequest& last, PrgResponseCode code) = 0;
  // No page request is left in the queue (a drain's check).
  virtual bool page_request_queue_empty() = 0;
  uint64_t read_reg(uint64_t off);
  void write_reg(uint64_t off, uint64_t value);
  // The same with deferred time: `pending` (time the caller has executed since its
  // last action others can see) is charged before the access, and the register
  // latency is added to it instead of being waited for.
  uint64_t read_reg(uint64_t off, sc_core::sc_time& pending);
  void write_reg(uint64_t off, uint64_t value, sc_core::sc_time& pending);
  // 4-byte accesses, for IOMMUs whose registers are 32 bits wide (SMMUv3).
  uint32_t read_reg32(uint64_t off);
  void write_reg32(uint64_t off, uint32_t value);
  uint32_t read_reg32(uint64_t off, sc_core::sc_time& pending);
  void write_reg32(uint64_t off, uint32_t value, sc_core::sc_time& pending);
  Kernel& kernel() { return kernel_; }

 protected:
  // The PASID space of every driver here: 1..kPasids - 1 (0 is the device's requests
  // without PASID).
  static constexpr uint32_t kPasids = 256;

  struct DeviceState {
    bool ats = false;
    bool pri = false;
    bool present = true;  // what pci_device_is_present() would answer
  };
  struct Binding {
    Mm* mm = nullptr;
    uint32_t pasid = 0;
    std::vector<uint16_t> rids;
    SvaNotifier* notifier = nullptr;
    bool released = false;
  };
  enum class WaitResult {
    kDone,        // the status was written
    kAtcTimeout,  // failed: an ATC invalidation timed out
    kRejected,    // failed: a command was rejected
    kAbandoned,   // sva.wait_timeout_ns passed
  };
  struct InvalidationResult {
    bool completed = false;   // every wait completed (or the policy went on regardless)
    bool full_flush = false;  // the whole PASID was invalidated
  };

  // --- hooks of the architecture, called from a SystemC thread ---
  // bind(): points `rid`'s entry for `pasid` at `mm`'s page tables and invalidates
  // what the IOMMU cached of it, with a wait (Linux's set_dev_pasid).
  virtual void set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) = 0;
  // unbind(): tears down `rid`'s entry for `pasid` and flushes what the IOMMU and the
  // device cached of it, page requests included (Linux's remove_dev_pasid). The
  // binding still lists `rid`.
  virtual void remove_dev_pasid(uint16_t rid, uint32_t pasid) = 0;
  // release(): clears `pasid`'s entry on every device of `rids` and flushes it; the
  // binding stays until unbind (Linux's mm release op).
  virtual void mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) = 0;
  // flush_pasid(): invalidates `pasid` in the IOMMU and on the ATS devices of `rids`,
  // then waits.
  virtual void flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) = 0;
  // invalidate(): builds the commands for [start, end) of `pasid` on `rids` and
  // submits them, waiting for each batch.
  virtual InvalidationResult invalidate_range(uint32_t pasid, const std::vector<uint16_t>& rids,
                                              uint64_t start, uint64_t end) = 0;
  // spin_for_status(): a fault interrupt came during the wait. Reads (and
  // acknowledges) the IOMMU's error state and says whether the wait failed; nullopt:
  // keep waiting.
  virtual std::optional<WaitResult> wait_fault() = 0;

  // --- for the architecture ---
  // Spins until the 32-bit word at `status_addr` holds `data`, polling from
  // sc_time_stamp() + pending (the doorbell's register latency), with fault
  // interrupts judged by wait_fault(). Call with the queue lock held.
  WaitResult spin_for_status(uint64_t status_addr, uint32_t data, const sc_core::sc_time& pending);
  // The current wait's status word holds its value.
  bool status_written() const { return read_status() == spin_data_; }
  uint64_t alloc_frame(const char* what);
  uint64_t alloc_frames(unsigned n, const char* what);  // contiguous
  // The device's bookkeeping, created at its first attach.
  DeviceState& device_state(uint16_t rid) { return devices_[rid]; }
  const std::map<uint16_t, DeviceState>& devices() const { return devices_; }
  const std::map<uint32_t, Binding>& bindings() const { return bindings_; }  // by PASID
  // The devices of `rids` with ATS (an unknown device counts as one).
  std::vector<uint16_t> ats_rids(const std::vector<uint16_t>& rids) const;
  IopfHandler* iopf() const { return iopf_; }

 private:
  // A `len`-byte (8 or 4) access; `value` holds the data in its low bytes.
  void reg_access(tlm::tlm_command cmd, uint64_t off, uint64_t& value, sc_core::sc_time& pending,
                  unsigned len = 8);
  void on_wait_irq();
  void on_fault_irq();
  void on_timeout();
  uint32_t read_status() const;
  Binding* binding_of(const Mm& mm);
  const Binding* binding_of(const Mm& mm) const;
  // First status poll at or after `now` of a spin that started at `start`.
  sc_core::sc_time poll_seen(const sc_core::sc_time& start, const sc_core::sc_time& now) const;

  // The interrupt lines the methods are sensitive to, found through `irq` once it is
  // bound (at the end of elaboration).
  sc_core::sc_event_finder_t<IommuInterrupts> completion_line_, fault_line_;
  SvaConfig cfg_;
  Kernel& kernel_;
  SvaNotifierMode mode_;
  GroundTruth* gt_ = nullptr;
  IopfHandler* iopf_ = nullptr;
  sc_core::sc_event irq_;  // IOMMU completion or fault event seen
  bool fault_pending_ = false;
  bool spinning_ = false;                                   // spin_for_status is polling
  uint64_t spin_addr_ = 0;                                  // its status word
  uint32_t spin_data_ = 0;                                  // the value it waits for
  sc_core::sc_time spin_deadline_ = sc_core::SC_ZERO_TIME;  // its wait_timeout_ns deadline
  // Wakes the poller at its deadline. Never cancelled: a cancelled timed notification
  // stays in the kernel's queue until its time, so cancelling one per wait would
  // grow that queue by one entry per invalidation; a stale firing re-arms instead.
  sc_core::sc_event timeout_ev_;
  sc_core::sc_time spin_start_ = sc_core::SC_ZERO_TIME;  // its first poll

  std::map<uint16_t, DeviceState> devices_;
  std::map<uint32_t, Binding> bindings_;  // by PASID
  std::vector<std::unique_ptr<SvaNotifier>> notifiers_;
  PayloadPool payloads_;  // register access payloads

 protected:
  // Declared after cfg_: the lock is made from a validated configuration.
  SpinLock queue_lock_;  // serialises the command queue
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

 private:
  SvaInvalidationStats breakdown_;  // invalidation_latency by event and range size
};

}  // namespace iosim

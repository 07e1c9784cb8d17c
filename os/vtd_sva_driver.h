// VtdSvaDriver: the SVA driver of the VT-d front-end (iommu.arch = vtd), what VT-d
// adds to SvaDriver (os/sva_driver.h). It sees the IOMMU as software does
// (iommu/vtd/sw_interface.h): the VT-d registers, and tables and queues in simulated
// memory.
//   - init(): root table, command queue, page request queue and a status frame for
//     inv_wait status writes; RTADDR, IQA and PQA written over TLM;
//   - attach_device(): the device's context entry and a flat PASID table;
//   - bind(): the PASID entry (first-level root = the mm's PML4) in the device's
//     table and a PASID-cache invalidation;
//   - invalidate(): the policy (os/sva_policy.h) turns the range into descriptors; each
//     batch (descriptors up to an inv_wait) is written, the tail register rung, and the
//     caller spins on the wait's status word. The queue lock serialises the queue, so
//     this is legal under a page-table lock. Failures: see submit_and_wait();
//   - unbind(): the teardown of Linux's remove_dev_pasid (intel_pasid_tear_down_entry,
//     then intel_drain_pasid_prq), in this order: clear the device's PASID entry;
//     PASID-cache, PASID-selective IOTLB and device-TLB invalidations with one wait;
//     drain the page requests of the PASID (IopfHandler: the queue is empty and the
//     handler idle; the device's Stop Marker is its own) and flush the IOTLB and device
//     TLB again, for translations fetched while they were answered; then SvaDriver
//     frees the PASID with the last device. sva.unbind_skip_atc_flush leaves out the
//     device-TLB invalidations: a fault knob that shows the hazard of a device keeping
//     translations of a PASID handed to another process;
//   - flush_pasid() / flush_all(): explicit flushes of the command set (a PASID, or
//     everything), each with its wait;
//   - release() (mm exit) clears every PASID entry of the mm, as Linux's op;
//   - page requests (for the IOPF handler): PRS, PQH and PQT over TLM, 32-byte page
//     request descriptors from memory, Page Group Responses through the command queue.
//
// Timing: table and descriptor writes go through the memory backdoor (memory is
// sequentially consistent) and cost table_write_ns / descriptor_write_ns. Costs no
// other process can observe are charged in one wait before the next visible action
// (the queue lock and a batch's descriptor writes with the doorbell, the doorbell's
// latency with the polling), at the same simulated times as charging each on its own.
//
// Simplifications: flat PASID tables of 256 entries (PASIDs 1..255); domain ID =
// PASID; one status word for every wait (the queue is serialised); no interrupt
// remapping.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "iommu/vtd/sw_interface.h"
#include "os/sva_driver.h"
#include "os/sva_policy.h"

namespace iosim {

class VtdSvaDriver : public SvaDriver {
 public:
  VtdSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel);
  ~VtdSvaDriver() override;

  void init() override;
  // Writes the device's context entry (its PASID table allocated at the first attach)
  // and invalidates the context cache.
  void attach_device(uint16_t rid, bool ats, bool pri) override;
  // The RID_PASID entry with PGTT = pass-through.
  void attach_identity(uint16_t rid) override;
  // Global PASID-cache and IOTLB invalidations (Linux's flush_context/flush_iotlb with
  // DMA_CCMD/DMA_TLB_GLOBAL_FLUSH) and a whole-space device-TLB invalidation of every
  // bound PASID on each ATS device, then the wait.
  void flush_all() override;

  // Writes the descriptors (a wait is appended when the list does not end with one),
  // rings the tail per batch and spins on each wait. False when a wait failed.
  // A failed wait is seen through the fault event and FSTS (Linux qi_check_fault). After
  // an ATC invalidation time-out (FSTS.ITE) the batch is written again while its
  // devices are present (qi_submit_sync's restart, unbounded as in Linux); the driver
  // gives up when one is gone (-ETIMEDOUT; the presence check covers every device of
  // the batch, as the IOMMU has no ITESID register). A rejected descriptor (FSTS.IQE)
  // fails the wait. A wait neither completed nor failed within wait_timeout_ns (0:
  // never; Linux VT-d has no software limit) is abandoned. Counters: retries (written
  // again), failed_waits (given up), wait_timeouts (abandoned). invalidate() publishes
  // its InvalidationDoneEvent only when this returns true.
  bool submit_and_wait(const std::vector<Desc128>& descs);

  // Page requests (intel/prq.c prq_event_thread): clears PRS.PPR, reads PQT and PQH,
  // the descriptors up to the tail, writes PQH; after an overflow (PRS.PRO) with the
  // queue empty, discards the partial groups and clears PRO.
  void read_page_requests(PageRequestSink& sink, sc_core::sc_time& pending) override;
  // A Page Group Response descriptor (intel_page_response), with its wait.
  void send_page_response(const IoPageRequest& last, PrgResponseCode code) override;
  // PQH == PQT.
  bool page_request_queue_empty() override;

  // --- pure ---
  // The policy's descriptors for [start, end) of `pasid` on `rids`.
  std::vector<Desc128> build_commands(uint32_t pasid, const std::vector<uint16_t>& rids,
                                      uint64_t start, uint64_t end) const;
  uint64_t status_address() const { return status_addr_; }
  uint64_t command_queue_base() const { return cq_base_; }
  uint64_t page_request_queue_base() const { return pq_base_; }
  uint64_t pasid_table_of(uint16_t rid) const;

 protected:
  void set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) override;
  void remove_dev_pasid(uint16_t rid, uint32_t pasid) override;
  void mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  void flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  InvalidationResult invalidate_range(uint32_t pasid, const std::vector<uint16_t>& rids,
                                      uint64_t start, uint64_t end) override;
  // qi_check_fault(): FSTS.ITE or FSTS.IQE cleared; the wait failed when it was
  // processed (IQH reached the tail) without its status write.
  std::optional<WaitResult> wait_fault() override;

 private:
  void write_entry(uint64_t addr, const Desc128& d);
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

  std::unique_ptr<SvaPolicy> policy_;
  uint64_t root_table_ = 0, cq_base_ = 0, pq_base_ = 0, status_addr_ = 0;
  uint64_t cq_bytes_ = 0, cq_tail_ = 0, cq_head_cache_ = 0;
  uint32_t next_status_ = 1;
  uint64_t wait_errors_ = 0;                    // FSTS error bits seen during the running wait
  std::map<uint8_t, uint64_t> context_tables_;  // bus -> context table
  std::map<uint16_t, uint64_t> pasid_tables_;   // rid -> PASID table
  std::vector<Desc128> response_;               // the Page Group Response being submitted
};

}  // namespace iosim

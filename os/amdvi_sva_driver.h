// AmdviSvaDriver: the SVA driver of the AMD-Vi front-end (iommu/amdvi/), what AMD-Vi
// adds to SvaDriver (os/sva_driver.h). It sees the IOMMU as software does
// (iommu/amdvi/sw_interface.h): 64-bit registers, and tables, buffers and logs in
// simulated memory. Two policies, one class (AmdviSvaPolicy):
//   - amd: Linux 6.10 drivers/iommu/amd (iommu.c, pasid.c, ppr.c): a GCR3 table and a
//     DomainID per device (setup_gcr3_table), the mm's PGD in the GCR3 entry of its PASID
//     (amd_iommu_set_gcr3), and the MMU notifier's arch_invalidate_secondary_tlbs
//     (sva_arch_invalidate_secondary_tlbs) flushing each bound device with
//     amd_iommu_dev_flush_pasid_pages: INVALIDATE_IOMMU_PAGES (DomainID, PASID, GN, PDE,
//     build_inv_address's S-bit block, the whole space beyond bit 51), with ATS
//     INVALIDATE_IOTLB_PAGES of the same block, then one COMPLETION_WAIT per device;
//   - amd_legacy: Linux 6.6 drivers/iommu/amd/iommu_v2.c (removed in 6.7):
//     mn_invalidate_range flushes one page ((start ^ (end - 1)) < PAGE_SIZE) or else the
//     whole PASID, each with __flush_pasid: INVALIDATE_IOMMU_PAGES + COMPLETION_WAIT, then
//     INVALIDATE_IOTLB_PAGES per ATS device + COMPLETION_WAIT (two waits per device).
// Steps in the .cpp name the kernel function they follow.
//   - init(): early_enable_iommu: Control cleared, device table (65536 DTEs, Linux's
//     MAX_DEV_TABLE_ENTRIES), command buffer and event log of 512 entries with head and
//     tail zeroed, InvTimeout 1 s, GTEn, IommuEn; INVALIDATE_IOMMU_ALL + COMPLETION_WAIT
//     (amd_iommu_flush_all_caches with EFR.IASup); then the PPR log (512 entries,
//     amd_iommu_enable_ppr_log: PPREn, PPRIntEn, PPRLogEn);
//   - commands: each is written and the tail register rung (copy_cmd_to_buffer); the wait
//     is a COMPLETION_WAIT storing a 64-bit sequence number (cmd_sem_val) at the
//     semaphore, polled in memory (wait_on_sem) with spin_for_status on its low 32 bits;
//     the model also sets the wait's I bit with Control.ComWaitIntEn, only so that the
//     simulated poller is woken at the store (as the VT-d driver model's inv_wait IF);
//   - an ATS invalidation time-out: the IOMMU logs IOTLB_INV_TIMEOUT and completes the
//     wait; the driver neither retries nor reads the event log (wait_fault() ignores the
//     fault interrupt). A wait that can never complete (Status.CmdBufRun = 0 after an
//     ILLEGAL_COMMAND_ERROR) fails as wait_on_sem's LOOP_TIMEOUT would;
//   - page requests: amd_iommu_int_thread / amd_iommu_poll_ppr_log (Status PPRInt
//     cleared, the entries between head and tail, each cleared, the head written after
//     each); after PPROverflow the partial groups are discarded and the log restarted
//     (amd_iommu_restart_ppr_log); answers are COMPLETE_PPR_REQUEST without a wait
//     (amd_iommu_complete_ppr queues it; a later wait orders it).
//
// Timing: table, log and command writes go through the memory backdoor and cost
// table_write_ns / descriptor_write_ns; the queue lock is held for each submission and
// its wait. Simplifications: GCR3 tables of one level (GLX 0: 512 PASIDs; the driver's
// PASIDs are 1..255, get_gcr3_levels); devices are attached with Mode = 0 (Linux's
// identity domain with a GCR3 table: requests without PASID pass through); MaxPend is
// written 0; the PRG response Status uses the PCIe codes (iommu_v2's PPR_* values;
// Linux 6.10 writes IOMMU_PAGE_RESP_FAILURE, 2, for a failure); events are not read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "iommu/amdvi/sw_interface.h"
#include "os/sva_driver.h"

namespace iosim {

enum class AmdviSvaPolicy : uint8_t {
  kAmd,        // Linux 6.10 amd_iommu SVA (pasid.c)
  kAmdLegacy,  // Linux <= 6.6 amd_iommu_v2
};

class AmdviSvaDriver : public SvaDriver {
 public:
  // Ring sizes (Linux CMD_BUFFER_ENTRIES, EVT_BUFFER_SIZE, PPR_LOG_ENTRIES): 2^9.
  static constexpr unsigned kCmdBufLen = 9;
  static constexpr unsigned kEventLogLen = 9;
  static constexpr unsigned kPprLogLen = 9;
  static constexpr uint32_t kDeviceIds = 65536;

  // The policy from cfg.policy: auto -> amd, amd_legacy -> amd_legacy; another
  // architecture's policy throws ParamError.
  AmdviSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel);
  AmdviSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel,
                 AmdviSvaPolicy policy);
  ~AmdviSvaDriver() override;
  static AmdviSvaPolicy policy_of(SvaPolicyName name);

  void init() override;
  // The device's GCR3 table and DomainID (setup_gcr3_table) and its DTE (set_dte_entry:
  // V, TV, Mode 0, IR, IW, GV, GLX, the GCR3 root, I with ATS, PPR with PRI), then
  // INVALIDATE_DEVTAB_ENTRY, with ATS a whole-space INVALIDATE_IOTLB_PAGES, and a
  // COMPLETION_WAIT (amd_iommu_dev_update_dte).
  void attach_device(uint16_t rid, bool ats, bool pri) override;
  // A pass-through DTE (V, TV, Mode 0, IR, IW), INVALIDATE_DEVTAB_ENTRY + COMPLETION_WAIT.
  void attach_identity(uint16_t rid) override;
  // INVALIDATE_IOMMU_ALL + COMPLETION_WAIT (amd_iommu_flush_all_caches), then a
  // whole-space INVALIDATE_IOTLB_PAGES of every bound PASID on each ATS device and a
  // COMPLETION_WAIT.
  void flush_all() override;

  // Writes `cmds` (the tail rung after each) and, when `wait`, a COMPLETION_WAIT, then
  // waits for it. False when the wait failed. Takes the queue lock.
  bool submit(const std::vector<amdvi::CmdWords>& cmds, bool wait = true);

  void read_page_requests(PageRequestSink& sink, sc_core::sc_time& pending) override;
  // COMPLETE_PPR_REQUEST (Status: Success 0, Invalid Request 1, Response Failure 0xF).
  void send_page_response(const IoPageRequest& last, PrgResponseCode code) override;
  bool page_request_queue_empty() override;

  // --- pure ---
  AmdviSvaPolicy policy() const { return policy_; }
  uint64_t device_table_base() const { return dev_table_; }
  uint64_t command_buffer_base() const { return cmd_buf_; }
  uint64_t command_tail() const { return cmd_tail_; }  // the driver's tail (byte offset)
  uint64_t event_log_base() const { return event_log_; }
  uint64_t ppr_log_base() const { return ppr_log_; }
  uint64_t semaphore_address() const { return sem_addr_; }
  uint64_t gcr3_table_of(uint16_t rid) const;
  std::optional<uint16_t> domain_id_of(uint16_t rid) const;
  // The commands the policy writes for [start, end) of `pasid` on `rid`, waits included.
  std::vector<amdvi::Command> range_commands(uint16_t rid, uint32_t pasid, uint64_t start,
                                             uint64_t end) const;

 protected:
  void set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) override;
  void remove_dev_pasid(uint16_t rid, uint32_t pasid) override;
  void mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  void flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  InvalidationResult invalidate_range(uint32_t pasid, const std::vector<uint16_t>& rids,
                                      uint64_t start, uint64_t end) override;
  std::optional<WaitResult> wait_fault() override;

 private:
  void write_control(uint64_t bits, bool on);
  // Writes the GCR3 entry of `pasid` (0: cleared) and flushes the PASID on the device.
  void update_gcr3(uint16_t rid, uint32_t pasid, uint64_t cr3);
  // amd_iommu_dev_flush_pasid_all / __amd_iommu_flush_tlb: the PASID on one device.
  bool flush_pasid_dev(uint16_t rid, uint32_t pasid, bool atc = true);
  // The commands of one (address, S) flush of `pasid` on `rid`, per the policy, with
  // COMPLETION_WAIT placeholders where the policy waits.
  std::vector<amdvi::Command> flush_commands(uint16_t rid, uint32_t pasid, amdvi::InvAddress a,
                                             bool atc) const;
  // Submits a command list holding COMPLETION_WAIT placeholders: each wait ends a batch.
  bool run(const std::vector<amdvi::Command>& cmds);
  void write_dte(uint16_t rid, const amdvi::Dte& d);
  uint16_t domain_id(uint16_t rid) const;
  void put_command(const amdvi::CmdWords& w, sc_core::sc_time& pending);
  void wait_for_space(sc_core::sc_time& pending);
  bool completion_wait(sc_core::sc_time& pending);

  AmdviSvaPolicy policy_;
  uint64_t dev_table_ = 0, cmd_buf_ = 0, event_log_ = 0, ppr_log_ = 0, sem_addr_ = 0;
  uint64_t cmd_bytes_ = 0, ppr_bytes_ = 0;
  uint64_t cmd_tail_ = 0, cmd_head_cache_ = 0;
  uint64_t sem_val_ = 0;                      // cmd_sem_val
  uint64_t control_ = 0;                      // the driver's copy of Control
  std::map<uint16_t, uint64_t> gcr3_tables_;  // rid -> GCR3 table
  std::map<uint16_t, uint16_t> domain_ids_;   // rid -> DomainID (gcr3_info.domid)
};

}  // namespace iosim

// Smmuv3SvaDriver: the SVA driver of the SMMUv3 front-end (iommu.arch = smmuv3), what
// the Arm SMMUv3 adds to SvaDriver (os/sva_driver.h). It follows the structure of Linux
// 6.12 drivers/iommu/arm/arm-smmu-v3 (after the 6.10 rework: one SVA domain with its
// own ASID per mm, arm_smmu_sva_domain_alloc; CDs and STEs written by the entry writer,
// arm_smmu_write_entry; arm_smmu_mm_arch_invalidate_secondary_tlbs). Each step in the
// .cpp names the kernel function it follows. It sees the SMMU as software does
// (iommu/smmuv3/sw_interface.h): registers, and tables and queues in simulated memory.
//   - init(): arm_smmu_device_hw_probe (IDR0, IDR1, IDR3.RIL) and arm_smmu_device_reset:
//     a 2-level stream table (Linux uses one when IDR0.ST_LEVEL allows it and SIDSIZE >
//     STRTAB_SPLIT = 8, as the model's SMMU reports: one level-2 table of 256 STEs per
//     PCI bus, made at the first attach), else a linear one; CMDQ (256 << QS commands),
//     EVENTQ (128 records), PRIQ (128 << PQS entries); CR0 enables with CR0ACK polling;
//     IRQ_CTRL with the gerror, event and PRI interrupts; CFGI_ALL and TLBI_NSNH_ALL.
//   - CMD_SYNC completion is MSI-polled as with Linux's ARM_SMMU_OPT_MSIPOLL: the sync's
//     MSIAddress is its own queue slot, MSIData 0, and the caller spins until the slot's
//     first 32-bit word reads 0 (__arm_smmu_cmdq_poll_until_msi) with spin_for_status.
//   - commands go in submissions of at most CMDQ_BATCH_ENTRIES (64); PROD is rung after
//     each, and only the last of an operation carries a CMD_SYNC (arm_smmu_cmdq_batch_*).
//   - a CMDQ error (GERROR.CMDQ_ERR) seen during a wait is handled as
//     arm_smmu_cmdq_skip_err: CERROR_ILL replaces the command with a CMD_SYNC,
//     CERROR_ATC_INV_SYNC leaves it (the CMD_SYNC runs again: counted in retries),
//     CERROR_ABT fetches again; then GERRORN acknowledges the errors.
//   - page requests: arm_smmu_priq_thread's loop over PRIQ_PROD/CONS, each entry handed
//     to the IOPF handler; answers are CMD_PRI_RESP without a CMD_SYNC, as
//     arm_smmu_page_response ("PRI_RESP is fire and forget").
//
// Linux's SMMUv3 driver does not enable PRI (arm_smmu_handle_ppr denies every request);
// here PRI queue entries go to the IOPF handler (io-pgfault.c) like the VT-d driver's.
//
// Timing: table and command writes go through the memory backdoor and cost
// table_write_ns (per entry-writer step) and descriptor_write_ns (per command); the
// queue lock is held for a whole operation, waits included (Linux's lock-free
// cmdq is not modelled). Simplifications: flat CD tables of 256 CDs (S1CDMax = 8,
// linear as Linux for <= 1024 SSIDs); an attached device gets its CD-table STE
// (S1DSS = terminate, Linux's blocked RID domain with PASIDs in use) at attach, not
// at its first PASID; the quiet CD of mm release keeps T0SZ = 16 / TG0 = 4 KiB (the
// only geometry the model's SMMU accepts); events are not read (the event queue may
// overflow); a CMDQ error raised while no wait is running is seen by the next wait
// only if the SMMU raises the fault interrupt again; no MSIs for the other interrupts.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "iommu/smmuv3/sw_interface.h"
#include "os/sva_driver.h"

namespace iosim {

class Smmuv3SvaDriver : public SvaDriver {
 public:
  // Linux CMDQ_BATCH_ENTRIES (arm-smmu-v3.h): BITS_PER_LONG on 64-bit kernels.
  static constexpr size_t kBatchEntries = 64;
  // Linux STRTAB_SPLIT: StreamID bits per level-2 stream table.
  static constexpr unsigned kStrtabSplit = 8;
  // CDs per device: the driver's PASIDs (S1CDMax = 8).
  static constexpr unsigned kCdTableLog2 = 8;
  // Event queue: 128 32-byte records (one frame).
  static constexpr unsigned kEventqLog2 = 7;

  Smmuv3SvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel);
  ~Smmuv3SvaDriver() override;

  void init() override;
  // The device's CD table and its STE (stage-1 translate, EATS when `ats`), written
  // as arm_smmu_write_ste does; with ATS, the device's ATC is flushed first
  // (arm_smmu_enable_ats).
  void attach_device(uint16_t rid, bool ats, bool pri) override;
  // A bypass STE (Linux's identity domain, arm_smmu_make_bypass_ste).
  void attach_identity(uint16_t rid) override;
  // CFGI_ALL and TLBI_NSNH_ALL, each with a CMD_SYNC (as arm_smmu_device_reset), then a
  // whole-space ATC_INV of every bound PASID on each ATS device and a CMD_SYNC.
  void flush_all() override;

  // Writes `cmds` in submissions of kBatchEntries commands (PROD rung after each) and,
  // when `sync`, a CMD_SYNC after the last one, then waits for it
  // (arm_smmu_cmdq_issue_cmdlist). False when the wait was abandoned
  // (sva.wait_timeout_ns). Takes the queue lock.
  bool submit(const std::vector<smmuv3::CmdWords>& cmds, bool sync = true);

  // arm_smmu_priq_thread: the entries between PRIQ_CONS and PRIQ_PROD (CONS written
  // after each, PROD read again until the queue is empty); after an overflow
  // (PROD.OVFLG != CONS.OVACKFLG) the partial groups are discarded and OVACKFLG set.
  void read_page_requests(PageRequestSink& sink, sc_core::sc_time& pending) override;
  // CMD_PRI_RESP (Success, Invalid Request -> Deny, Response Failure -> Fail), no sync.
  void send_page_response(const IoPageRequest& last, PrgResponseCode code) override;
  // PRIQ_PROD == PRIQ_CONS.
  bool page_request_queue_empty() override;

  // --- pure ---
  bool range_invalidation() const { return ril_; }  // IDR3.RIL read at init
  bool two_level_stream_table() const { return two_level_; }
  uint64_t command_queue_base() const { return cmdq_base_; }
  unsigned command_queue_log2() const { return cmdq_log2_; }
  uint32_t command_queue_prod() const { return prod_; }  // the driver's PROD
  uint64_t event_queue_base() const { return eventq_base_; }
  uint64_t pri_queue_base() const { return priq_base_; }
  // Address of `sid`'s STE (0 when its level-2 table does not exist).
  uint64_t ste_address(uint16_t sid) const;
  // Address of CD `ssid` of the device's CD table (0 when not attached).
  uint64_t cd_address(uint16_t rid, uint32_t ssid) const;
  std::optional<uint16_t> asid_of(uint32_t pasid) const;
  uint64_t skipped_commands() const { return skipped_commands_.value(); }

 protected:
  void set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) override;
  void remove_dev_pasid(uint16_t rid, uint32_t pasid) override;
  void mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  void flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  InvalidationResult invalidate_range(uint32_t pasid, const std::vector<uint16_t>& rids,
                                      uint64_t start, uint64_t end) override;
  // arm_smmu_gerror_handler: reads GERROR and GERRORN; CMDQ_ERR is handled as
  // arm_smmu_cmdq_skip_err; the active errors are acknowledged. Never fails the wait:
  // the CMD_SYNC is repeated until it completes (or sva.wait_timeout_ns).
  std::optional<WaitResult> wait_fault() override;

 private:
  using Words8 = std::array<uint64_t, 8>;

  // arm_smmu_write_reg_sync: writes `value`, polls `ack_off` until it reads the same.
  void write_reg_sync(uint64_t off, uint64_t ack_off, uint32_t value);
  void init_stream_table(uint32_t idr0, unsigned sid_bits);
  // arm_smmu_init_l2_strtab: the level-2 table of `sid`'s bus (abort STEs).
  void ensure_l2_table(uint16_t sid);
  // arm_smmu_write_entry (hitless, one critical qword): when `rest_first` (the old
  // entry ignores qwords 1..7) they are written, synced, then qword 0, synced; else
  // qword 0, synced, then qwords 1..7 when they change, synced. `cfgi` + CMD_SYNC is
  // each sync.
  void write_entry(uint64_t addr, const Words8& target, bool rest_first,
                   const smmuv3::CmdWords& cfgi);
  void write_ste(uint16_t sid, const smmuv3::Ste& ste);
  void write_cd(uint16_t rid, uint32_t ssid, const Words8& cd);
  uint16_t asid(uint32_t pasid) const;
  // One command plus a CMD_SYNC.
  bool submit_one(const smmuv3::Command& c);
  // arm_smmu_atc_inv_domain: one ATC_INV of `span` per ATS device of `rids` (SSID =
  // pasid) and a CMD_SYNC; nothing without an ATS device. True when not needed.
  bool atc_inv_domain(uint32_t pasid, const std::vector<uint16_t>& rids, smmuv3::AtcSpan span);
  // arm_smmu_cmdq_issue_cmdlist for up to kBatchEntries commands (queue lock held).
  bool issue_cmdlist(const smmuv3::CmdWords* cmds, size_t n, bool sync, sc_core::sc_time& pending);
  // arm_smmu_cmdq_poll_until_not_full: reads CMDQ_CONS until `n` slots are free.
  void wait_for_space(uint32_t n, sc_core::sc_time& pending);
  void put_command(const smmuv3::CmdWords& w, sc_core::sc_time& pending);
  // __arm_smmu_cmdq_skip_err.
  void skip_err();

  bool ril_ = false, two_level_ = false;
  uint64_t strtab_ = 0;  // level-1 table (2-level) or the linear table
  unsigned l1_log2_ = 0;
  std::map<uint8_t, uint64_t> l2_tables_;   // bus -> level-2 stream table
  std::map<uint16_t, uint64_t> cd_tables_;  // rid -> CD table
  std::map<uint32_t, uint16_t> asids_;      // PASID (the mm's SVA domain) -> ASID
  uint64_t cmdq_base_ = 0, eventq_base_ = 0, priq_base_ = 0;
  unsigned cmdq_log2_ = 0, priq_log2_ = 0;
  uint32_t prod_ = 0, cons_cache_ = 0;  // CMDQ shadow pointers
  uint32_t priq_cons_ = 0;              // PRIQ_CONS with OVACKFLG
  Counter& skipped_commands_;
};

}  // namespace iosim

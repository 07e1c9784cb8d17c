// RiscvSvaDriver: the SVA driver of the RISC-V IOMMU front-end, what the RISC-V IOMMU
// adds to SvaDriver (os/sva_driver.h). It follows the structure of Linux 6.13
// drivers/iommu/riscv/iommu.c (riscv_iommu_init, riscv_iommu_queue_enable,
// riscv_iommu_iodir_set_mode, riscv_iommu_get_dc, riscv_iommu_iodir_update,
// riscv_iommu_iotlb_inval, riscv_iommu_cmd_sync); mainline has no ATS, PRI or SVA for
// RISC-V, so the PDT, process contexts, ATS.INVAL, the page request queue and ATS.PRGR
// follow the specification (RISC-V IOMMU v1.0, chapter 3 and its software guidelines
// on invalidation ordering) and the shape of the out-of-tree ATS/PRI series (its
// riscv_iommu_ats_inval_payload / riscv_iommu_ats_prgr_payload encodings). Each step in
// the .cpp names what it follows. It sees the IOMMU as software does
// (iommu/riscv/sw_interface.h): registers, and tables and queues in simulated memory.
//   - init(): capabilities (Sv48 required); fctl.WSI when IGS = WSI
//     (riscv_iommu_init_check); the command queue (8192 commands, Linux
//     RISCV_IOMMU_DEF_CQ_COUNT), the fault queue (4096, RISCV_IOMMU_DEF_FQ_COUNT), each
//     enabled with cqen/fqen + interrupt enable, polling xqon (riscv_iommu_queue_enable);
//     the DDT in the deepest mode the IOMMU takes (3LVL first, riscv_iommu_iodir_set_mode),
//     then IODIR.INVAL_DDT, IOTINVAL.VMA and IOFENCE.C; the page request queue
//     (128 << PQS records) when capabilities.ATS.
//   - commands: each is written and cqt rung (riscv_iommu_queue_send rings per
//     command); an IOFENCE.C ends each operation (riscv_iommu_cmd_sync). Linux waits for
//     the fence by polling cqh; here the fence has AV = 1 (DATA = a sequence number into
//     a status word, the spec's own completion write) and WSI = 1 (its interrupt wakes
//     the poller), and the wait acknowledges cqcsr.fence_w_ip and ipsr.cip as Linux's
//     command queue interrupt handler does (riscv_iommu_cmdq_process).
//   - attach_device(): a device context with PDTV = 1 and a PD8 process directory (one
//     page: the 256 PASIDs), DPE = 1 so requests without PASID use process 0, which
//     stays invalid (blocked, as a blocking RID domain), EN_ATS / EN_PRI / PRPR as
//     asked, SADE with AMO_HWAD; written as riscv_iommu_iodir_update: a valid old
//     context is first made invalid (IODIR.INVAL_DDT + IOFENCE.C), then fsc and ta,
//     then tc with V last, IODIR.INVAL_DDT + IOFENCE.C.
//   - set_dev_pasid(): a PSCID per mm (lowest free from 1; Linux allocates one per
//     domain from riscv_iommu_pscids), process context {V, PSCID, iosatp Sv48 = mm's
//     root}, IODIR.INVAL_PDT + IOFENCE.C.
//   - invalidate_range(): riscv_iommu_iotlb_inval: ranges below 2 MiB
//     (RISCV_IOMMU_IOTLB_INVAL_LIMIT) one IOTINVAL.VMA (AV, PSCV) per 4 KiB page, else one
//     IOTINVAL.VMA of the PSCID; IOFENCE.C. Then one ATS.INVAL per ATS device (PID =
//     PASID, the smallest S-bit span covering the range, or the whole space) and an
//     IOFENCE.C: two fences, because the IOMMU may execute fetched commands out of
//     order (3.1) and the IOTLB must be clean before the device's ATC is invalidated
//     (else the device could refill it from stale IOTLB entries).
//   - a command queue error seen during a wait (wait_fault): cmd_to (an ATS.INVAL time-
//     out) is cleared, so the IOFENCE.C runs again (counted in retries); cmd_ill replaces
//     the command at cqh with a plain IOFENCE.C (as SMMUv3's driver skips a CERROR_ILL;
//     Linux clears the bit only); cqmf is cleared. The spec leaves the recovery to
//     software (5.15: "software should clear this bit by writing 1").
//   - page requests: the records between pqh and pqt go to the IOPF handler; pqof is
//     acknowledged after the queue is empty and the partial groups discarded; answers
//     are ATS.PRGR without a fence (a posted message, as SMMUv3's PRI_RESP).
//
// Timing: table and command writes go through the memory backdoor and cost
// table_write_ns and descriptor_write_ns; the queue lock is held for a whole operation.
// Simplifications: PD8 only (PASIDs 0..255); no MSI interrupts; fault records are not
// read (the fault queue may overflow); mm release points each process context at an
// empty first-stage root (page faults, not PDT faults, as SMMUv3's quiet CD).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "iommu/riscv/sw_interface.h"
#include "os/sva_driver.h"

namespace iosim {

class RiscvSvaDriver : public SvaDriver {
 public:
  static constexpr unsigned kCqLog2 = 13;  // Linux RISCV_IOMMU_DEF_CQ_COUNT 8192
  static constexpr unsigned kFqLog2 = 12;  // Linux RISCV_IOMMU_DEF_FQ_COUNT 4096
  // Linux RISCV_IOMMU_IOTLB_INVAL_LIMIT: ranges of at least 2 MiB invalidate the PSCID.
  static constexpr uint64_t kIotlbInvalLimit = uint64_t{2} << 20;

  RiscvSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel);
  ~RiscvSvaDriver() override;

  void init() override;
  void attach_device(uint16_t rid, bool ats, bool pri) override;
  // A device context with a Bare iosatp (Linux's identity domain).
  void attach_identity(uint16_t rid) override;
  // IODIR.INVAL_DDT (all) and IOTINVAL.VMA (all) + IOFENCE.C, then a whole-space
  // ATS.INVAL of every bound PASID on each ATS device + IOFENCE.C.
  void flush_all() override;

  // Writes `cmds` (ringing cqt after each) and, when `fence`, an IOFENCE.C, then waits
  // for it. False when the wait was abandoned. Takes the queue lock.
  bool submit(const std::vector<riscv::Command>& cmds, bool fence = true);
  // The same with commands already encoded (a test can submit an illegal one).
  bool submit_words(const std::vector<riscv::CmdWords>& cmds, bool fence = true);

  void read_page_requests(PageRequestSink& sink, sc_core::sc_time& pending) override;
  // ATS.PRGR with the PCIe response code, no fence.
  void send_page_response(const IoPageRequest& last, PrgResponseCode code) override;
  bool page_request_queue_empty() override;

  // --- pure ---
  riscv::IommuMode ddt_mode() const { return mode_; }
  uint64_t command_queue_base() const { return cq_base_; }
  uint32_t command_queue_tail() const { return cqt_; }  // the driver's cqt
  uint64_t page_request_queue_base() const { return pq_base_; }
  unsigned page_request_queue_log2() const { return pq_log2_; }
  // Address of `rid`'s device context (0 when its tables do not exist).
  uint64_t dc_address(uint16_t rid) const;
  // Address of `rid`'s process context `pasid` (0 when not attached).
  uint64_t pc_address(uint16_t rid, uint32_t pasid) const;
  std::optional<uint32_t> pscid_of(uint32_t pasid) const;
  uint64_t skipped_commands() const { return skipped_commands_.value(); }

 protected:
  void set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) override;
  void remove_dev_pasid(uint16_t rid, uint32_t pasid) override;
  void mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  void flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) override;
  InvalidationResult invalidate_range(uint32_t pasid, const std::vector<uint16_t>& rids,
                                      uint64_t start, uint64_t end) override;
  // cqcsr errors, handled as described above; never fails the wait.
  std::optional<WaitResult> wait_fault() override;

 private:
  // riscv_iommu_queue_enable: base, pointers, csr, polling xqon.
  void enable_queue(uint64_t base_off, uint64_t ptr_off, uint64_t csr_off, uint64_t addr,
                    unsigned log2);
  // riscv_iommu_get_dc: the context's address, making the non-leaf tables on the way.
  uint64_t make_dc(uint16_t rid);
  // riscv_iommu_iodir_update.
  void iodir_update(uint16_t rid, const riscv::DeviceContext& dc);
  void write_pc(uint16_t rid, uint32_t pasid, const riscv::ProcessContext& pc);
  uint32_t pscid(uint32_t pasid) const;
  // One ATS.INVAL of `range` per ATS device of `rids` and an IOFENCE.C; true when none.
  bool ats_inval(uint32_t pasid, const std::vector<uint16_t>& rids, const AtsRange& range);
  void put_command(const riscv::CmdWords& w, sc_core::sc_time& pending);
  void wait_for_space(sc_core::sc_time& pending);

  uint64_t caps_ = 0;
  riscv::IommuMode mode_ = riscv::IommuMode::kOff;
  uint64_t ddt_root_ = 0;
  std::map<uint16_t, uint64_t> pdts_;    // rid -> PD8 process directory
  std::map<uint32_t, uint32_t> pscids_;  // PASID (the mm) -> PSCID
  uint64_t cq_base_ = 0, fq_base_ = 0, pq_base_ = 0;
  unsigned pq_log2_ = 0;
  uint32_t cqt_ = 0, cqh_cache_ = 0, pqh_ = 0;
  uint64_t status_ = 0;      // the IOFENCE.C status word
  uint32_t fence_seq_ = 0;   // the DATA of the last fence
  uint64_t empty_root_ = 0;  // an empty first-stage root (mm release)
  Counter& skipped_commands_;
};

}  // namespace iosim

// RiscvIommu: the RISC-V IOMMU front-end (RISC-V IOMMU Architecture Specification v1.0)
// on the architecture-neutral core (iommu/iommu.h): first-stage translation of PCIe
// requests through the simulator's x86-64-style page tables (as Sv48, formats.h), with
// ATS, PRI and process IDs (PASIDs).
//
// What it owns: the device and process directory tables and their caches
// (DirectoryTables), the command queue processor (CommandQueue, child `command_queue`),
// the fault queue and the page request queue (OutputQueue, children `fault_queue` and
// `page_request_queue`) and the register interface of sw_interface.h.
//
// Capabilities (5.3): version 1.0, Sv48, AMO_HWAD, ATS, PD8/PD17/PD20, IGS = WSI (wired
// interrupts only: fctl.WSI reads 1), PAS = 56; MSI_FLAT = 0 (base-format device
// contexts), no second stage, no T2GPA, no HPM or debug interface.
//
// Requests: device ID = Requester ID (segment 0). tag_of() resolves the request through
// the tables (DirectoryTables::resolve): tag {pasid: PSCID, domain: device ID} (the IOTLB
// is tagged by PSCID as SMMUv3's is by ASID, so IOTINVAL.VMA with PSCV reaches the
// PSCID in every device), context {iosatp root, ats_allowed = EN_ATS, privileged
// requests allowed = PC.ta.ENS}; a Bare first stage is tagged {kNoPasid, device ID} and
// passes through. Privilege: the x86-style tables' U/S bit decides (SUM is not
// consulted: a privileged request may access user pages); hardware A/D updates happen
// whatever SADE says (the core's walker sets them).
//
// Faults (3.2): report_fault() writes a FaultRecord: a table fault records the cause the
// walk found (256 - 267; the core sees it as kStreamAbort, kTableReadError,
// kContextNotPresent, kBadSte, kPasidDisabled, kPasidNotPresent or kBadCd); a
// first-stage fault a page fault by access (12 execute, 13 read, 15 write) or, for a
// walk read that failed, an access fault (1, 5, 7); a privileged request without ENS or
// a translated request from a Function without ATS "transaction type disallowed" (260).
// TTYP from the request; iotval the IOVA; iotval2 0. faults_recorded counts records
// written. DC.tc.DTF is not consulted.
//
// Page requests (the spec's page-request handling, section 2.8 as its reference model
// cites it, and 3.3): the
// device context decides: ddtp Off or a DDT fault records the fault and answers
// Response Failure; ddtp Bare or EN_PRI = 0 records 260 and answers Invalid Request;
// else the request (or Stop Marker: L = 1, R = W = 0) goes to the page request queue. A
// request lost there is answered when it was the last of its group: Response Failure
// when the queue is off, Success when it is full or pqof is set (so the device retries;
// the spec's choice, not page_request_queue.overflow_response). Those IOMMU-made
// responses carry the PASID when the request had one and PRPR = 1 (always for Response
// Failure). Stop Markers are never answered.
//
// Interrupts (wired, ipsr 5.18): completion_event() is the command queue's IOFENCE.C
// with WSI (cqcsr.fence_w_ip, cip); fault_event() a command queue error (cmd_ill,
// cmd_to, cqmf; cip) or a fault record (fip); page_request_event() a page request
// record or pqof (pip). Each fires when its cause is raised with the queue's interrupt
// enable (cie, fie, pie) set, and sets the ipsr bit (write 1 to clear); icvec holds
// its value only.
//
// Simplifications: no MSI translation or MSI interrupts, no second stage, no debug or
// performance-monitoring registers (they read 0); unknown offsets read 0 and ignore
// writes; the queue base registers may be written at any time.
#pragma once

#include <systemc>

#include <memory>
#include <optional>

#include "iommu/iommu.h"
#include "iommu/riscv/command_queue.h"
#include "iommu/riscv/directory.h"
#include "iommu/riscv/output_queue.h"
#include "iommu/riscv/sw_interface.h"

namespace iosim {

class RiscvIommu : public Iommu {
 public:
  // Registers its statistics (and its queues') in ctx.
  RiscvIommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg);

  // What capabilities reads.
  static uint64_t capabilities();

  // IommuInterrupts
  const sc_core::sc_event& completion_event() const override { return cq_->completion_event(); }
  const sc_core::sc_event& fault_event() const override { return fault_irq_; }
  const sc_core::sc_event& page_request_event() const override { return pq_irq_; }

  const sc_core::sc_module& command_processor() const override { return *cq_; }
  riscv::DirectoryTables& tables() { return tables_; }
  riscv::CommandQueue& command_queue() { return *cq_; }
  riscv::OutputQueue& fault_queue() { return *fq_; }
  riscv::OutputQueue& page_request_queue() { return *pq_; }
  uint32_t ipsr() const { return ipsr_; }

 private:
  // ContextSource
  RequestTag tag_of(uint16_t rid, std::optional<uint32_t> pasid, sc_core::sc_time& delay) override;
  RequestContext resolve(uint16_t rid, std::optional<uint32_t> pasid,
                         sc_core::sc_time& delay) override;

  void report_fault(const IommuFault& f) override;
  void on_page_request(RootPort& port, uint16_t rid, const PageRequest& r,
                       const sc_core::sc_time& delay) override;
  void on_stop_marker(RootPort& port, uint16_t rid, const StopMarker& m,
                      const sc_core::sc_time& delay) override;
  void on_invalidate_completion(RootPort& port, const InvalidateCompletion& c,
                                const sc_core::sc_time& delay) override {
    cq_->on_invalidate_completion(port, c, delay);
  }
  uint64_t read_reg(uint64_t off) const override;
  void write_reg(uint64_t off, uint64_t value, uint64_t mask) override;

  static bool is_64bit(uint64_t off);
  uint64_t read64(uint64_t off) const;
  void write64(uint64_t off, uint64_t v);
  uint32_t read32(uint64_t off) const;
  void write32(uint64_t off, uint32_t v);
  // Sets ipsr bit `ip` and notifies `line` when `enabled`.
  void raise(bool enabled, uint32_t ip, sc_core::sc_event* line);
  void record_fault(const riscv::FaultRecord& r, const sc_core::sc_time& delay);
  // A Page Request or Stop Marker (rec) through the device context to the queue.
  void page_message(RootPort& port, const riscv::PageRequestRecord& rec,
                    const sc_core::sc_time& delay);
  void auto_respond(RootPort& port, const riscv::PageRequestRecord& rec, PrgResponseCode code,
                    bool prpr);

  riscv::DirectoryTables tables_;
  std::unique_ptr<riscv::CommandQueue> cq_;
  std::unique_ptr<riscv::OutputQueue> fq_;
  std::unique_ptr<riscv::OutputQueue> pq_;
  uint32_t ipsr_ = 0;
  uint64_t icvec_ = 0;
  sc_core::sc_event fault_irq_, pq_irq_;

  Counter& faults_recorded_;
  Counter& pri_disabled_;
  Counter& auto_responses_;
};

}  // namespace iosim

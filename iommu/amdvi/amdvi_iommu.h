// AmdviIommu: the AMD-Vi front-end (AMD I/O Virtualization Technology (IOMMU)
// Specification #48882) on the architecture-neutral core (iommu/iommu.h): guest (GCR3)
// translation of PCIe requests with PASIDs through the simulator's x86-64-style page
// tables (AMD's guest tables are x86 long-mode tables), with ATS, PPR and PASIDs.
//
// What it owns: the device table and GCR3 tables with their caches (DeviceTable), the
// command buffer processor (CommandBuffer, child `command_queue`), the event log and the
// PPR log (LogBuffer, children `event_log` and `ppr_log`) and the registers of
// sw_interface.h.
//
// Requests: DeviceID = Requester ID. tag_of() reads the DTE and, for a request with a
// PASID, the GCR3 table (through their caches) and resolves the request: tag {pasid:
// PASID, domain: DTE.DomainID} (the IOTLB is tagged by DomainID + PASID, so an
// INVALIDATE_IOMMU_PAGES of a DomainID and PASID drops the entries of every device of the
// domain), context {guest CR3, ats_allowed = DTE.I, privileged requests allowed: the
// U/S bit of the tables decides}. A pass-through request (IommuEn = 0, DTE V = 0 or
// TV = 0, or no PASID with Mode = 0) is tagged {kNoPasid, DomainID}. PASID requests need
// Control.GTEn (else INVALID_DEVICE_REQUEST).
//
// Events (2.5): report_fault() logs IO_PAGE_FAULT (flags GN, NX, US, PR, RW, PE, RZ, TR),
// PAGE_TAB_HARDWARE_ERROR for a walk read that failed, and the table events DeviceTable
// chose (ILLEGAL_DEV_TABLE_ENTRY, INVALID_DEVICE_REQUEST, DEV_TAB_HARDWARE_ERROR, ...).
// faults_recorded counts event log entries written (command errors and IOTLB_INV_TIMEOUT
// included).
//
// PPR (2.6): Page Requests become PprLogEntries when Control.PPREn and DTE.PPR are set;
// otherwise INVALID_PPR_REQUEST is logged and a last request is answered Invalid Request.
// Stop Markers are logged with L = 1 and R = W = 0. A last request lost to a full or
// stopped PPR log is answered by the IOMMU with page_request_queue.overflow_response (the
// specification leaves the device's answer open; default Success: the device retries).
//
// Interrupts: completion_event() (COMPLETION_WAIT with I = 1 and ComWaitIntEn),
// fault_event() (event log entries or overflow, with EventIntEn), page_request_event()
// (PPR log entries or overflow, with PPRIntEn); Status holds ComWaitInt, EventLogInt,
// PPRInt and the overflow bits (write 1 to clear).
//
// Simplifications: no host (nested) page tables, interrupt remapping, exclusion range,
// MSI registers, GA log, dual logs or performance counters; Control.InvTimeout is stored
// and the ATS time-out is iommu.command_queue.itag_timeout_ns; the PPR check reads the DTE
// through the DTE cache at the request's arrival.
#pragma once

#include <systemc>

#include <memory>
#include <optional>

#include "iommu/amdvi/command_buffer.h"
#include "iommu/amdvi/device_table.h"
#include "iommu/amdvi/log_buffer.h"
#include "iommu/amdvi/sw_interface.h"
#include "iommu/iommu.h"

namespace iosim {

class AmdviIommu : public Iommu {
 public:
  // Registers its statistics (and its logs') in ctx.
  AmdviIommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg);

  // IommuInterrupts
  const sc_core::sc_event& completion_event() const override { return completion_irq_; }
  const sc_core::sc_event& fault_event() const override { return fault_irq_; }
  const sc_core::sc_event& page_request_event() const override { return ppr_irq_; }

  const sc_core::sc_module& command_processor() const override { return *cq_; }
  amdvi::DeviceTable& tables() { return tables_; }
  amdvi::CommandBuffer& command_queue() { return *cq_; }
  amdvi::LogBuffer& event_log() { return *event_log_; }
  amdvi::LogBuffer& ppr_log() { return *ppr_log_; }
  uint64_t status() const;
  // The Extended Feature Register (3.4.5).
  static uint64_t extended_features();

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

  void write_control(uint64_t v);
  void log_event(const amdvi::EventEntry& e, const sc_core::sc_time& delay);
  // The PPR log accepts requests of `rid` (Control.PPREn, DTE.PPR); logs
  // INVALID_PPR_REQUEST and answers a last request otherwise. `delay` is advanced.
  bool ppr_allowed(RootPort& port, uint16_t rid, const PageRequest* r, sc_core::sc_time& delay);
  void respond(RootPort& port, uint16_t rid, const PasidPrefix& pasid, uint16_t prgi,
               PrgResponseCode code);
  void signal(uint64_t control_bit, sc_core::sc_event& line);

  amdvi::DeviceTable tables_;
  std::unique_ptr<amdvi::CommandBuffer> cq_;
  std::unique_ptr<amdvi::LogBuffer> event_log_;
  std::unique_ptr<amdvi::LogBuffer> ppr_log_;

  uint64_t control_ = 0;
  uint64_t status_ = 0;  // the write-1-to-clear bits; the Run bits come from the modules
  sc_core::sc_event completion_irq_, fault_irq_, ppr_irq_;

  Counter& faults_recorded_;
  Counter& pri_disabled_;
  Counter& ppr_refused_;
  Counter& auto_responses_;
};

}  // namespace iosim

// VtdIommu: the Intel VT-d front-end (iommu.arch = vtd) on the architecture-neutral
// core (iommu/iommu.h): scalable-mode first-stage translation of PASID-tagged DMA
// through the CPU's x86-64 page tables.
//
// What it owns: the root/context/PASID tables and their caches (ContextTables), the
// fault recording registers (FaultRecorder), the invalidation queue (CommandQueue),
// the page request queue (PageRequestQueue) and the register interface. Its register
// map, in-memory formats and interrupt lines are in iommu/vtd/sw_interface.h: all
// that software sees of it.
//
// Tags: a request with a PASID is tagged by PASID + Requester ID without reading a
// table; one without a PASID first reads its context entry (cache) for RID_PASID,
// which then tags it, as VT-d scalable mode does. On an IOTLB miss the PASID entry
// gives the first-stage root (FLPTR), SRE and PGTT; the context entry's DTE allows
// Translation Requests.
//
// Simplifications: unknown register offsets read 0 and ignore writes.
#pragma once

#include <systemc>

#include <memory>

#include "iommu/iommu.h"
#include "iommu/vtd/command_queue.h"
#include "iommu/vtd/context_tables.h"
#include "iommu/vtd/fault_recorder.h"
#include "iommu/vtd/page_request_queue.h"
#include "iommu/vtd/sw_interface.h"

namespace iosim {

class VtdIommu : public Iommu {
 public:
  // Registers its statistics (and its command and page request queues') in ctx.
  VtdIommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg);

  // IommuInterrupts
  const sc_core::sc_event& fault_event() const override { return faults_.event(); }
  const sc_core::sc_event& completion_event() const override { return cq_->wait_event(); }
  const sc_core::sc_event& page_request_event() const override { return prq_->event(); }

  const sc_core::sc_module& command_processor() const override { return *cq_; }
  ContextTables& tables() { return tables_; }
  CommandQueue& command_queue() { return *cq_; }
  PageRequestQueue& page_request_queue() { return *prq_; }
  FaultRecorder& faults() { return faults_; }

 private:
  // ContextSource
  RequestTag tag_of(uint16_t rid, std::optional<uint32_t> pasid, sc_core::sc_time& delay) override;
  RequestContext resolve(uint16_t rid, std::optional<uint32_t> pasid,
                         sc_core::sc_time& delay) override;

  void report_fault(const IommuFault& f) override { faults_.record(f); }
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

  ContextTables tables_;
  FaultRecorder faults_;
  std::unique_ptr<CommandQueue> cq_;
  std::unique_ptr<PageRequestQueue> prq_;
};

}  // namespace iosim

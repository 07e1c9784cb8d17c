// Smmuv3: the Arm SMMUv3 front-end (iommu.arch = smmuv3; Arm IHI 0070) on the
// architecture-neutral core (iommu/iommu.h): stage-1 translation of PCIe streams through
// the simulator's x86-64-style page tables, with ATS, PRI and PASIDs (SubstreamIDs).
//
// What it owns: the stream table and CD tables and their caches (StreamTables), the
// command queue processor (CommandQueue, child `command_queue`), the event queue and the
// PRI queue (OutputQueue, children `event_queue` and `pri_queue`) and the register
// interface of sw_interface.h: all that software sees of it.
//
// Requests: StreamID = Requester ID. tag_of() reads the STE and CD (through their caches)
// and resolves the request: tag {pasid: CD.ASID, domain: StreamID}, context {TTB0,
// ats_allowed = STE.EATS, privileged requests allowed}; a bypass stream (STE Config or
// S1DSS = bypass) is tagged {kNoPasid, StreamID} and passes through. Privilege: the
// model's x86-style tables carry a U/S bit, which decides (a non-privileged request needs
// U/S = 1, a privileged one may access every page); there is no AP[1]/PAN reading. With
// CR0.SMMUEN = 0 requests follow GBPA: ABORT = 1 (the reset value here, as Linux's
// default disable_bypass wants) aborts them without an event, else they bypass.
//
// Events (7.3): report_fault() writes an EventRecord to the event queue: F_TRANSLATION
// (not present, reserved bit, address outside the 48-bit input range), F_PERMISSION,
// F_WALK_EABT (a walk read that failed), F_TRANSL_FORBIDDEN (translated request without
// ATS), and the configuration events StreamTables chose (C_BAD_STREAMID only with
// CR2.RECINVSID = 1, 6.3.12). faults_recorded counts events written.
//
// PRI (chapter 8): Page Requests become PriqEntries; Stop Markers are written as entries
// with L = 1, R = W = 0 and SSV = 1, as chapter 8 describes them ("LWR == 0b100"). A lost
// last request (overflow, or PRIQEN = 0) is answered by the SMMU with
// page_request_queue.overflow_response (default Success: the device retries), so the
// Function is not left waiting; lost Stop Markers get no response.
//
// Interrupts: completion_event() (CMD_SYNC), fault_event() (events and GERROR, gated by
// IRQ_CTRL.EVENTQ_IRQEN / GERROR_IRQEN), page_request_event() (IRQ_CTRL.PRIQ_IRQEN).
//
// Simplifications: the *_IRQ_CFG0..2 registers hold their values but the event, PRI and
// GERROR interrupts are the lines above, not MSI writes; CR1 and CR2 other than RECINVSID
// are stored only; no stage 2, stall model, secure state or event merging; CD.R (record)
// is not consulted; unknown offsets read 0 and ignore writes.
#pragma once

#include <systemc>

#include <memory>
#include <optional>
#include <unordered_map>

#include "iommu/iommu.h"
#include "iommu/smmuv3/command_queue.h"
#include "iommu/smmuv3/output_queue.h"
#include "iommu/smmuv3/stream_tables.h"
#include "iommu/smmuv3/sw_interface.h"

namespace iosim {

class Smmuv3 : public Iommu {
 public:
  // Largest event and PRI queues (IDR1.EVENTQS, PRIQS): 2^19 entries, the maximum (6.3.2).
  static constexpr unsigned kMaxQueueLog2 = 19;

  // Registers its statistics (and its queues') in ctx.
  Smmuv3(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg);

  // IommuInterrupts
  const sc_core::sc_event& completion_event() const override { return cq_->completion_event(); }
  const sc_core::sc_event& fault_event() const override { return fault_irq_; }
  const sc_core::sc_event& page_request_event() const override { return priq_irq_; }

  const sc_core::sc_module& command_processor() const override { return *cq_; }
  smmuv3::StreamTables& tables() { return tables_; }
  smmuv3::CommandQueue& command_queue() { return *cq_; }
  smmuv3::OutputQueue& event_queue() { return *eventq_; }
  smmuv3::OutputQueue& pri_queue() { return *priq_; }

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
  uint32_t idr(uint64_t off) const;
  void write_cr0(uint32_t v);
  void gerror_toggle(uint32_t bits);
  void signal(uint32_t irq_ctrl_bit, sc_core::sc_event& line);
  void auto_respond(RootPort& port, uint16_t rid, const PageRequest& r);

  smmuv3::StreamTables tables_;
  std::unique_ptr<smmuv3::CommandQueue> cq_;
  std::unique_ptr<smmuv3::OutputQueue> eventq_;
  std::unique_ptr<smmuv3::OutputQueue> priq_;

  uint32_t cr0_ = 0, cr1_ = 0, cr2_ = 0;
  uint32_t gbpa_ = smmuv3::reg::kGbpaAbort;
  uint32_t irq_ctrl_ = 0;
  uint32_t gerror_ = 0, gerrorn_ = 0;
  // *_IRQ_CFG0 (64), CFG1, CFG2 of GERROR, EVENTQ and PRIQ, by offset.
  std::unordered_map<uint64_t, uint64_t> irq_cfg_;
  sc_core::sc_event fault_irq_, priq_irq_;

  Counter& faults_recorded_;
  Counter& pri_disabled_;
  Counter& auto_responses_;
};

}  // namespace iosim

// Iommu: the top-level IOMMU module (VT-d-like, scalable-mode first-level
// translation of PASID-tagged DMA through the CPU's x86-64 page tables).
//
// Sockets and ports
//  - `regs` (target): the software register interface (the SVA driver's `regs`);
//  - `irq` (export): the interrupt lines (fault, invalidation-wait completion, page
//    request), the Iommu's own IommuInterrupts;
//  - `mem` (initiator): every memory access of the IOMMU (table fetches, walks,
//    queue fetches, status and page-request writes, DMA forwarding);
//  - root ports: add_root_port("rp0", cfg) during elaboration returns a RootPort with
//    `upstream` / `downstream` sockets to bind to the device's PcieLink.
// The register map, in-memory formats and interrupt interface are in
// iommu/sw_interface.h: all that software sees of the IOMMU.
//
// Upstream requests (see RootPort): untranslated memory requests (AT=00) are
// translated (Translator) and forwarded to memory split at page boundaries; a failing
// one gets a fault record and TLM_ADDRESS_ERROR_RESPONSE. Translation Requests (AT=01)
// are answered in the same b_transport with one completion entry (the translated page
// with its S-bit size, R/W/Exe/Priv/Global; R=W=0 when not present or not permitted;
// Unsupported Request when ATS is disabled on the port or in the context, or the
// tables fault, or when RootPortConfig::fault_translation_ur injects it after the
// lookup). Translated requests (AT=10) are forwarded (optionally rejected from
// Functions without ATS). Page Requests and Stop Markers go to the PageRequestQueue,
// Invalidate Completions to the CommandQueue. A Requester ID maps to the port
// configured for it, else to the first port it was seen on.
//
// Timing: registers answer after register_latency_ns; a translation costs its cache
// lookups and, on a miss, the table fetches and walk over `mem` (iommu_config.h).
// Upstream memory requests and Translation Requests are served in the requester's
// process and follow its timing (a Timing::Serving scope, MemoryPort::serving());
// register accesses, the command queue and the page request queue synchronise exactly.
//
// Simplifications: no second-level (nested) translation, interrupt remapping,
// posted interrupts or performance monitoring; unknown register offsets read 0 and
// ignore writes.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <bitset>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "iommu/command_queue.h"
#include "iommu/context_tables.h"
#include "iommu/fault_recorder.h"
#include "iommu/iommu_config.h"
#include "iommu/iotlb.h"
#include "iommu/memory_port.h"
#include "iommu/page_request_queue.h"
#include "iommu/page_walker.h"
#include "iommu/root_port.h"
#include "iommu/sw_interface.h"
#include "iommu/translator.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim {

class Iommu : public sc_core::sc_module, public IommuInterrupts {
 public:
  tlm_utils::simple_target_socket<Iommu> regs;
  tlm_utils::simple_initiator_socket<Iommu> mem;
  sc_core::sc_export<IommuInterrupts> irq;

  // Registers its statistics (and its command and page request queues') in ctx.
  Iommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg);

  // Adds a root port (during elaboration). Throws std::invalid_argument when its
  // requester ID is already configured on another port.
  RootPort& add_root_port(const char* name, const RootPortConfig& cfg);
  RootPort* port_of(uint16_t rid) const;

  // IommuInterrupts
  const sc_core::sc_event& fault_event() const override { return faults_.event(); }
  const sc_core::sc_event& inv_wait_event() const override { return cq_->wait_event(); }
  const sc_core::sc_event& page_request_event() const override { return prq_->event(); }

  void set_ground_truth(GroundTruth* gt) { gt_ = gt; }

  const IommuConfig& config() const { return cfg_; }
  Iotlb& iotlb() { return iotlb_; }
  PageWalker& walker() { return walker_; }
  ContextTables& tables() { return tables_; }
  CommandQueue& command_queue() { return *cq_; }
  PageRequestQueue& page_request_queue() { return *prq_; }
  FaultRecorder& faults() { return faults_; }
  const MemoryPort& memory_port() const { return mem_port_; }

 private:
  void upstream(RootPort& port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  void untranslated(RootPort& port, tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                    sc_core::sc_time& delay);
  void translated(RootPort& port, tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                  sc_core::sc_time& delay);
  void translation_request(RootPort& port, tlm::tlm_generic_payload& gp, PcieExtension& ext,
                           sc_core::sc_time& delay);
  void record_fault(const tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                    FaultReason reason, uint64_t addr, const sc_core::sc_time& at);
  void publish_access(const tlm::tlm_generic_payload& gp, const PcieExtension& ext, uint64_t va,
                      uint64_t pa, const sc_core::sc_time& obtained, bool through_atc,
                      const sc_core::sc_time& at);

  void reg_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  uint64_t read_reg(uint64_t off) const;
  void write_reg(uint64_t off, uint64_t value, uint64_t mask);

  IommuConfig cfg_;
  StatGroup& stats_;
  MemoryPort mem_port_;
  Iotlb iotlb_;
  ContextTables tables_;
  PageWalker walker_;
  Translator translator_;
  FaultRecorder faults_;
  sc_core::sc_time register_latency_;  // register_latency_ns
  std::vector<std::unique_ptr<RootPort>> ports_;
  std::map<uint16_t, RootPort*> rid_port_;
  // Requesters upstream() has seen (so rid_port_ knows them): one bit per Requester ID,
  // a test per request instead of a tree lookup when requesters interleave.
  std::bitset<65536> seen_rid_;
  std::unique_ptr<CommandQueue> cq_;
  std::unique_ptr<PageRequestQueue> prq_;
  GroundTruth* gt_ = nullptr;
  // "requester-<rid>", the thread name of the accesses published for a requester
  // (events refer to it; a hash map, not a tree: looked up per published access).
  std::unordered_map<uint16_t, std::string> requester_names_;
  // Per-page memory request of an untranslated request (constructing a payload
  // allocates its extension array; the IOMMU forwards one at a time).
  tlm::tlm_generic_payload sub_payload_;

  Histogram& lat_untranslated_read_;
  Histogram& lat_untranslated_write_;
  Histogram& lat_translation_request_;
  Histogram& lat_translated_;
  Counter& translated_rejected_;
  Counter& bad_requests_;
  Counter* injected_ur_ = nullptr;  // only with RootPortConfig::fault_translation_ur
};

}  // namespace iosim

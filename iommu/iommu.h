// Iommu: the architecture-neutral core of the IOMMU, a module each architecture's
// front-end derives from (iommu/vtd/vtd_iommu.h, iommu/smmuv3/smmuv3.h; the platform
// picks one by iommu.arch).
//
// The core owns what every architecture has: the root ports and the request
// dispatch, the IOTLB, the walk caches and walkers, and the translation service
// (Translator). A front-end owns its tables (it is the Translator's ContextSource),
// its register interface, its command queue, its fault/event and page request
// queues, and the interrupt lines (IommuInterrupts, iommu/interrupts.h).
//
// Sockets and ports
//  - `regs` (target): the software register interface (the driver's `regs`); the
//    front-end's register map is in its sw_interface.h;
//  - `irq` (export): the interrupt lines, the front-end's IommuInterrupts;
//  - `mem` (initiator): every memory access of the IOMMU (table fetches, walks,
//    queue fetches, status and page-request writes, DMA forwarding);
//  - root ports: add_root_port("rp0", cfg) during elaboration returns a RootPort with
//    `upstream` / `downstream` sockets to bind to the device's PcieLink.
//
// Upstream requests (see RootPort): untranslated memory requests (AT=00) are
// translated (Translator) and forwarded to memory split at page boundaries; a failing
// one is reported to the front-end (report_fault) and gets TLM_ADDRESS_ERROR_RESPONSE.
// Translation Requests (AT=01) are answered in the same b_transport with one
// completion entry (the translated page with its S-bit size, R/W/Exe/Priv/Global;
// R=W=0 when not present or not permitted; Unsupported Request when ATS is disabled
// on the port or by the tables, or the tables fault, or when
// RootPortConfig::fault_translation_ur injects it after the lookup). Translated
// requests (AT=10) are forwarded (optionally rejected from Functions without ATS).
// Page Requests, Stop Markers and Invalidate Completions go to the front-end. A
// Requester ID maps to the port configured for it, else to the first port it was
// seen on.
//
// Timing: registers answer after register_latency_ns; a translation costs its cache
// lookups and, on a miss, the table fetches and walk over `mem` (iommu_config.h).
// Upstream memory requests and Translation Requests are served in the requester's
// process and follow its timing (a Timing::Serving scope, MemoryPort::serving());
// register accesses, the command queue and the page request queue synchronise exactly.
//
// Simplifications: no second-stage (nested) translation, interrupt remapping,
// posted interrupts or performance monitoring.
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

#include "iommu/interrupts.h"
#include "iommu/iommu_config.h"
#include "iommu/iotlb.h"
#include "iommu/memory_port.h"
#include "iommu/page_walker.h"
#include "iommu/root_port.h"
#include "iommu/translator.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim {

class Iommu : public sc_core::sc_module, public IommuInterrupts, protected ContextSource {
 public:
  tlm_utils::simple_target_socket<Iommu> regs;
  tlm_utils::simple_initiator_socket<Iommu> mem;
  sc_core::sc_export<IommuInterrupts> irq;

  // Adds a root port (during elaboration). Throws std::invalid_argument when its
  // requester ID is already configured on another port.
  RootPort& add_root_port(const char* name, const RootPortConfig& cfg);
  RootPort* port_of(uint16_t rid) const;

  void set_ground_truth(GroundTruth* gt) { gt_ = gt; }

  const IommuConfig& config() const { return cfg_; }
  Iotlb& iotlb() { return iotlb_; }
  PageWalker& walker() { return walker_; }
  const MemoryPort& memory_port() const { return mem_port_; }
  // The module that executes the command queue (its statistics group holds the
  // ITag and wait statistics the run summary reads, iommu/stat_names.h).
  virtual const sc_core::sc_module& command_processor() const = 0;

 protected:
  // Registers its statistics in ctx, in the group of this module.
  Iommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg);

  // --- what a front-end implements (besides ContextSource and IommuInterrupts) ---
  // A request failed translation at f.time (the current time: the caller has settled).
  virtual void report_fault(const IommuFault& f) = 0;
  // A Page Request or Stop Marker of `rid` arriving at sc_time_stamp() + delay.
  virtual void on_page_request(RootPort& port, uint16_t rid, const PageRequest& r,
                               const sc_core::sc_time& delay) = 0;
  virtual void on_stop_marker(RootPort& port, uint16_t rid, const StopMarker& m,
                              const sc_core::sc_time& delay) = 0;
  // An Invalidate Completion arriving at sc_time_stamp() + delay.
  virtual void on_invalidate_completion(RootPort& port, const InvalidateCompletion& c,
                                        const sc_core::sc_time& delay) = 0;
  // Register access at the register's 8-byte aligned offset (the access's bytes are
  // `mask`); synchronised with the caller.
  virtual uint64_t read_reg(uint64_t off) const = 0;
  virtual void write_reg(uint64_t off, uint64_t value, uint64_t mask) = 0;

  // --- for the front-end ---
  StatGroup& stats() { return stats_; }
  MemoryPort& memory() { return mem_port_; }
  // Every root port (elaboration adds them; complete when the simulation starts).
  std::vector<RootPort*> ports() const;

 private:
  void upstream(RootPort& port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  void untranslated(RootPort& port, tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                    sc_core::sc_time& delay);
  void translated(RootPort& port, tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                  sc_core::sc_time& delay);
  void translation_request(RootPort& port, tlm::tlm_generic_payload& gp, PcieExtension& ext,
                           sc_core::sc_time& delay);
  // Reports a failed request to the front-end; `t` is its translation (nullptr: it
  // failed before one, a rejected translated request).
  void report(const tlm::tlm_generic_payload& gp, const PcieExtension& ext, FaultReason reason,
              uint64_t addr, const sc_core::sc_time& at, const Translation* t = nullptr);
  void publish_access(const tlm::tlm_generic_payload& gp, const PcieExtension& ext, uint64_t va,
                      uint64_t pa, const sc_core::sc_time& obtained, bool through_atc,
                      const sc_core::sc_time& at);

  void reg_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

  IommuConfig cfg_;
  StatGroup& stats_;
  MemoryPort mem_port_;
  Iotlb iotlb_;
  PageWalker walker_;
  Translator translator_;
  sc_core::sc_time register_latency_;  // register_latency_ns
  std::vector<std::unique_ptr<RootPort>> ports_;
  std::map<uint16_t, RootPort*> rid_port_;
  // Requesters upstream() has seen (so rid_port_ knows them): one bit per Requester ID,
  // a test per request instead of a tree lookup when requesters interleave.
  std::bitset<65536> seen_rid_;
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

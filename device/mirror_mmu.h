// The MMU of a mirror device (device.N.kind = mirror; its software interface is
// device/mirror_sw_interface.h): the device TLB, the walker of the device page table,
// the fault buffer with its replay, and the TLB invalidation its driver rings.
//
// An access's translation (translate()), per page:
//   1. a TLB lookup (the device's atc_lookup_latency_ns; the Atc object is the TLB,
//      tagged by context); a hit with the permission needed is used, held until the
//      access has completed (Atc::acquire/release), so an invalidation waits for it;
//   2. a miss walks the context's page table: four 8-byte DMA reads (PML4 to PT) sent
//      upstream as untranslated requests without PASID, which the IOMMU passes
//      through; a present leaf with the permission fills the TLB and the lookup is
//      made again, unless an invalidation of the context was processed while the walk
//      ran (it may have dropped what the walk read): then the walk starts again;
//   3. no usable entry: the device writes a fault record into the fault buffer (a
//      posted 16-byte DMA write), advances PUT and raises the fault interrupt (an MSI
//      that arrives with the record), then the access stalls until software writes
//      REPLAY, and walks again. After max_translation_attempts walks the access fails.
// A TLB fill records when the translation was obtained: the time the driver read the
// CPU page table for it (the ground truth's record of the device PTE), else the walk.
//
// Invalidation (INV_DOORBELL): one thread serves the requests in order: it takes
// invalidation_processing_ns, drops the context's TLB entries overlapping the range,
// waits until no access in flight uses one of them, and writes the sequence number to
// the status word (an 8-byte posted DMA write, after every posted write issued before
// it on the device's ordered path).
//
// Registers: an access takes mmio_read_ns (read) or mmio_write_ns (write) as the
// target's annotated latency.
//
// Simplifications: the walker has no walk cache and walks of different accesses run
// in parallel; a full fault buffer drops the record (the access still stalls until the
// next REPLAY); the fault interrupt has no moderation.
#pragma once

#include "device/atc.h"
#include "device/mirror_sw_interface.h"
#include "device/upstream.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/observe/stats.h"
#include "sc_models/timing/local_time.h"

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <array>
#include <cstdint>
#include <deque>
#include <string>

namespace iosim {

class MirrorMmu : public sc_core::sc_module, public MirrorDeviceInterrupts {
 public:
  tlm_utils::simple_target_socket<MirrorMmu> regs;
  sc_core::sc_export<MirrorDeviceInterrupts> irq;

  struct Config {
    MirrorConfig mirror;
    double tlb_lookup_ns = 0;
    uint32_t max_walks = 8;  // walks per access before it fails
  };
  // A translation as an access uses it (acquired in the TLB), or why there is none.
  struct Result {
    bool ok = false;
    Atc::Hit hit;
    const char* error = nullptr;
  };

  MirrorMmu(sc_core::sc_module_name name, const Config& cfg, DeviceUpstream& up, Atc& tlb,
            Timing& timing, StatGroup& stats);

  void set_ground_truth(GroundTruth* gt) { gt_ = gt; }

  // The translation of `va` in context `ctx` for a read or a write; on success it is
  // acquired (release it when the access has completed). A context beyond the
  // device's (a thread whose process is not bound) fails at once.
  Result translate(uint32_t ctx, uint64_t va, bool write, LocalTime& time);

  // MirrorDeviceInterrupts
  const sc_core::sc_event& fault_event() const override { return fault_irq_; }
  const sc_core::sc_event& invalidation_event() const override { return inv_irq_; }

  uint64_t walks() const { return walks_.value(); }
  uint64_t faults() const { return faults_.value(); }
  uint64_t invalidations() const { return invalidations_.value(); }
  uint64_t context_root(uint32_t ctx) const { return ctx_root_.at(ctx); }

 private:
  struct Invalidation {
    uint32_t ctx;
    uint64_t start, end;
    uint64_t status_addr;
    uint64_t seq;
  };
  enum class WalkResult { kFilled, kRestart, kFault, kError };

  void b_transport_regs(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  void write_reg(uint64_t off, uint64_t value);
  uint64_t read_reg(uint64_t off) const;
  WalkResult walk(uint32_t ctx, uint64_t va, bool write, LocalTime& time);
  // Writes the fault record, raises the interrupt and waits for the next REPLAY.
  void fault(uint32_t ctx, uint64_t va, bool write, LocalTime& time);
  void run_invalidations();
  uint32_t tag(uint32_t ctx) const { return mirror_context_tag(up_.requester_id(), ctx); }

  Config cfg_;
  DeviceUpstream& up_;
  Atc& tlb_;
  Timing& timing_;
  GroundTruth* gt_ = nullptr;
  sc_core::sc_time lookup_time_, mmio_read_, mmio_write_, processing_;

  std::array<uint64_t, kMirrorContexts> ctx_root_{};
  // Per context, the invalidations processed so far: a walk that saw the count change
  // is discarded.
  std::array<uint64_t, kMirrorContexts> inv_generation_{};
  uint32_t ctx_sel_ = 0;
  uint64_t fault_base_ = 0;
  uint32_t put_ = 0, get_ = 0;
  uint32_t inv_ctx_ = 0;
  uint64_t inv_start_ = 0, inv_end_ = 0, inv_status_ = 0;
  sc_core::sc_event fault_irq_, inv_irq_, replay_, inv_arrived_;
  std::deque<Invalidation> inv_queue_;

  Counter& walks_;
  Counter& walk_reads_;
  Counter& walk_restarts_;
  Counter& faults_;
  Counter& fault_records_dropped_;
  Counter& replays_;
  Counter& invalidations_;
  Counter& tlb_hits_;
  Counter& tlb_misses_;
  Histogram& invalidation_latency_;
};

}  // namespace iosim

// CommandQueue: the SMMUv3 command queue processor (Arm IHI 0070, 3.5 and chapter 4;
// command formats in formats.h), the child module `command_queue` of Smmuv3.
//
// Software writes 16-byte commands into a ring in memory (CMDQ_BASE: address, LOG2SIZE)
// and advances CMDQ_PROD (index + wrap bit). While CR0.CMDQEN = 1 and no command queue
// error is active, one processor thread fetches the command at CMDQ_CONS (a 16-byte read
// plus fetch_latency_ns), executes it (process_latency_ns) and advances CONS.
//
// Commands: CFGI_STE / STE_RANGE / ALL drop cached STEs and their CDs, CFGI_CD / CD_ALL
// cached CDs (StreamTables). TLBI_NH_ASID drops the IOTLB and walk-cache entries of the
// ASID in every stream (global entries stay, as TLBI ASIDE1 leaves them); TLBI_NH_VA those
// of the ASID over covered_range() (global entries too, as TLBI VAE1 does), TLBI_NH_VAA of
// every ASID; Leaf = 1 keeps the walk caches; with IDR3.RIL = 0 the range fields are
// ignored (one page). TLBI_NH_ALL and TLBI_NSNH_ALL drop everything (no VMIDs, no EL2).
// ATC_INV sends an ATS Invalidate Request on the StreamID's root port (PASID = SSID when
// SSV; the 2^Size-page span as an S-bit range, whole space for Size >= 52; Global) through
// AtcInvalidations; PRI_RESP sends a PRG Response (4.7.1 Resp: Deny -> Invalid Request,
// Fail -> Response Failure, Success -> Success; PCIe 6.0 10.4.2). PREFETCH_* and RESUME
// are accepted and do nothing (hints; no stall model).
//
// CMD_SYNC (4.7.3) completes only once every earlier command has, including every ATC
// invalidation in flight (AtcInvalidations::wait_all). Then: CS = SIG_IRQ with
// MSIAddress != 0 writes MSIData (32 bits) to MSIAddress and signals the completion
// interrupt; CS = SIG_IRQ without MSI signals it; CS = SIG_SEV signals it too (the model's
// interrupt lines have no wake-up event of their own); CS = SIG_NONE signals nothing
// (software polls CONS). If an ATC invalidation timed out (itag_timeout_ns), the SYNC
// fails with CERROR_ATC_INV_SYNC instead.
//
// Errors (4.1.4, 7.1): an illegal command (CERROR_ILL), a fetch abort (CERROR_ABT) or a
// failed SYNC stops the queue with CONS at that command: CMDQ_CONS.ERR is set and the
// `error` hook toggles GERROR.CMDQ_ERR (and raises the fault/gerror interrupt). resume()
// (software acknowledged through GERRORN) clears ERR and restarts from CONS, so the
// command there (or what software put in its place) runs again.
//
// Timing idioms as VT-d's queue (iommu/vtd/command_queue.h): Timing::KeepAhead, the
// "last command" rule, wait_now before an interrupt.
//
// Statistics (group "<iommu>.command_queue"): <opcode>_count, <opcode>_latency (opcode
// names as formats.h's to_string, lower case), failed_waits, bad_commands, queue_depth,
// no_port, and AtcInvalidations' own.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "iommu/atc_invalidations.h"
#include "iommu/command_kind_stats.h"
#include "iommu/iommu_config.h"
#include "iommu/iotlb.h"
#include "iommu/memory_port.h"
#include "iommu/page_walker.h"
#include "iommu/root_port.h"
#include "iommu/smmuv3/formats.h"
#include "iommu/smmuv3/stream_tables.h"
#include "iommu/smmuv3/sw_interface.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::smmuv3 {

class CommandQueue : public sc_core::sc_module {
 public:
  struct Parts {
    MemoryPort& mem;
    Iotlb& iotlb;
    PageWalker& walker;
    StreamTables& tables;
    std::function<RootPort*(uint16_t rid)> port_of;
    std::function<std::vector<RootPort*>()> ports;
    std::function<void()> error;  // a command queue error became active
    bool range_invalidation;      // IDR3.RIL
  };

  // Largest queue (IDR1.CMDQS): 2^19 commands, the architectural maximum (6.3.2).
  static constexpr unsigned kMaxLog2Size = 19;

  CommandQueue(sc_core::sc_module_name name, SimContext& ctx, const CommandQueueConfig& cfg,
               Parts parts);

  // --- Registers (6.3.25 - 6.3.27) ---
  void write_base(uint64_t v);
  uint64_t base_reg() const { return base_reg_; }
  void write_prod(uint32_t v);
  uint32_t prod() const { return prod_; }
  // Software may set CONS only while the queue is disabled.
  void write_cons(uint32_t v);
  uint32_t cons() const { return cons_ | reg::kCmdqConsErr.put(static_cast<uint32_t>(err_)); }
  void set_enabled(bool on);
  bool error_active() const { return stopped_; }
  // Software acknowledged the error (GERRORN): execution restarts at CONS.
  void resume();

  // The CMD_SYNC completion interrupt.
  const sc_core::sc_event& completion_event() const { return completion_; }

  void on_invalidate_completion(RootPort& port, const InvalidateCompletion& c,
                                const sc_core::sc_time& delay) {
    atc_.on_completion(port, c, delay);
  }

  uint64_t processed() const { return processed_; }
  uint64_t failed_waits() const { return failed_waits_.value(); }
  uint64_t timeouts() const { return atc_.timeouts(); }

 private:
  void run();
  void execute(const Command& c, sc_core::sc_time& d);
  void tlbi_va(std::optional<uint16_t> asid, const TlbiVaRange& va);
  void atc_inv(const AtcInv& c, sc_core::sc_time& d);
  void pri_resp(const PriResp& c, sc_core::sc_time& d);
  void sync(const Sync& c, sc_core::sc_time& d);
  void stop(CmdqError e, sc_core::sc_time& d);
  void wait_now(sc_core::sc_time& d);
  bool runnable() const;
  bool last_command() const {
    return queue_position(queue_next(cons_, log2size_), log2size_) ==
           queue_position(prod_, log2size_);
  }

  CommandQueueConfig cfg_;
  Parts p_;
  uint64_t base_reg_ = 0, base_ = 0;
  unsigned log2size_ = 0;
  uint32_t prod_ = 0, cons_ = 0;
  CmdqError err_ = CmdqError::kNone;
  bool enabled_ = false, stopped_ = false;
  uint64_t processed_ = 0;
  sc_core::sc_time fetch_latency_, process_latency_;
  sc_core::sc_event wake_, completion_;

  StatGroup& stats_;
  AtcInvalidations atc_;
  CommandKindStats kinds_;
  Average& queue_depth_;
  Counter& failed_waits_;
  Counter& bad_commands_;
  Counter& no_port_;
};

}  // namespace iosim::smmuv3

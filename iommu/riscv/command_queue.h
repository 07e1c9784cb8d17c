// CommandQueue: the RISC-V IOMMU command queue processor (spec 3.1; command formats in
// formats.h), the child module `command_queue` of RiscvIommu.
//
// Software writes 16-byte commands into a ring in memory (cqb: PPN, LOG2SZ-1) and
// advances cqt. While cqcsr.cqen = 1 and no error bit (cqmf, cmd_to, cmd_ill) is set,
// one processor thread fetches the command at cqh (a 16-byte read plus
// command_queue.fetch_latency_ns), executes it (process_latency_ns) and advances cqh.
//
// Commands (3.1.1 - 3.1.4): IOTINVAL.VMA drops IOTLB and walk-cache entries: every
// entry (AV = PSCV = 0), those of PSCID in every device (PSCV = 1; global entries stay,
// as the spec's table says), those covering ADDR (AV = 1; with PSCV = 0 global ones
// too); GV = 1 names guest address spaces, which the model has none of, so it drops
// nothing. AV = 1 drops the walk-cache entries covering ADDR as well (an IOMMU may
// invalidate more than asked). IOTINVAL.GVMA drops everything (no second stage).
// IODIR.INVAL_DDT / INVAL_PDT drop cached device / process contexts (DirectoryTables).
// ATS.INVAL sends an Invalidate Request to RID (PASID = PID when PV; the payload's
// S-bit range and G) through AtsInvalidations, stalling while the device's ITags are
// all in use; ATS.PRGR sends a PRG Response (PASID = PID when PV; a reserved response
// code makes the command illegal here).
//
// IOFENCE.C (3.1.2) completes only once every earlier command has, including every ATS
// invalidation in flight (AtsInvalidations::wait_all): the IOMMU may execute fetched
// commands out of order and the fence is software's only ordering point. Then: AV = 1
// writes DATA (4 bytes) to ADDR; WSI = 1 sets cqcsr.fence_w_ip (when clear) and raises
// the completion interrupt; WSI = 1 while fctl.WSI = 0 is illegal. If an ATS.INVAL timed
// out (itag_timeout_ns) the fence does not complete: cqcsr.cmd_to is set and the queue
// stops with cqh at the fence; once software clears cmd_to (writing 1) the fence runs
// again (the time-out freed the ITag, so it completes), as the spec's reference model
// does (iommu_command_queue.c, do_iofence_c).
//
// Errors (3.1, 5.15): an illegal command (cmd_ill) or a fetch or fence write that
// failed (cqmf) stops the queue with cqh at that command and raises the `error` hook;
// clearing the bit restarts it at cqh, so the command there (or what software put in
// its place) runs again. cqen 0 -> 1 resets cqh to 0 and clears the error bits.
//
// Timing idioms as VT-d's and SMMUv3's queues: Timing::KeepAhead, the "last command"
// rule, wait_now before an interrupt.
//
// Statistics (group "<iommu>.command_queue"): <kind>_count, <kind>_latency (kinds as
// formats.h's kind_name), failed_waits (fences that ended in cmd_to), bad_commands,
// queue_depth, no_port, and AtcInvalidations' own.
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <functional>
#include <variant>
#include <vector>

#include "iommu/atc_invalidations.h"
#include "iommu/command_kind_stats.h"
#include "iommu/iommu_config.h"
#include "iommu/iotlb.h"
#include "iommu/memory_port.h"
#include "iommu/page_walker.h"
#include "iommu/riscv/directory.h"
#include "iommu/riscv/formats.h"
#include "iommu/root_port.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::riscv {

class CommandQueue : public sc_core::sc_module {
 public:
  struct Parts {
    MemoryPort& mem;
    Iotlb& iotlb;
    PageWalker& walker;
    DirectoryTables& tables;
    std::function<RootPort*(uint16_t rid)> port_of;
    std::function<std::vector<RootPort*>()> ports;
    std::function<bool()> wsi_enabled;  // fctl.WSI
    std::function<void()> error;        // an error bit was set
    std::function<void()> completion;   // fence_w_ip was set
  };

  // Largest queue: 2^19 commands (an assumption; LOG2SZ-1 may name more).
  static constexpr unsigned kMaxLog2 = 19;

  CommandQueue(sc_core::sc_module_name name, SimContext& ctx, const CommandQueueConfig& cfg,
               Parts parts);

  // --- Registers (5.6 - 5.8, 5.15) ---
  void write_base(uint64_t v);
  uint64_t base_reg() const { return base_reg_; }
  void write_tail(uint32_t v);
  uint32_t tail() const { return tail_; }
  uint32_t head() const { return head_; }
  void write_csr(uint32_t v);
  uint32_t csr() const;
  bool interrupts_enabled() const { return cie_; }

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
  void iotinval_vma(const IotinvalVma& c);
  void ats_inval(const AtsInval& c, sc_core::sc_time& d);
  void ats_prgr(const AtsPrgr& c, sc_core::sc_time& d);
  // False when the fence stopped the queue.
  bool iofence(const IofenceC& c, sc_core::sc_time& d);
  void stop(uint32_t bit, sc_core::sc_time& d);
  void wait_now(sc_core::sc_time& d);
  bool runnable() const;
  bool last_command() const { return ((head_ + 1) & mask()) == tail_; }
  uint32_t mask() const { return (1u << log2_) - 1; }

  CommandQueueConfig cfg_;
  Parts p_;
  uint64_t base_reg_ = 0, base_ = 0;
  unsigned log2_ = 1;
  uint32_t head_ = 0, tail_ = 0;
  bool enabled_ = false, cie_ = false;
  uint32_t status_ = 0;  // cqmf, cmd_to, cmd_ill, fence_w_ip
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

}  // namespace iosim::riscv

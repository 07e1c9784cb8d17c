// CommandBuffer: the AMD-Vi command buffer processor (AMD IOMMU specification #48882,
// 2.4 and 3.4.2; command formats in formats.h), the child module `command_queue` of
// AmdviIommu.
//
// Software writes 16-byte commands into a ring in memory (Command Buffer Base: address,
// ComLen) and advances the tail register. While the buffer runs (Status.CmdBufRun: set
// when Control.CmdBufEn and IommuEn become 1), one processor thread fetches the command
// at the head (a 16-byte read plus fetch_latency_ns), executes it (process_latency_ns)
// and advances the head.
//
// Commands (2.4): INVALIDATE_DEVTAB_ENTRY drops the cached DTE and its GCR3 entries.
// INVALIDATE_IOMMU_PAGES drops the IOTLB entries of DomainID (GN = 1: and PASID; global
// entries too) over the S-bit range, and with PDE = 1 the walk caches over the range and
// the cached GCR3 entries of DomainID (+ PASID). INVALIDATE_IOMMU_ALL drops every cache.
// INVALIDATE_IOTLB_PAGES sends an ATS Invalidate Request to DeviceID's root port (PASID
// when GN = 1, the S-bit range) through AtcInvalidations. COMPLETE_PPR_REQUEST sends a PRG
// Response (Status 0 Success, 1 Invalid Request, any other Response Failure; PASID when
// GN = 1) with RootPort::send_message. INVALIDATE_INTERRUPT_TABLE is accepted (no
// interrupt remapping).
//
// COMPLETION_WAIT (2.4.1) completes only once every earlier command has, including every
// ATS invalidation in flight (AtcInvalidations::wait_all). Then S = 1 stores the 64-bit
// data at the store address, and I = 1 sets Status.ComWaitInt and raises the completion
// interrupt (when Control.ComWaitIntEn). An ATS invalidation that times out
// (itag_timeout_ns) logs IOTLB_INV_TIMEOUT (DeviceID, the address of its
// INVALIDATE_IOTLB_PAGES) at the time-out, and the wait still completes: AMD-Vi has no
// failed wait (2.5.x IOTLB_INV_TIMEOUT; Linux iommu_completion_wait/wait_on_sem only
// poll the semaphore). waits_after_timeout counts the waits that ordered such a request.
//
// Errors (2.4, 2.5): an illegal command (unknown or unimplemented opcode, a reserved bit
// set) logs ILLEGAL_COMMAND_ERROR with its physical address; a failed command fetch logs
// COMMAND_HARDWARE_ERROR. Either stops the buffer with the head at the command
// (CmdBufRun = 0) until software disables and re-enables it (CmdBufEn 0 -> 1).
//
// Timing idioms as SMMUv3's queue (iommu/smmuv3/command_queue.h).
//
// Statistics (group "<iommu>.command_queue"): <kind>_count, <kind>_latency (kind_name()),
// failed_waits (always 0 here), waits_after_timeout, bad_commands, queue_depth, no_port,
// and AtcInvalidations' own (itag_timeouts, ...).
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "iommu/amdvi/device_table.h"
#include "iommu/amdvi/formats.h"
#include "iommu/atc_invalidations.h"
#include "iommu/command_kind_stats.h"
#include "iommu/iommu_config.h"
#include "iommu/iotlb.h"
#include "iommu/memory_port.h"
#include "iommu/page_walker.h"
#include "iommu/root_port.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::amdvi {

class CommandBuffer : public sc_core::sc_module {
 public:
  struct Parts {
    MemoryPort& mem;
    Iotlb& iotlb;
    PageWalker& walker;
    DeviceTable& tables;
    std::function<RootPort*(uint16_t rid)> port_of;
    std::function<std::vector<RootPort*>()> ports;
    std::function<void(const EventEntry&)> log_event;
    std::function<void()> completion_interrupt;  // a COMPLETION_WAIT with I = 1
  };

  CommandBuffer(sc_core::sc_module_name name, SimContext& ctx, const CommandQueueConfig& cfg,
                Parts parts);

  // --- Registers (3.4.2, 3.4.x) ---
  void write_base(uint64_t v);
  uint64_t base_reg() const { return base_reg_; }
  // Software may set the head only while the buffer is disabled.
  void write_head(uint64_t v);
  void write_tail(uint64_t v);
  uint64_t head() const { return head_; }
  uint64_t tail() const { return tail_; }
  void set_enabled(bool on);
  bool running() const { return running_; }

  void on_invalidate_completion(RootPort& port, const InvalidateCompletion& c,
                                const sc_core::sc_time& delay) {
    atc_.on_completion(port, c, delay);
  }

  uint64_t processed() const { return processed_; }
  uint64_t timeouts() const { return atc_.timeouts(); }
  uint64_t waits_after_timeout() const { return waits_after_timeout_.value(); }
  uint64_t failed_waits() const { return failed_waits_.value(); }

 private:
  // The INVALIDATE_IOTLB_PAGES that holds an ITag: what a time-out of it logs.
  struct Issued {
    uint16_t device_id = 0;
    uint64_t cmd_addr = 0;
  };

  void run();
  void execute(const Command& c, uint64_t cmd_addr, sc_core::sc_time& d);
  void invalidate_pages(const InvalidateIommuPages& c);
  void invalidate_iotlb(const InvalidateIotlbPages& c, uint64_t cmd_addr, sc_core::sc_time& d);
  void complete_ppr(const CompletePprRequest& c, sc_core::sc_time& d);
  void completion_wait(const CompletionWait& c, sc_core::sc_time& d);
  void stop(EventCode code, uint64_t cmd_addr, sc_core::sc_time& d);
  void on_timeout(RootPort& port, uint8_t itag);
  void wait_now(sc_core::sc_time& d);
  bool runnable() const { return running_ && head_ != tail_; }
  bool last_command() const { return ((head_ + 16) % bytes_) == tail_; }

  CommandQueueConfig cfg_;
  Parts p_;
  uint64_t base_reg_ = 0, base_ = 0, bytes_ = 4096;
  uint64_t head_ = 0, tail_ = 0;
  bool enabled_ = false, running_ = false;
  uint64_t processed_ = 0;
  bool timed_out_since_wait_ = false;
  std::map<std::pair<const RootPort*, uint8_t>, Issued> issued_;  // by port and ITag
  sc_core::sc_time fetch_latency_, process_latency_;
  sc_core::sc_event wake_;

  StatGroup& stats_;
  AtcInvalidations atc_;
  CommandKindStats kinds_;
  Average& queue_depth_;
  Counter& failed_waits_;
  Counter& waits_after_timeout_;
  Counter& bad_commands_;
  Counter& no_port_;
};

}  // namespace iosim::amdvi

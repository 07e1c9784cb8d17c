// CommandQueue: the IOMMU's invalidation (command) queue processor, modelled on
// VT-d queued invalidation (VT-d spec section 6.5.2). Descriptor formats are in
// descriptors.h.
//
// Software writes 128-bit descriptors into a ring in memory (IQA: base, size
// 2^QS 4 KiB pages = 256 << QS descriptors) and advances the tail register IQT
// (byte offset, bits 18:4) over TLM. One processor thread fetches descriptors in
// order through memory (a 16-byte read plus fetch_latency_ns), executes each
// (process_latency_ns) and advances the head register IQH.
//
// Commands: context-cache, PASID-cache and IOTLB invalidations (global, domain, by
// PASID, page-selective by PASID + 2^AM pages; IH=0 also drops the page-walk
// caches of the range), device-TLB invalidations (an ATS Invalidate Request sent
// downstream on the device's root port with a free ITag; the processor stalls while
// the device already has Invalidate-Queue-Depth requests in flight), page group
// responses (a PRG Response downstream), and inv_wait: it completes only after
// every earlier command, including every outstanding ATC invalidation, has
// completed; then it writes its 32-bit status data to its status address (SW=1)
// and/or sets ICS.IWC and notifies the completion interrupt (IF=1).
//
// The processor is busy with a command until its execution time (and, for an
// inv_wait, its status write) has passed; then IQH and the processed count advance,
// and an inv_wait sets ICS.IWC and raises its interrupt. Before any command but the
// last one written, the processor keeps the execution time as annotated delay
// instead of waiting when no other process can run before it ends
// (Timing::KeepAhead): the next command's fetch, an Invalidate Request or a PRG
// Response then carries it, and a notification that wakes another process is made
// only after a real wait.
//
// The device-TLB invalidations in flight, their ITags, completions and time-outs
// are the core's AtcInvalidations (iommu/atc_invalidations.h). An ATC invalidation
// not answered within itag_timeout_ns is abandoned: FSTS.ITE is set, the fault
// interrupt fires, and the next inv_wait fails (no status write, no IWC; counted and
// reported through failed_waits()). Processing then continues.
//
// Simplifications: a malformed descriptor sets FSTS.IQE and is skipped (VT-d stops
// the queue until software fixes it); the fence and page-drain flags are not
// modelled beyond the in-order execution every command has; domain-selective
// invalidations use the Requester IDs that fetched PASID entries of that domain.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "iommu/atc_invalidations.h"
#include "iommu/command_kind_stats.h"
#include "iommu/iotlb.h"
#include "iommu/memory_port.h"
#include "iommu/page_walker.h"
#include "iommu/root_port.h"
#include "iommu/vtd/context_tables.h"
#include "iommu/vtd/descriptors.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/observe/stats.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/sim/sim_context.h"

namespace iosim {

class CommandQueue : public sc_core::sc_module {
 public:
  struct Parts {
    MemoryPort& mem;
    Iotlb& iotlb;
    PageWalker& walker;
    ContextTables& tables;
    std::function<RootPort*(uint16_t rid)> port_of;
    std::function<std::vector<RootPort*>()> ports;
    sc_core::sc_event& fault_event;
  };

  CommandQueue(sc_core::sc_module_name name, SimContext& ctx, const CommandQueueConfig& cfg,
               Parts parts);

  // --- Registers ------------------------------------------------------------------
  void write_iqa(uint64_t v);
  uint64_t iqa() const { return base_ | qs_; }
  void write_iqt(uint64_t v);
  uint64_t iqt() const { return tail_; }
  uint64_t iqh() const { return head_; }
  bool iwc() const { return iwc_; }
  void clear_iwc() { iwc_ = false; }
  bool ite() const { return ite_; }
  void clear_ite() { ite_ = false; }
  bool iqe() const { return iqe_; }
  void clear_iqe() { iqe_ = false; }

  // Invalidation-wait completion interrupt (notified when an inv_wait with IF=1 completes).
  sc_core::sc_event& wait_event() { return wait_event_; }

  // An Invalidate Completion arriving at sc_time_stamp() + delay on `port`.
  void on_invalidate_completion(RootPort& port, const InvalidateCompletion& c,
                                const sc_core::sc_time& delay) {
    atc_.on_completion(port, c, delay);
  }

  uint64_t processed() const { return processed_; }
  uint64_t failed_waits() const { return failed_waits_.value(); }
  uint64_t timeouts() const { return atc_.timeouts(); }

 private:
  void run();
  void execute(const Desc128& raw, sc_core::sc_time& delay);
  void iotlb_inv(const IotlbInv& c);
  void pasid_iotlb_inv(const PasidIotlbInv& c);
  void dev_tlb_inv(const DevTlbInv& c, sc_core::sc_time& delay);
  void inv_wait(const InvWait& c, sc_core::sc_time& delay);
  void page_group_response(const PageGroupResponseDesc& c, sc_core::sc_time& delay);
  // Waits for `d` (even where it could be kept ahead) and resets it.
  void wait_now(sc_core::sc_time& d);
  // Whether the command at head_ is the last one written.
  bool last_command() const { return (head_ + 16) % size_bytes() == tail_; }
  uint64_t size_bytes() const { return kPageBytes << qs_; }

  CommandQueueConfig cfg_;
  Parts p_;
  uint64_t base_ = 0, qs_ = 0, head_ = 0, tail_ = 0;
  bool iwc_ = false, ite_ = false, iqe_ = false;
  uint64_t processed_ = 0;
  sc_core::sc_time fetch_latency_, process_latency_;
  sc_core::sc_event tail_written_, wait_event_;

  StatGroup& stats_;
  AtcInvalidations atc_;    // device-TLB invalidations in flight, and PRG Responses sent
  CommandKindStats kinds_;  // by InvType
  Average& queue_depth_;
  Counter& failed_waits_;
  Counter& bad_descriptors_;
  Counter& no_port_;
};

}  // namespace iosim

// PageRequestQueue: the page request queue in memory (VT-d spec section 7.5.1,
// descriptor format in descriptors.h).
//
// Page Requests and Stop Markers arriving on a root port are taken in arrival
// order, one at a time, formatted (write_latency_ns) and written as 32-byte
// descriptors at PQT through memory; when the write has completed, PQT advances,
// PRS.PPR is set and the page request interrupt (event()) fires. Software reads
// descriptors from PQH, then writes PQH to free them.
//
// The writer is a method that runs at each of those instants (the request taken,
// the memory write issued, the write completed), woken by timed notifications:
// no thread wakes at the arrival to wait for the formatting and then for the write.
//
// Registers: PQA = base (63:12) | PQS (2:0): 2^PQS 4 KiB pages = 128 << PQS
// descriptors; PQH / PQT byte offsets (bits 18:5); PRS bit 0 PPR (pending page
// request), bit 1 PRO (overflow), both write-1-to-clear.
//
// Overflow: the queue is full when advancing PQT would make it equal PQH. A
// request that finds the queue full, or PRO already set, is not written: PRO is
// set (and the interrupt fires); if the request was the last of its group (L=1),
// the IOMMU itself answers the group with a PRG Response whose code is set by
// overflow_response ("success": the device retries and faults again, as VT-d does;
// the PCIe spec lets a host answer so the Function is not left waiting). Stop
// Markers dropped on overflow get no response (they never do). Requests from a
// port with PRI disabled are dropped and counted.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>

#include "iommu/vtd/descriptors.h"
#include "iommu/iommu_config.h"
#include "iommu/memory_port.h"
#include "iommu/root_port.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/observe/stats.h"

namespace iosim {

class PageRequestQueue : public sc_core::sc_module {
 public:
  PageRequestQueue(sc_core::sc_module_name name, SimContext& ctx, const PageRequestQueueConfig& cfg,
                   MemoryPort& mem);

  void write_pqa(uint64_t v);
  uint64_t pqa() const { return base_ | pqs_; }
  void write_pqh(uint64_t v) { head_ = (v & 0x7ffe0) % size_bytes(); }
  uint64_t pqh() const { return head_; }
  uint64_t pqt() const { return tail_; }
  uint64_t prs() const { return (ppr_ ? 1u : 0u) | (pro_ ? 2u : 0u); }
  void write_prs(uint64_t w1c);

  // Page request interrupt.
  sc_core::sc_event& event() { return event_; }

  // A Page Request (or Stop Marker, as a descriptor) arriving at sc_time_stamp() +
  // delay on `port`.
  void on_request(RootPort& port, const PageRequestDesc& d, const sc_core::sc_time& delay);

  uint64_t written() const { return written_.value(); }
  uint64_t overflows() const { return overflows_.value(); }

 private:
  struct Arrival {
    sc_core::sc_time time;
    RootPort* port;
    PageRequestDesc desc;
  };
  // Where the writer is; step() runs at the instant each phase starts.
  enum class Phase { kIdle, kTake, kWrite, kDone };
  void step();
  // The front request at the current time: dropped, overflowed, or its write begun.
  void take();
  // Writes the descriptor `ahead` of the current time (zero, or a time no other
  // process can run before: Timing::may_keep).
  void write(const sc_core::sc_time& ahead);
  void complete();
  // Takes the next request now or wakes step() at its arrival; idle when none.
  void next();
  void wake_at(const sc_core::sc_time& t);
  void overflow(const Arrival& a);
  uint64_t size_bytes() const { return kPageBytes << pqs_; }

  PageRequestQueueConfig cfg_;
  MemoryPort& mem_;
  uint64_t base_ = 0, pqs_ = 0, head_ = 0, tail_ = 0;
  bool ppr_ = false, pro_ = false;
  std::deque<Arrival> arrivals_;
  Phase phase_ = Phase::kIdle;
  Arrival current_{};  // the request being written
  sc_core::sc_time write_latency_;
  sc_core::sc_event wake_, event_;

  Counter& written_;
  Counter& overflows_;
  Counter& auto_responses_;
  Counter& pri_disabled_;
  Average& depth_;
  Histogram& latency_;
};

}  // namespace iosim

// PageRequestQueue: the page request queue in memory (VT-d spec section 7.5.1,
// descriptor format in descriptors.h).
//
// Page Requests and Stop Markers arriving on a root port are taken in arrival
// order, one at a time, formatted (write_latency_ns) and written as 32-byte
// descriptors at PQT through memory (the core's QueueWriter, iommu/queue_writer.h);
// when the write has completed, PQT advances, PRS.PPR is set and the page request
// interrupt (event()) fires. Software reads descriptors from PQH, then writes PQH to
// free them.
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
#include <optional>

#include "iommu/iommu_config.h"
#include "iommu/memory_port.h"
#include "iommu/queue_writer.h"
#include "iommu/root_port.h"
#include "iommu/vtd/descriptors.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

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
  struct Request {
    RootPort* port = nullptr;
    PageRequestDesc desc;
  };
  // QueueWriter's hooks: where the request goes (nullopt: dropped), and its write done.
  std::optional<uint64_t> place(const Request& r);
  void written(const sc_core::sc_time& arrival);
  void overflow(const Request& r);
  uint64_t size_bytes() const { return kPageBytes << pqs_; }

  PageRequestQueueConfig cfg_;
  uint64_t base_ = 0, pqs_ = 0, head_ = 0, tail_ = 0;
  bool ppr_ = false, pro_ = false;
  sc_core::sc_event event_;

  Counter& written_;
  Counter& overflows_;
  Counter& auto_responses_;
  Counter& pri_disabled_;
  Average& depth_;
  Histogram& latency_;
  QueueWriter<Request> writer_;  // last: its hooks use the members above
};

}  // namespace iosim

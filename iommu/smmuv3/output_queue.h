// OutputQueue: an SMMUv3 output queue in memory (Arm IHI 0070, 3.5): the event queue
// (32-byte EventRecords, 7.3) and the PRI queue (16-byte PriqEntries, 8.1) are two
// instances. The SMMU writes entries at PROD; software consumes them from CONS.
//
// Registers (6.3.28 - 6.3.35): *_BASE (64: address 51:5, LOG2SIZE 4:0, capped at the
// IDR1 maximum); PROD and CONS hold an index and a wrap bit (sw_interface.h queue
// helpers), PROD.OVFLG and CONS.OVACKFLG in bit 31. Software may write PROD only while
// the queue is disabled (it resets the pointers there); CONS always.
//
// push() hands an entry over with its arrival time. Entries are taken in arrival order,
// one at a time: formatted (write_latency_ns, the configuration's
// page_request_queue.write_latency_ns reused as the cost of every output-queue write),
// then written through memory (the core's QueueWriter, iommu/queue_writer.h); when the
// write has completed PROD advances and the queue's interrupt is signalled.
//
// Overflow (3.5.2, 7.4, 8.2): an entry that finds the queue full is lost; if no overflow
// is active (PROD.OVFLG == CONS.OVACKFLG) PROD.OVFLG toggles, making it active until
// software copies it to CONS.OVACKFLG. Entries are written again as soon as there is
// space. A lost entry, or one pushed while the queue is disabled (CR0.EVENTQEN /
// PRIQEN = 0: discarded, no overflow), runs its `lost` callback (the PRI queue answers a
// lost last request there) and signals the interrupt on overflow.
//
// Simplification: an abort of the queue write is not reported (GERROR.EVENTQ_ABT_ERR).
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "iommu/memory_port.h"
#include "iommu/queue_writer.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::smmuv3 {

class OutputQueue : public sc_core::sc_module {
 public:
  using Entry = std::array<uint64_t, 4>;  // the first entry_bytes / 8 words are used

  struct Hooks {
    std::function<void()> irq;      // the queue's interrupt (entries written, or overflow)
    std::function<void()> written;  // an entry was written (counted by the owner)
  };

  OutputQueue(sc_core::sc_module_name name, SimContext& ctx, unsigned entry_bytes,
              unsigned max_log2size, const sc_core::sc_time& write_latency, MemoryPort& mem,
              Hooks hooks);

  // --- Registers ---
  void write_base(uint64_t v);
  uint64_t base_reg() const { return base_reg_; }
  void write_prod(uint32_t v);
  void write_cons(uint32_t v) { cons_ = v & (position_mask() | kFlag); }
  uint32_t prod() const { return prod_; }
  uint32_t cons() const { return cons_; }
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }
  bool overflow_active() const { return ((prod_ ^ cons_) & kFlag) != 0; }

  // An entry arriving at sc_time_stamp() + delay; `lost` runs if it is not written.
  void push(const Entry& e, const sc_core::sc_time& delay, std::function<void()> lost = {});

  uint64_t written() const { return written_.value(); }
  uint64_t lost() const { return lost_.value(); }

 private:
  static constexpr uint32_t kFlag = 1u << 31;  // PROD.OVFLG, CONS.OVACKFLG
  struct Pending {
    Entry entry{};
    std::function<void()> lost;
  };
  // QueueWriter's hooks: where the entry goes (nullopt: lost or discarded), its bytes,
  // and its write done.
  std::optional<uint64_t> place(const Pending& p);
  unsigned encode(const Pending& p, uint8_t* bytes) const;
  void written();
  void drop(const Pending& p, bool overflow);
  uint32_t position_mask() const { return (2u << log2size_) - 1; }

  unsigned entry_bytes_, max_log2size_;
  Hooks hooks_;
  uint64_t base_reg_ = 0, base_ = 0;
  unsigned log2size_ = 0;
  uint32_t prod_ = 0, cons_ = 0;
  bool enabled_ = false;

  Counter& written_;
  Counter& lost_;
  Counter& discarded_;
  Average& depth_;
  Histogram& latency_;
  QueueWriter<Pending> writer_;  // last: its hooks use the members above
};

}  // namespace iosim::smmuv3

// OutputQueue: a RISC-V IOMMU queue the IOMMU writes and software reads (spec 3.2, 3.3):
// the fault queue (32-byte FaultRecords) and the page request queue (16-byte
// PageRequestRecords) are two instances, children `fault_queue` and `page_request_queue`.
//
// Registers (5.9 - 5.14, 5.16, 5.17): the base (PPN and LOG2SZ-1, sw_interface.h), the
// head (software's) and tail (the IOMMU's) indices, and the csr: xen and xie as written;
// xmf and xof write-1-to-clear; xon follows xen at once (busy reads 0). Turning xen
// from 0 to 1 resets the tail to 0 and clears xmf and xof.
//
// push() hands a record over with its arrival time; records are taken in arrival
// order, formatted (write_latency: the configuration's page_request_queue.write_latency_ns,
// reused for both queues) and written through memory (the core's QueueWriter,
// iommu/queue_writer.h); when the write has completed the tail advances and `irq` runs.
//
// Loss (3.2, 3.3): a record that arrives while the queue is off is discarded; one that
// finds the queue full (tail == head - 1) sets xof and is lost, and while xof (or xmf)
// is set every further record is lost too, until software clears the bit. A lost
// record runs its `lost` callback with the reason (the page request queue answers a
// lost last request there); setting xof runs `irq`.
//
// Simplification: the queue write cannot fail, so xmf is never set by the model.
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

namespace iosim::riscv {

class OutputQueue : public sc_core::sc_module {
 public:
  using Record = std::array<uint64_t, 4>;  // the first record_bytes / 8 words are used
  enum class Loss { kOff, kOverflow };

  struct Hooks {
    std::function<void()> irq;      // a record was written, or xof was set
    std::function<void()> written;  // a record was written (counted by the owner)
  };

  OutputQueue(sc_core::sc_module_name name, SimContext& ctx, unsigned record_bytes,
              const sc_core::sc_time& write_latency, MemoryPort& mem, Hooks hooks);

  // --- Registers ---
  void write_base(uint64_t v);
  uint64_t base_reg() const { return base_reg_; }
  void write_head(uint32_t v) { head_ = v & queue_mask(); }
  uint32_t head() const { return head_; }
  uint32_t tail() const { return tail_; }
  void write_csr(uint32_t v);
  uint32_t csr() const;
  bool interrupts_enabled() const;
  bool overflow() const { return overflow_; }
  unsigned log2_entries() const { return log2_; }

  // A record arriving at sc_time_stamp() + delay; `lost` runs if it is not written.
  void push(const Record& r, const sc_core::sc_time& delay, std::function<void(Loss)> lost = {});

  uint64_t written() const { return written_.value(); }
  uint64_t lost() const { return lost_.value(); }

 private:
  struct Pending {
    Record record{};
    std::function<void(Loss)> lost;
  };
  std::optional<uint64_t> place(const Pending& p);
  unsigned encode(const Pending& p, uint8_t* bytes) const;
  void drop(const Pending& p, Loss why);
  uint32_t queue_mask() const { return (1u << log2_) - 1; }

  unsigned record_bytes_;
  Hooks hooks_;
  uint64_t base_reg_ = 0, base_ = 0;
  unsigned log2_ = 1;
  uint32_t head_ = 0, tail_ = 0;
  bool enabled_ = false, ie_ = false, overflow_ = false, mem_fault_ = false;

  Counter& written_;
  Counter& lost_;
  Counter& discarded_;
  Average& depth_;
  Histogram& latency_;
  QueueWriter<Pending> writer_;  // last: its hooks use the members above
};

}  // namespace iosim::riscv

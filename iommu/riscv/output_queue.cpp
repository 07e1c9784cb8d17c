// OutputQueue: fault and page request records written to memory, with overflow.
#include "iommu/riscv/output_queue.h"

#include "iommu/riscv/sw_interface.h"

namespace iosim::riscv {

using sc_core::sc_time;

OutputQueue::OutputQueue(sc_core::sc_module_name name, SimContext& ctx, unsigned record_bytes,
                         const sc_time& write_latency, MemoryPort& mem, Hooks hooks)
    : sc_module(name),
      record_bytes_(record_bytes),
      hooks_(std::move(hooks)),
      written_(ctx.stats().group(*this).counter("written", "records", "records written")),
      lost_(ctx.stats().group(*this).counter("lost", "records",
                                             "records lost: queue full or overflow pending")),
      discarded_(
          ctx.stats().group(*this).counter("discarded", "records", "records discarded: queue off")),
      depth_(ctx.stats().group(*this).average("queue_depth", "records",
                                              "records in the queue after each write")),
      latency_(
          ctx.stats().group(*this).histogram("write_latency", "record arrival to record written")),
      writer_(mem, write_latency,
              {[this](const Pending& p) { return place(p); },
               [this](const Pending& p, uint8_t* bytes) { return encode(p, bytes); },
               [this](const Pending&, const sc_time& arrival) {
                 tail_ = (tail_ + 1) & queue_mask();
                 written_.inc();
                 if (hooks_.written) hooks_.written();
                 depth_.sample(static_cast<double>(queue_used(head_, tail_, log2_)));
                 latency_.sample(sc_core::sc_time_stamp() - arrival);
                 if (hooks_.irq) hooks_.irq();
               }}) {}

void OutputQueue::write_base(uint64_t v) {
  base_reg_ = v & (reg::kQbLog2SzM1.mask() | kPpnField.mask());
  base_ = ppn_to_addr(v);
  log2_ = static_cast<unsigned>(reg::kQbLog2SzM1.get(v)) + 1;
  if (log2_ > 31) log2_ = 31;
}

void OutputQueue::write_csr(uint32_t v) {
  const bool en = v & reg::kQcsrEn;
  if (en && !enabled_) {  // 0 -> 1: the tail restarts and the error bits clear
    tail_ = 0;
    overflow_ = mem_fault_ = false;
  }
  enabled_ = en;
  ie_ = v & reg::kQcsrIe;
  if (v & reg::kQcsrOf) overflow_ = false;
  if (v & reg::kQcsrMf) mem_fault_ = false;
}

uint32_t OutputQueue::csr() const {
  return (enabled_ ? reg::kQcsrEn | reg::kQcsrOn : 0u) | (ie_ ? reg::kQcsrIe : 0u) |
         (mem_fault_ ? reg::kQcsrMf : 0u) | (overflow_ ? reg::kQcsrOf : 0u);
}

bool OutputQueue::interrupts_enabled() const {
  return ie_;
}

void OutputQueue::push(const Record& r, const sc_time& delay, std::function<void(Loss)> lost) {
  writer_.push(Pending{r, std::move(lost)}, delay);
}

void OutputQueue::drop(const Pending& p, Loss why) {
  if (why == Loss::kOff) {
    discarded_.inc();
  } else {
    lost_.inc();
  }
  if (p.lost) p.lost(why);
}

std::optional<uint64_t> OutputQueue::place(const Pending& p) {
  if (!enabled_) {
    drop(p, Loss::kOff);
    return std::nullopt;
  }
  if (overflow_ || mem_fault_) {
    drop(p, Loss::kOverflow);
    return std::nullopt;
  }
  if (queue_full(head_, tail_, log2_)) {
    overflow_ = true;
    if (hooks_.irq) hooks_.irq();
    drop(p, Loss::kOverflow);
    return std::nullopt;
  }
  return base_ + uint64_t{tail_} * record_bytes_;
}

unsigned OutputQueue::encode(const Pending& p, uint8_t* bytes) const {
  for (unsigned i = 0; i < record_bytes_; ++i) {
    bytes[i] = static_cast<uint8_t>(p.record[i / 8] >> (8 * (i % 8)));
  }
  return record_bytes_;
}

}  // namespace iosim::riscv

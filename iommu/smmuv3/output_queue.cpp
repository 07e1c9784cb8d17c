// OutputQueue: event and PRI queue entries written to memory, with overflow.
#include "iommu/smmuv3/output_queue.h"

#include <algorithm>

#include "iommu/smmuv3/sw_interface.h"

namespace iosim::smmuv3 {

using sc_core::sc_time;

OutputQueue::OutputQueue(sc_core::sc_module_name name, SimContext& ctx, unsigned entry_bytes,
                         unsigned max_log2size, const sc_time& write_latency, MemoryPort& mem,
                         Hooks hooks)
    : sc_module(name),
      entry_bytes_(entry_bytes),
      max_log2size_(max_log2size),
      hooks_(std::move(hooks)),
      written_(ctx.stats().group(*this).counter("written", "entries", "entries written")),
      lost_(ctx.stats().group(*this).counter("lost", "entries",
                                             "entries lost because the queue was full")),
      discarded_(ctx.stats().group(*this).counter("discarded", "entries",
                                                  "entries discarded: queue disabled")),
      depth_(ctx.stats().group(*this).average("queue_depth", "entries",
                                              "entries in the queue after each write")),
      latency_(
          ctx.stats().group(*this).histogram("write_latency", "entry arrival to entry written")),
      writer_(mem, write_latency,
              {[this](const Pending& p) { return place(p); },
               [this](const Pending& p, uint8_t* bytes) { return encode(p, bytes); },
               [this](const Pending&, const sc_time& arrival) {
                 written();
                 latency_.sample(sc_core::sc_time_stamp() - arrival);
                 if (hooks_.irq) hooks_.irq();
               }}) {}

void OutputQueue::write_base(uint64_t v) {
  base_reg_ = v;
  base_ = reg::kQBaseAddr.get(v) << reg::kQBaseAddr.lo;
  log2size_ = std::min<unsigned>(static_cast<unsigned>(reg::kQBaseLog2Size.get(v)), max_log2size_);
}

void OutputQueue::write_prod(uint32_t v) {
  if (!enabled_) prod_ = v & (position_mask() | kFlag);
}

void OutputQueue::push(const Entry& e, const sc_time& delay, std::function<void()> lost) {
  writer_.push(Pending{e, std::move(lost)}, delay);
}

void OutputQueue::drop(const Pending& p, bool overflow) {
  if (overflow) {
    lost_.inc();
    // 3.5.2: the overflow flag toggles when no overflow is active yet.
    if (!overflow_active()) prod_ ^= kFlag;
    if (hooks_.irq) hooks_.irq();
  } else {
    discarded_.inc();
  }
  if (p.lost) p.lost();
}

std::optional<uint64_t> OutputQueue::place(const Pending& p) {
  if (!enabled_) {
    drop(p, false);
    return std::nullopt;
  }
  if (queue_full(prod_, cons_, log2size_)) {
    drop(p, true);
    return std::nullopt;
  }
  return base_ + queue_entry_offset(prod_, log2size_, entry_bytes_);
}

unsigned OutputQueue::encode(const Pending& p, uint8_t* bytes) const {
  for (unsigned i = 0; i < entry_bytes_; ++i) {
    bytes[i] = static_cast<uint8_t>(p.entry[i / 8] >> (8 * (i % 8)));
  }
  return entry_bytes_;
}

void OutputQueue::written() {
  prod_ = queue_next(prod_, log2size_);
  written_.inc();
  if (hooks_.written) hooks_.written();
  depth_.sample(static_cast<double>(queue_used(prod_, cons_, log2size_)));
}

}  // namespace iosim::smmuv3

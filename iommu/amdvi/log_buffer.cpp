// LogBuffer: event and PPR log entries written to memory, with overflow.
#include "iommu/amdvi/log_buffer.h"

#include "iommu/amdvi/sw_interface.h"

namespace iosim::amdvi {

using sc_core::sc_time;

LogBuffer::LogBuffer(sc_core::sc_module_name name, SimContext& ctx, const sc_time& write_latency,
                     MemoryPort& mem, Hooks hooks)
    : sc_module(name),
      hooks_(std::move(hooks)),
      written_(ctx.stats().group(*this).counter("written", "entries", "entries written")),
      lost_(ctx.stats().group(*this).counter("lost", "entries",
                                             "entries lost because the log was full")),
      discarded_(ctx.stats().group(*this).counter("discarded", "entries",
                                                  "entries discarded: log not running")),
      depth_(ctx.stats().group(*this).average("log_depth", "entries",
                                              "entries in the log after each write")),
      latency_(
          ctx.stats().group(*this).histogram("write_latency", "entry arrival to entry written")),
      writer_(mem, write_latency,
              {[this](const Pending& p) { return place(p); },
               [](const Pending& p, uint8_t* bytes) {
                 for (unsigned i = 0; i < 16; ++i) {
                   bytes[i] = static_cast<uint8_t>(p.entry[i / 8] >> (8 * (i % 8)));
                 }
                 return 16u;
               },
               [this](const Pending&, const sc_time& arrival) {
                 tail_ = ring_next(tail_, bytes_);
                 written_.inc();
                 depth_.sample(static_cast<double>(ring_used(head_, tail_, bytes_)));
                 latency_.sample(sc_core::sc_time_stamp() - arrival);
                 if (hooks_.written) hooks_.written();
               }}) {}

void LogBuffer::write_base(uint64_t v) {
  base_reg_ = v;
  base_ = v & reg::kBaseAddr.mask();
  bytes_ = ring_bytes(static_cast<unsigned>(reg::kBaseLen.get(v)));
  head_ %= bytes_;
  tail_ %= bytes_;
}

void LogBuffer::write_head(uint64_t v) {
  head_ = (v & reg::kPointer.mask()) % bytes_;
}

void LogBuffer::write_tail(uint64_t v) {
  if (!enabled_) tail_ = (v & reg::kPointer.mask()) % bytes_;
}

void LogBuffer::set_enabled(bool on) {
  if (on && !enabled_) running_ = true;
  if (!on) running_ = false;
  enabled_ = on;
}

void LogBuffer::push(const Entry& e, const sc_time& delay, std::function<void()> lost) {
  writer_.push(Pending{e, std::move(lost)}, delay);
}

void LogBuffer::drop(const Pending& p, bool overflow) {
  if (overflow) {
    lost_.inc();
    running_ = false;
    if (hooks_.overflow) hooks_.overflow();
  } else {
    discarded_.inc();
  }
  if (p.lost) p.lost();
}

std::optional<uint64_t> LogBuffer::place(const Pending& p) {
  if (!running_) {
    drop(p, false);
    return std::nullopt;
  }
  if (ring_full(head_, tail_, bytes_)) {
    drop(p, true);
    return std::nullopt;
  }
  return base_ + tail_;
}

}  // namespace iosim::amdvi

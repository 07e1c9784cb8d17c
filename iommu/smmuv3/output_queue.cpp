// OutputQueue: event and PRI queue entries written to memory, with overflow.
#include "iommu/smmuv3/output_queue.h"

#include <algorithm>

#include "iommu/smmuv3/sw_interface.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/local_time.h"

namespace iosim::smmuv3 {

using sc_core::sc_time;

OutputQueue::OutputQueue(sc_core::sc_module_name name, SimContext& ctx, unsigned entry_bytes,
                         unsigned max_log2size, const sc_time& write_latency, MemoryPort& mem,
                         Hooks hooks)
    : sc_module(name),
      entry_bytes_(entry_bytes),
      max_log2size_(max_log2size),
      write_latency_(write_latency),
      mem_(mem),
      hooks_(std::move(hooks)),
      written_(ctx.stats().group(*this).counter("written", "entries", "entries written")),
      lost_(ctx.stats().group(*this).counter("lost", "entries",
                                             "entries lost because the queue was full")),
      discarded_(ctx.stats().group(*this).counter("discarded", "entries",
                                                  "entries discarded: queue disabled")),
      depth_(ctx.stats().group(*this).average("queue_depth", "entries",
                                              "entries in the queue after each write")),
      latency_(
          ctx.stats().group(*this).histogram("write_latency", "entry arrival to entry written")) {
  spawn_method_on(wake_, "step", [this] { step(); });
}

void OutputQueue::write_base(uint64_t v) {
  base_reg_ = v;
  base_ = reg::kQBaseAddr.get(v) << reg::kQBaseAddr.lo;
  log2size_ = std::min<unsigned>(static_cast<unsigned>(reg::kQBaseLog2Size.get(v)), max_log2size_);
}

void OutputQueue::write_prod(uint32_t v) {
  if (!enabled_) prod_ = v & (position_mask() | kFlag);
}

void OutputQueue::push(const Entry& e, const sc_time& delay, std::function<void()> lost) {
  arrivals_.push_back({sc_core::sc_time_stamp() + delay, e, std::move(lost)});
  if (phase_ == Phase::kIdle) {
    phase_ = Phase::kTake;
    wake_at(arrivals_.front().time);
  }
}

void OutputQueue::wake_at(const sc_time& t) {
  const sc_time now = sc_core::sc_time_stamp();
  wake_.notify(t > now ? t - now : sc_core::SC_ZERO_TIME);
}

void OutputQueue::step() {
  switch (phase_) {
    case Phase::kTake:
      take();
      break;
    case Phase::kWrite:
      write(sc_core::SC_ZERO_TIME);
      break;
    case Phase::kDone:
      complete();
      break;
    case Phase::kIdle:
      break;
  }
}

void OutputQueue::next() {
  if (arrivals_.empty()) {
    phase_ = Phase::kIdle;
    return;
  }
  phase_ = Phase::kTake;
  if (arrivals_.front().time > sc_core::sc_time_stamp()) {
    wake_at(arrivals_.front().time);
  } else {
    take();
  }
}

void OutputQueue::drop(const Arrival& a, bool overflow) {
  if (overflow) {
    lost_.inc();
    // 3.5.2: the overflow flag toggles when no overflow is active yet.
    if (!overflow_active()) prod_ ^= kFlag;
    if (hooks_.irq) hooks_.irq();
  } else {
    discarded_.inc();
  }
  if (a.lost) a.lost();
}

void OutputQueue::take() {
  current_ = arrivals_.front();
  arrivals_.pop_front();
  if (!enabled_) {
    drop(current_, false);
    next();
    return;
  }
  if (queue_full(prod_, cons_, log2size_)) {
    drop(current_, true);
    next();
    return;
  }
  phase_ = Phase::kWrite;
  // Formatting, then the write at its own time (issued ahead when no other process
  // can run before it: Timing::may_keep, as PageRequestQueue does).
  if (write_latency_ == sc_core::SC_ZERO_TIME || mem_.timing().may_keep(write_latency_)) {
    write(write_latency_);
  } else {
    wake_.notify(write_latency_);
  }
}

void OutputQueue::write(const sc_time& ahead) {
  uint8_t bytes[32] = {};
  for (unsigned i = 0; i < entry_bytes_; ++i) {
    bytes[i] = static_cast<uint8_t>(current_.entry[i / 8] >> (8 * (i % 8)));
  }
  sc_time d = ahead;
  {
    const Timing::KeepAhead scope(mem_.timing());
    mem_.write(base_ + queue_entry_offset(prod_, log2size_, entry_bytes_), bytes, entry_bytes_, d);
  }
  phase_ = Phase::kDone;
  if (d > sc_core::SC_ZERO_TIME) {
    wake_.notify(d);
  } else {
    complete();
  }
}

void OutputQueue::complete() {
  prod_ = queue_next(prod_, log2size_);
  written_.inc();
  if (hooks_.written) hooks_.written();
  depth_.sample(static_cast<double>(queue_used(prod_, cons_, log2size_)));
  latency_.sample(sc_core::sc_time_stamp() - current_.time);
  if (hooks_.irq) hooks_.irq();
  next();
}

}  // namespace iosim::smmuv3

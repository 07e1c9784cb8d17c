// PageRequestQueue: page request descriptors written to memory, with overflow.
#include "iommu/vtd/page_request_queue.h"

#include "sc_models/timing/local_time.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"
#include "sc_models/sim/spawn.h"

namespace iosim {

using sc_core::sc_time;

PageRequestQueue::PageRequestQueue(sc_core::sc_module_name name, SimContext& ctx,
                                   const PageRequestQueueConfig& cfg, MemoryPort& mem)
    : sc_module(name),
      cfg_(cfg),
      mem_(mem),
      written_(ctx.stats().group(*this).counter("written", "requests",
                                                "page requests written to the queue")),
      overflows_(ctx.stats().group(*this).counter(
          "overflows", "requests", "page requests dropped because the queue was full")),
      auto_responses_(ctx.stats().group(*this).counter(
          "auto_responses", "messages", "PRG responses sent by the IOMMU on overflow")),
      pri_disabled_(ctx.stats().group(*this).counter("pri_disabled", "requests",
                                                     "page requests from ports with PRI disabled")),
      depth_(ctx.stats().group(*this).average("queue_depth", "descriptors",
                                              "descriptors in the queue after each write")),
      latency_(ctx.stats().group(*this).histogram("write_latency",
                                                  "page request arrival to descriptor written")) {
  write_latency_ = ns(cfg_.write_latency_ns);
  spawn_method_on(wake_, "step", [this] { step(); });
}

void PageRequestQueue::write_pqa(uint64_t v) {
  base_ = v & kPageMask;
  pqs_ = v & 0x7;
  head_ = tail_ = 0;
}

void PageRequestQueue::write_prs(uint64_t w1c) {
  if (w1c & 1) ppr_ = false;
  if (w1c & 2) pro_ = false;
}

void PageRequestQueue::on_request(RootPort& port, const PageRequestDesc& d, const sc_time& delay) {
  arrivals_.push_back({sc_core::sc_time_stamp() + delay, &port, d});
  if (phase_ == Phase::kIdle) {
    phase_ = Phase::kTake;
    wake_at(arrivals_.front().time);
  }
}

void PageRequestQueue::wake_at(const sc_time& t) {
  // Even at the current time: the request is taken in a later delta cycle, as a
  // thread woken by the arrival would.
  const sc_time now = sc_core::sc_time_stamp();
  wake_.notify(t > now ? t - now : sc_core::SC_ZERO_TIME);
}

void PageRequestQueue::step() {
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

void PageRequestQueue::next() {
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

void PageRequestQueue::take() {
  current_ = arrivals_.front();
  arrivals_.pop_front();
  if (!current_.port->config().pri_enabled) {
    pri_disabled_.inc();
    next();
    return;
  }
  const uint64_t entries = size_bytes() / PageRequestDesc::kBytes;
  const uint64_t next_index = (tail_ / PageRequestDesc::kBytes + 1) % entries;
  if (pro_ || next_index == head_ / PageRequestDesc::kBytes) {
    overflow(current_);
    next();
    return;
  }
  phase_ = Phase::kWrite;
  // Formatting, then the write at its own time; issued now, ahead by the formatting
  // time, when no other process can run before it ends (Timing::may_keep): the
  // memory takes the write at sc_time_stamp() + its delay, and nothing here wakes
  // another process before the completion's timed notification.
  if (write_latency_ == sc_core::SC_ZERO_TIME || mem_.timing().may_keep(write_latency_)) {
    write(write_latency_);
  } else {
    wake_.notify(write_latency_);
  }
}

void PageRequestQueue::write(const sc_time& ahead) {
  uint64_t q[4];
  current_.desc.encode(q);
  uint8_t bytes[PageRequestDesc::kBytes];
  for (unsigned i = 0; i < PageRequestDesc::kBytes; ++i) {
    bytes[i] = static_cast<uint8_t>(q[i / 8] >> (8 * (i % 8)));
  }
  sc_time d = ahead;
  {
    const Timing::KeepAhead scope(mem_.timing());  // the port keeps `ahead` (take() asked may_keep)
    mem_.write(base_ + tail_, bytes, PageRequestDesc::kBytes, d);
  }
  phase_ = Phase::kDone;
  if (d > sc_core::SC_ZERO_TIME) {
    wake_.notify(d);  // the descriptor is in place when the write completes
  } else {
    complete();
  }
}

void PageRequestQueue::complete() {
  const uint64_t entries = size_bytes() / PageRequestDesc::kBytes;
  tail_ = (tail_ / PageRequestDesc::kBytes + 1) % entries * PageRequestDesc::kBytes;
  ppr_ = true;
  written_.inc();
  const uint64_t depth = (tail_ + size_bytes() - head_) % size_bytes() / PageRequestDesc::kBytes;
  depth_.sample(static_cast<double>(depth));
  latency_.sample(sc_core::sc_time_stamp() - current_.time);
  event_.notify(sc_core::SC_ZERO_TIME);
  next();
}

void PageRequestQueue::overflow(const Arrival& a) {
  pro_ = true;
  overflows_.inc();
  event_.notify(sc_core::SC_ZERO_TIME);
  if (!a.desc.lpig || a.desc.is_stop_marker()) return;
  PrgResponse r;
  r.destination_id = a.desc.rid;
  r.prg_index = a.desc.prg_index;
  r.code = cfg_.overflow_response;
  if (a.desc.pasid_present) r.pasid = PasidPrefix::with(a.desc.pasid);
  PcieExtension ext = PcieExtension::message(0, r);
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_data_ptr(nullptr);
  gp.set_data_length(0);
  gp.set_streaming_width(0);
  gp.set_extension(&ext);
  a.port->send(gp, sc_core::SC_ZERO_TIME);
  gp.clear_extension(&ext);
  auto_responses_.inc();
}

}  // namespace iosim

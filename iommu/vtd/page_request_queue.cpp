// PageRequestQueue: page request descriptors written to memory, with overflow.
#include "iommu/vtd/page_request_queue.h"

#include "sc_models/memory/page_size.h"
#include "sc_models/pcie/pcie_ext.h"

namespace iosim {

using sc_core::sc_time;

PageRequestQueue::PageRequestQueue(sc_core::sc_module_name name, SimContext& ctx,
                                   const PageRequestQueueConfig& cfg, MemoryPort& mem)
    : sc_module(name),
      cfg_(cfg),
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
                                                  "page request arrival to descriptor written")),
      writer_(mem, ns(cfg_.write_latency_ns),
              {[this](const Request& r) { return place(r); },
               [](const Request& r, uint8_t* bytes) {
                 uint64_t q[4];
                 r.desc.encode(q);
                 for (unsigned i = 0; i < PageRequestDesc::kBytes; ++i) {
                   bytes[i] = static_cast<uint8_t>(q[i / 8] >> (8 * (i % 8)));
                 }
                 return PageRequestDesc::kBytes;
               },
               [this](const Request&, const sc_time& arrival) { written(arrival); }}) {}

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
  writer_.push(Request{&port, d}, delay);
}

std::optional<uint64_t> PageRequestQueue::place(const Request& r) {
  if (!r.port->config().pri_enabled) {
    pri_disabled_.inc();
    return std::nullopt;
  }
  const uint64_t entries = size_bytes() / PageRequestDesc::kBytes;
  const uint64_t next_index = (tail_ / PageRequestDesc::kBytes + 1) % entries;
  if (pro_ || next_index == head_ / PageRequestDesc::kBytes) {
    overflow(r);
    return std::nullopt;
  }
  return base_ + tail_;
}

void PageRequestQueue::written(const sc_time& arrival) {
  const uint64_t entries = size_bytes() / PageRequestDesc::kBytes;
  tail_ = (tail_ / PageRequestDesc::kBytes + 1) % entries * PageRequestDesc::kBytes;
  ppr_ = true;
  written_.inc();
  const uint64_t depth = (tail_ + size_bytes() - head_) % size_bytes() / PageRequestDesc::kBytes;
  depth_.sample(static_cast<double>(depth));
  latency_.sample(sc_core::sc_time_stamp() - arrival);
  event_.notify(sc_core::SC_ZERO_TIME);
}

void PageRequestQueue::overflow(const Request& a) {
  pro_ = true;
  overflows_.inc();
  event_.notify(sc_core::SC_ZERO_TIME);
  if (!a.desc.lpig || a.desc.is_stop_marker()) return;
  PrgResponse r;
  r.destination_id = a.desc.rid;
  r.prg_index = a.desc.prg_index;
  r.code = cfg_.overflow_response;
  if (a.desc.pasid_present) r.pasid = PasidPrefix::with(a.desc.pasid);
  a.port->send_message(PcieExtension::message(0, r), sc_core::SC_ZERO_TIME);
  auto_responses_.inc();
}

}  // namespace iosim

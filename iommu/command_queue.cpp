// CommandQueue: queued invalidation processing, ITags and inv_wait.
#include "iommu/command_queue.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "iommu/stat_names.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"
#include "sc_models/sim/spawn.h"

namespace iosim {

using sc_core::sc_time;

CommandQueue::CommandQueue(sc_core::sc_module_name name, SimContext& ctx,
                           const CommandQueueConfig& cfg, Parts p)
    : sc_module(name),
      cfg_(cfg),
      p_(std::move(p)),
      stats_(ctx.stats().group(*this)),
      atc_latency_(
          stats_.histogram("atc_inv_latency", "ATC Invalidate Request sent to its completion")),
      itag_occupancy_(stats_.average("itag_occupancy", "ITags",
                                     "ITags in flight on the port after each allocation")),
      queue_depth_(stats_.average("queue_depth", "descriptors",
                                  "descriptors pending after each tail write")),
      failed_waits_(stats_.counter(CommandQueueStats::kFailedWaits, "commands",
                                   "inv_wait commands failed after an ITag timeout")),
      timeouts_(stats_.counter(CommandQueueStats::kItagTimeouts, "requests",
                               "ATC invalidations timed out")),
      stale_completions_(stats_.counter("stale_completions", "messages",
                                        "Invalidate Completions for ITags not in flight")),
      bad_descriptors_(
          stats_.counter("bad_descriptors", "descriptors", "descriptors rejected (FSTS.IQE)")),
      backpressure_stalls_(stats_.counter("itag_backpressure_stalls", "commands",
                                          "dev-TLB commands that waited for a free ITag")),
      no_port_(stats_.counter("no_port", "commands",
                              "device commands for a Requester ID without a root port")) {
  fetch_latency_ = ns(cfg_.fetch_latency_ns);
  process_latency_ = ns(cfg_.process_latency_ns);
  itag_timeout_time_ = ns(cfg_.itag_timeout_ns);
  sc_core::sc_spawn([this] { run(); }, "run");
  spawn_method_on(arrival_event_, "deliver_completions", [this] { deliver_completions(); });
  spawn_method_on(itag_timeout_, "on_itag_timeout", [this] { on_itag_timeout(); });
}

void CommandQueue::on_itag_timeout() {
  itag_done_.notify();
}

CommandQueue::TypeStats& CommandQueue::stats_of(InvType t) {
  TypeStats& s = type_stats_[static_cast<uint8_t>(t) & 15];
  if (s.count) return s;
  const std::string n = to_string(t);
  s = TypeStats{&stats_.counter(n + CommandQueueStats::kKindCountSuffix, "commands",
                                "commands of this type executed"),
                &stats_.histogram(n + CommandQueueStats::kKindLatencySuffix,
                                  "fetch start to command completion")};
  return s;
}

void CommandQueue::write_iqa(uint64_t v) {
  base_ = v & kPageMask;
  qs_ = v & 0x7;
  head_ = tail_ = 0;
}

void CommandQueue::write_iqt(uint64_t v) {
  tail_ = (v & 0x7fff0) % size_bytes();
  const uint64_t pending = (tail_ + size_bytes() - iqh()) % size_bytes();
  queue_depth_.sample(static_cast<double>(pending / 16));
  tail_written_.notify(sc_core::SC_ZERO_TIME);
}

void CommandQueue::run() {
  // Root ports are added during elaboration only (Iommu::add_root_port).
  ports_ = p_.ports();
  // Time this thread is ahead of the kernel: a command's execution time is kept as
  // annotated delay where that is exact (Timing::KeepAhead); the next command
  // starts from there.
  sc_time d = sc_core::SC_ZERO_TIME;
  for (;;) {
    // Only commands other than the last one written are carried over, so a thread
    // that is ahead always has a command to execute.
    assert(d == sc_core::SC_ZERO_TIME || head_ != tail_);
    if (d == sc_core::SC_ZERO_TIME) {
      while (head_ == tail_) sc_core::wait(tail_written_);
    }
    const Timing::KeepAhead keep_ahead(p_.mem.timing());
    const sc_time t0 = sc_core::sc_time_stamp() + d;
    uint8_t b[16] = {};
    const bool ok = p_.mem.read(base_ + head_, b, 16, d);
    d += fetch_latency_;
    Desc128 raw;
    for (int i = 7; i >= 0; --i) {
      raw.qw0 = (raw.qw0 << 8) | b[i];
      raw.qw1 = (raw.qw1 << 8) | b[8 + i];
    }
    try {
      if (!ok) throw DescriptorError("descriptor fetch failed");
      const InvType type = descriptor_type(raw);
      execute(raw, d);
      const sc_time end = sc_core::sc_time_stamp() + d;
      if (last_command()) {
        wait_now(d);  // the processor then waits for software
      } else {
        p_.mem.sync(d);  // may leave d annotated
      }
      TypeStats& s = stats_of(type);
      s.count->inc();
      s.latency->sample(end - t0);
    } catch (const DescriptorError&) {
      // Rejected at the fetch start (t0), as when every delay is waited for: the
      // fault is notified there, then the rest of the delay passes.
      const sc_time end = sc_core::sc_time_stamp() + d;
      if (t0 > sc_core::sc_time_stamp()) p_.mem.wait(t0 - sc_core::sc_time_stamp());
      iqe_ = true;
      bad_descriptors_.inc();
      p_.fault_event.notify(sc_core::SC_ZERO_TIME);
      d = end - sc_core::sc_time_stamp();
      wait_now(d);
    }
    head_ = (head_ + 16) % size_bytes();
    ++processed_;
  }
}

void CommandQueue::wait_now(sc_time& d) {
  if (d > sc_core::SC_ZERO_TIME) p_.mem.wait(d);
  d = sc_core::SC_ZERO_TIME;
}

void CommandQueue::execute(const Desc128& raw, sc_time& d) {
  d += process_latency_;
  switch (descriptor_type(raw)) {
    case InvType::kContextCache: {
      const auto c = ContextCacheInv::decode(raw);
      if (c.granularity == ContextCacheInv::kDevice) {
        p_.tables.invalidate_context_device(c.sid);
      } else {
        p_.tables.invalidate_context_all();
      }
      break;
    }
    case InvType::kPasidCache: {
      const auto c = PasidCacheInv::decode(raw);
      if (c.granularity == PasidCacheInv::kGlobal) {
        p_.tables.invalidate_pasid_all();
      } else if (c.granularity == PasidCacheInv::kDomain) {
        p_.tables.invalidate_pasid_domain(c.did);
      } else {
        p_.tables.invalidate_pasid(c.did, c.pasid);
      }
      break;
    }
    case InvType::kIotlb:
      iotlb_inv(IotlbInv::decode(raw));
      break;
    case InvType::kPasidIotlb:
      pasid_iotlb_inv(PasidIotlbInv::decode(raw));
      break;
    case InvType::kDevTlb:
    case InvType::kPasidDevTlb:
      dev_tlb_inv(DevTlbInv::decode(raw), d);
      break;
    case InvType::kInvWait:
      inv_wait(InvWait::decode(raw), d);
      break;
    case InvType::kPageGroupResponse:
      page_group_response(PageGroupResponseDesc::decode(raw), d);
      break;
  }
}

namespace {
uint64_t range_last(uint64_t addr, uint8_t am) {
  if (am > 52) throw DescriptorError("invalidation: address mask above 52");
  const uint64_t size = kPageBytes << am;
  if (addr & (size - 1)) throw DescriptorError("invalidation: address not aligned to 2^AM pages");
  return addr + size - 1;
}
}  // namespace

void CommandQueue::iotlb_inv(const IotlbInv& c) {
  if (c.granularity == IotlbInv::kGlobal) {
    p_.iotlb.cache().invalidate_all();
    p_.walker.invalidate_all();
    return;
  }
  const uint64_t first = c.granularity == IotlbInv::kPage ? c.addr : 0;
  const uint64_t last = c.granularity == IotlbInv::kPage ? range_last(c.addr, c.am) : ~0ull;
  for (uint16_t rid : p_.tables.rids_of_domain(c.did)) {
    TagFilter f;
    f.domain = rid;
    p_.iotlb.cache().invalidate(f, first, last);
    if (!(c.granularity == IotlbInv::kPage && c.ih)) p_.walker.invalidate(f, first, last);
  }
}

void CommandQueue::pasid_iotlb_inv(const PasidIotlbInv& c) {
  const bool page = c.granularity == PasidIotlbInv::kPage;
  const uint64_t first = page ? c.addr : 0;
  const uint64_t last = page ? range_last(c.addr, c.am) : ~0ull;
  for (uint16_t rid : p_.tables.rids_of_domain(c.did)) {
    TagFilter f;
    f.domain = rid;
    f.pasid = c.pasid;
    // PASID-selective keeps global entries; page-selective removes them too.
    f.global = page ? GlobalEntries::kRemove : GlobalEntries::kKeep;
    p_.iotlb.cache().invalidate(f, first, last);
    if (!(page && c.ih)) p_.walker.invalidate(f, first, last);
  }
}

void CommandQueue::dev_tlb_inv(const DevTlbInv& c, sc_time& d) {
  RootPort* port = p_.port_of(c.sid);
  if (!port) {
    no_port_.inc();
    return;
  }
  InvalidateRequest req;
  req.destination_id = c.sid;
  if (c.pasid_based) req.pasid = PasidPrefix::with(c.pasid);
  try {
    req.range = decode_s_range(c.addr, c.s);
  } catch (const PcieEncodingError& e) {
    throw DescriptorError(std::string("dev-TLB invalidation: ") + e.what());
  }
  req.global_invalidate = c.pasid_based && c.global;
  if (!port->can_issue()) {
    backpressure_stalls_.inc();
    wait_until([port] { return port->can_issue(); }, d);
  }
  p_.mem.sync(d);  // may leave d annotated: the request is sent at now + d
  req.itag = port->allocate_itag(sc_core::sc_time_stamp() + d, itag_timeout_time_);
  deadline_bound_ = std::min(deadline_bound_, port->itag(req.itag).deadline);
  itag_occupancy_.sample(port->itags_in_flight());
  send_message(*port, PcieExtension::message(0, req), d);
}

void CommandQueue::send_message(RootPort& port, PcieExtension ext, const sc_time& delay) {
  // One payload reused (constructing one allocates its extension array): only this
  // thread sends, and the send returns before the next.
  tlm::tlm_generic_payload& gp = message_gp_;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(0);
  gp.set_data_ptr(nullptr);
  gp.set_data_length(0);
  gp.set_streaming_width(0);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_extension(&ext);
  port.send(gp, delay);
  gp.clear_extension(&ext);
}

bool CommandQueue::any_itag_busy() const {
  for (RootPort* port : ports_) {
    if (port->itags_in_flight() > 0) return true;
  }
  return false;
}

void CommandQueue::expire_itags() {
  const sc_time now = sc_core::sc_time_stamp();
  if (now < deadline_bound_) return;  // no ITag can have expired
  for (RootPort* port : ports_) {
    port->for_each_busy_itag([&](uint8_t i, const RootPort::Itag& t) {
      if (t.deadline > now) return;
      port->free_itag(i);
      timeouts_.inc();
      ite_ = true;
      failed_pending_ = true;
      p_.fault_event.notify(sc_core::SC_ZERO_TIME);
    });
  }
}

template <class Done>
void CommandQueue::wait_until(const Done& done, sc_time& d) {
  // The condition is checked from `ready` (after the pending delay) on. When it does
  // not hold yet, the wait for the pending delay and the wait for a completion or a
  // deadline are one wait unless a completion arrives before `ready`.
  const sc_time ready = sc_core::sc_time_stamp() + d;
  d = sc_core::SC_ZERO_TIME;
  for (;;) {
    const sc_time now = sc_core::sc_time_stamp();
    if (now >= ready) {
      expire_itags();
      if (done()) return;
    } else if (done()) {
      p_.mem.wait(ready - now);  // ITags only become busy on this thread
      continue;
    }
    sc_time earliest = sc_core::SC_ZERO_TIME;
    bool any = false;
    for (RootPort* port : ports_) {
      port->for_each_busy_itag([&](uint8_t, const RootPort::Itag& t) {
        if (!any || t.deadline < earliest) earliest = t.deadline;
        any = true;
      });
    }
    deadline_bound_ = any ? earliest : sc_core::sc_max_time();
    // Deadlines are acted on from `ready` on, as when the delay was waited for first.
    if (any) itag_timeout_.notify(std::max(earliest, ready) - now);
    // Completions already on their way wake this thread when they arrive (those
    // announced to the method are taken by whichever runs first).
    if (!arrivals_.empty()) itag_done_.notify(std::max(arrivals_.begin()->first, now) - now);
    waiting_for_itags_ = true;
    p_.mem.wait(itag_done_);
    waiting_for_itags_ = false;
    take_arrivals();
  }
}

void CommandQueue::inv_wait(const InvWait& c, sc_time& d) {
  wait_until([this] { return !any_itag_busy(); }, d);
  if (failed_pending_) {
    failed_pending_ = false;
    failed_waits_.inc();
    p_.fault_event.notify(sc_core::SC_ZERO_TIME);
    return;
  }
  if (c.status_write) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(c.status_data >> (8 * i));
    p_.mem.write(c.status_addr, b, 4, d);
  }
  if (c.interrupt) {
    wait_now(d);  // the notification wakes the driver: the kernel must be there
    iwc_ = true;
    wait_event_.notify(sc_core::SC_ZERO_TIME);
  }
}

void CommandQueue::page_group_response(const PageGroupResponseDesc& c, sc_time& d) {
  RootPort* port = p_.port_of(c.rid);
  if (!port) {
    no_port_.inc();
    return;
  }
  PrgResponse r;
  r.destination_id = c.rid;
  r.prg_index = c.prg_index;
  try {
    r.code = PrgResponse::decode_header(uint32_t{c.response_code} << 12).code;
  } catch (const PcieEncodingError&) {
    throw DescriptorError("page group response: reserved response code " +
                          std::to_string(c.response_code));
  }
  if (c.pasid_present) r.pasid = PasidPrefix::with(c.pasid);
  p_.mem.sync(d);  // may leave d annotated: the response is sent at now + d
  send_message(*port, PcieExtension::message(0, r), d);
}

void CommandQueue::on_invalidate_completion(RootPort& port, const InvalidateCompletion& c,
                                            const sc_time& delay) {
  arrivals_.emplace(sc_core::sc_time_stamp() + delay, Arrival{&port, c});
  // A processor waiting for ITags takes the completion itself when it arrives (one
  // activation instead of the method's and then its own); otherwise the method does.
  if (waiting_for_itags_) {
    itag_done_.notify(delay);
  } else {
    arrival_event_.notify(delay);
  }
}

bool CommandQueue::take_arrivals() {
  const sc_time now = sc_core::sc_time_stamp();
  bool freed = false;
  while (!arrivals_.empty() && arrivals_.begin()->first <= now) {
    const Arrival a = arrivals_.begin()->second;
    arrivals_.erase(arrivals_.begin());
    for (uint32_t v = a.completion.itag_vector; v != 0; v &= v - 1) {
      const auto i = static_cast<uint8_t>(__builtin_ctz(v));  // lowest ITag first
      if (!a.port->itag(i).busy) {
        stale_completions_.inc();
        continue;
      }
      const sc_time issued = a.port->itag(i).issued;
      if (a.port->complete_itag(i, a.completion.completion_count)) {
        atc_latency_.sample(now - issued);
        freed = true;
      }
    }
  }
  return freed;
}

void CommandQueue::deliver_completions() {
  if (take_arrivals()) itag_done_.notify(sc_core::SC_ZERO_TIME);
  if (!arrivals_.empty())
    arrival_event_.notify(arrivals_.begin()->first - sc_core::sc_time_stamp());
}

}  // namespace iosim

// CommandQueue: queued invalidation processing, ITags and inv_wait.
#include "iommu/vtd/command_queue.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "iommu/stat_names.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;

CommandQueue::CommandQueue(sc_core::sc_module_name name, SimContext& ctx,
                           const CommandQueueConfig& cfg, Parts p)
    : sc_module(name),
      cfg_(cfg),
      p_(std::move(p)),
      stats_(ctx.stats().group(*this)),
      atc_(stats_, p_.mem, ns(cfg_.itag_timeout_ns),
           [this](RootPort&, uint8_t) {
             ite_ = true;
             p_.fault_event.notify(sc_core::SC_ZERO_TIME);
           }),
      kinds_(stats_),
      queue_depth_(stats_.average("queue_depth", "descriptors",
                                  "descriptors pending after each tail write")),
      failed_waits_(stats_.counter(CommandQueueStats::kFailedWaits, "commands",
                                   "inv_wait commands failed after an ITag timeout")),
      bad_descriptors_(
          stats_.counter("bad_descriptors", "descriptors", "descriptors rejected (FSTS.IQE)")),
      no_port_(stats_.counter("no_port", "commands",
                              "device commands for a Requester ID without a root port")) {
  fetch_latency_ = ns(cfg_.fetch_latency_ns);
  process_latency_ = ns(cfg_.process_latency_ns);
  sc_core::sc_spawn([this] { run(); }, "run");
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
  atc_.set_ports(p_.ports());
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
      kinds_.record(
          static_cast<uint8_t>(type), [type] { return std::string(to_string(type)); }, end - t0);
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
  atc_.issue(*port, req, d);
}

void CommandQueue::inv_wait(const InvWait& c, sc_time& d) {
  atc_.wait_all(d);
  if (atc_.take_failure()) {
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
  port->send_message(PcieExtension::message(0, r), d);
}

}  // namespace iosim

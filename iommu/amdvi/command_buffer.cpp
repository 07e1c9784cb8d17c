// CommandBuffer: AMD-Vi command fetch, execution, COMPLETION_WAIT and command errors.
#include "iommu/amdvi/command_buffer.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "iommu/amdvi/sw_interface.h"
#include "iommu/overloaded.h"
#include "iommu/stat_names.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::amdvi {

using sc_core::sc_time;

namespace {
// COMPLETE_PPR_REQUEST Status as the PCIe PRG Response code (PCIe 6.0, 10.4.2).
PrgResponseCode prg_code(uint8_t status) {
  switch (status) {
    case kPprStatusSuccess:
      return PrgResponseCode::kSuccess;
    case kPprStatusInvalidRequest:
      return PrgResponseCode::kInvalidRequest;
    default:
      return PrgResponseCode::kResponseFailure;
  }
}

}  // namespace

CommandBuffer::CommandBuffer(sc_core::sc_module_name name, SimContext& ctx,
                             const CommandQueueConfig& cfg, Parts p)
    : sc_module(name),
      cfg_(cfg),
      p_(std::move(p)),
      fetch_latency_(ns(cfg.fetch_latency_ns)),
      process_latency_(ns(cfg.process_latency_ns)),
      stats_(ctx.stats().group(*this)),
      atc_(stats_, p_.mem, ns(cfg.itag_timeout_ns),
           [this](RootPort& port, uint8_t itag) { on_timeout(port, itag); }),
      kinds_(stats_),
      queue_depth_(
          stats_.average("queue_depth", "commands", "commands pending after each tail write")),
      failed_waits_(stats_.counter(CommandQueueStats::kFailedWaits, "commands",
                                   "COMPLETION_WAITs failed (never: a time-out is logged as "
                                   "IOTLB_INV_TIMEOUT and the wait completes)")),
      waits_after_timeout_(stats_.counter("waits_after_timeout", "commands",
                                          "COMPLETION_WAITs that completed after an ATS "
                                          "invalidation timed out")),
      bad_commands_(stats_.counter("bad_commands", "commands",
                                   "commands refused (ILLEGAL_COMMAND_ERROR, fetch errors)")),
      no_port_(stats_.counter("no_port", "commands",
                              "INVALIDATE_IOTLB_PAGES / COMPLETE_PPR_REQUEST for a DeviceID "
                              "without a root port")) {
  sc_core::sc_spawn([this] { run(); }, "run");
}

void CommandBuffer::write_base(uint64_t v) {
  base_reg_ = v;
  base_ = v & reg::kBaseAddr.mask();
  bytes_ = ring_bytes(static_cast<unsigned>(reg::kBaseLen.get(v)));
  head_ %= bytes_;
  tail_ %= bytes_;
}

void CommandBuffer::write_head(uint64_t v) {
  if (!enabled_) head_ = (v & reg::kPointer.mask()) % bytes_;
}

void CommandBuffer::write_tail(uint64_t v) {
  tail_ = (v & reg::kPointer.mask()) % bytes_;
  queue_depth_.sample(static_cast<double>(ring_used(head_, tail_, bytes_)));
  wake_.notify(sc_core::SC_ZERO_TIME);
}

void CommandBuffer::set_enabled(bool on) {
  if (on && !enabled_) running_ = true;
  if (!on) running_ = false;
  enabled_ = on;
  wake_.notify(sc_core::SC_ZERO_TIME);
}

void CommandBuffer::run() {
  atc_.set_ports(p_.ports());  // root ports are added during elaboration only
  sc_time d = sc_core::SC_ZERO_TIME;
  for (;;) {
    // Only commands other than the last one written are carried over (d > 0).
    assert(d == sc_core::SC_ZERO_TIME || runnable());
    if (d == sc_core::SC_ZERO_TIME) {
      while (!runnable()) sc_core::wait(wake_);
    }
    const Timing::KeepAhead keep_ahead(p_.mem.timing());
    const sc_time t0 = sc_core::sc_time_stamp() + d;
    const uint64_t cmd_addr = base_ + head_;
    uint8_t b[kCmdBytes] = {};
    const bool ok = p_.mem.read(cmd_addr, b, kCmdBytes, d);
    d += fetch_latency_;
    if (!ok) {
      stop(EventCode::kCommandHardwareError, cmd_addr, d);
      continue;
    }
    CmdWords w{};
    for (int i = 7; i >= 0; --i) {
      w[0] = (w[0] << 8) | b[i];
      w[1] = (w[1] << 8) | b[8 + i];
    }
    try {
      const Command c = decode_command(w);
      execute(c, cmd_addr, d);
      const sc_time end = sc_core::sc_time_stamp() + d;
      if (last_command()) {
        wait_now(d);  // the processor then waits for software
      } else {
        p_.mem.sync(d);  // may leave d annotated
      }
      const Opcode op = opcode_of(c);
      kinds_.record(
          static_cast<uint8_t>(op), [op] { return std::string(kind_name(op)); }, end - t0);
    } catch (const DescriptorError&) {
      stop(EventCode::kIllegalCommandError, cmd_addr, d);
      continue;  // the head stays at the command
    }
    head_ = (head_ + 16) % bytes_;
    ++processed_;
  }
}

void CommandBuffer::stop(EventCode code, uint64_t cmd_addr, sc_time& d) {
  wait_now(d);  // the error is visible when the command has been fetched and decoded
  bad_commands_.inc();
  running_ = false;
  EventEntry e;
  e.code = code;
  e.address = cmd_addr;
  p_.log_event(e);
}

void CommandBuffer::wait_now(sc_time& d) {
  if (d > sc_core::SC_ZERO_TIME) p_.mem.wait(d);
  d = sc_core::SC_ZERO_TIME;
}

void CommandBuffer::execute(const Command& cmd, uint64_t cmd_addr, sc_time& d) {
  d += process_latency_;
  std::visit(
      Overloaded{
          [this, &d](const CompletionWait& c) { completion_wait(c, d); },
          [this](const InvalidateDevtabEntry& c) { p_.tables.invalidate_dte(c.device_id); },
          [this](const InvalidateIommuPages& c) { invalidate_pages(c); },
          [this, &d, cmd_addr](const InvalidateIotlbPages& c) { invalidate_iotlb(c, cmd_addr, d); },
          [](const InvalidateInterruptTable&) {},
          [this, &d](const CompletePprRequest& c) { complete_ppr(c, d); },
          [this](const InvalidateIommuAll&) {
            p_.iotlb.cache().invalidate_all();
            p_.walker.invalidate_all();
            p_.tables.invalidate_all();
          },
      },
      cmd);
}

void CommandBuffer::invalidate_pages(const InvalidateIommuPages& c) {
  const AtsRange r = covered_range(c.address, c.s);
  const uint64_t first = r.base;
  const uint64_t last = r.is_whole_space() ? ~0ull : r.last();
  TagFilter f;  // the domain's entries: those of every device with this DomainID
  f.domain = c.domain_id;
  if (c.gn) {
    f.pasid = c.pasid;
    f.global = GlobalEntries::kRemove;  // an address-based invalidation drops global entries
  }
  p_.iotlb.cache().invalidate(f, first, last);
  if (c.pde) {
    p_.walker.invalidate(f, first, last);
    p_.tables.invalidate_gcr3(c.domain_id, c.gn ? std::optional<uint32_t>(c.pasid) : std::nullopt);
  }
}

void CommandBuffer::invalidate_iotlb(const InvalidateIotlbPages& c, uint64_t cmd_addr, sc_time& d) {
  RootPort* port = p_.port_of(c.device_id);
  if (!port) {
    no_port_.inc();
    return;
  }
  InvalidateRequest req;
  req.destination_id = c.device_id;
  if (c.gn) req.pasid = PasidPrefix::with(c.pasid);
  req.range = covered_range(c.address, c.s);
  const uint8_t itag = atc_.issue(*port, req, d);
  issued_[{port, itag}] = Issued{c.device_id, cmd_addr};
}

// The request holding `itag` on `port` timed out: IOTLB_INV_TIMEOUT with its DeviceID
// and the address of its INVALIDATE_IOTLB_PAGES.
void CommandBuffer::on_timeout(RootPort& port, uint8_t itag) {
  timed_out_since_wait_ = true;
  EventEntry e;
  e.code = EventCode::kIotlbInvTimeout;
  const auto it = issued_.find({&port, itag});
  if (it != issued_.end()) {
    e.device_id = it->second.device_id;
    e.address = it->second.cmd_addr;
  }
  p_.log_event(e);
}

void CommandBuffer::complete_ppr(const CompletePprRequest& c, sc_time& d) {
  RootPort* port = p_.port_of(c.device_id);
  if (!port) {
    no_port_.inc();
    return;
  }
  PrgResponse r;
  r.destination_id = c.device_id;
  r.prg_index = c.tag;
  r.code = prg_code(c.status);
  if (c.gn) r.pasid = PasidPrefix::with(c.pasid);
  p_.mem.sync(d);  // may leave d annotated: the response is sent at now + d
  port->send_message(PcieExtension::message(0, r), d);
}

void CommandBuffer::completion_wait(const CompletionWait& c, sc_time& d) {
  atc_.wait_all(d);
  if (atc_.take_failure() || timed_out_since_wait_) waits_after_timeout_.inc();
  timed_out_since_wait_ = false;
  if (c.store) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(c.store_data >> (8 * i));
    p_.mem.write(c.store_addr, b, 8, d);
  }
  if (c.interrupt) {
    wait_now(d);  // the interrupt wakes the driver: the kernel must be there
    p_.completion_interrupt();
  }
}

}  // namespace iosim::amdvi

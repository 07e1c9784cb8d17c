// CommandQueue: SMMUv3 command fetch, execution, CMD_SYNC and command queue errors.
#include "iommu/smmuv3/command_queue.h"

#include <algorithm>
#include <cassert>
#include <cctype>

#include "iommu/overloaded.h"
#include "iommu/smmuv3/sw_interface.h"
#include "iommu/stat_names.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::smmuv3 {

using sc_core::sc_time;

namespace {
// 4.7.1 CMD_PRI_RESP.Resp as the PCIe PRG Response code (PCIe 6.0, 10.4.2).
PrgResponseCode prg_code(PriResponse r) {
  switch (r) {
    case PriResponse::kDeny:
      return PrgResponseCode::kInvalidRequest;
    case PriResponse::kFail:
      return PrgResponseCode::kResponseFailure;
    case PriResponse::kSuccess:
      return PrgResponseCode::kSuccess;
  }
  return PrgResponseCode::kResponseFailure;
}
}  // namespace

CommandQueue::CommandQueue(sc_core::sc_module_name name, SimContext& ctx,
                           const CommandQueueConfig& cfg, Parts p)
    : sc_module(name),
      cfg_(cfg),
      p_(std::move(p)),
      fetch_latency_(ns(cfg.fetch_latency_ns)),
      process_latency_(ns(cfg.process_latency_ns)),
      stats_(ctx.stats().group(*this)),
      // A timed-out ATC invalidation is reported by the next CMD_SYNC (CERROR_ATC_INV_SYNC).
      atc_(stats_, p_.mem, ns(cfg.itag_timeout_ns), [](RootPort&, uint8_t) {}),
      kinds_(stats_),
      queue_depth_(
          stats_.average("queue_depth", "commands", "commands pending after each CMDQ_PROD write")),
      failed_waits_(stats_.counter(CommandQueueStats::kFailedWaits, "commands",
                                   "CMD_SYNCs failed after an ATC invalidation timeout")),
      bad_commands_(
          stats_.counter("bad_commands", "commands", "commands refused (CERROR_ILL, CERROR_ABT)")),
      no_port_(stats_.counter("no_port", "commands",
                              "ATC_INV / PRI_RESP for a StreamID without a root port")) {
  sc_core::sc_spawn([this] { run(); }, "run");
}

void CommandQueue::write_base(uint64_t v) {
  base_reg_ = v;
  base_ = reg::kQBaseAddr.get(v) << reg::kQBaseAddr.lo;
  log2size_ = std::min<unsigned>(static_cast<unsigned>(reg::kQBaseLog2Size.get(v)), kMaxLog2Size);
}

void CommandQueue::write_prod(uint32_t v) {
  prod_ = queue_position(v, log2size_);
  queue_depth_.sample(static_cast<double>(queue_used(prod_, cons_, log2size_)));
  wake_.notify(sc_core::SC_ZERO_TIME);
}

void CommandQueue::write_cons(uint32_t v) {
  if (!enabled_) cons_ = queue_position(v, log2size_);
}

void CommandQueue::set_enabled(bool on) {
  enabled_ = on;
  wake_.notify(sc_core::SC_ZERO_TIME);
}

void CommandQueue::resume() {
  if (!stopped_) return;
  stopped_ = false;
  err_ = CmdqError::kNone;
  wake_.notify(sc_core::SC_ZERO_TIME);
}

bool CommandQueue::runnable() const {
  return enabled_ && !stopped_ && !queue_empty(prod_, cons_, log2size_);
}

void CommandQueue::run() {
  atc_.set_ports(p_.ports());  // root ports are added during elaboration only
  sc_time d = sc_core::SC_ZERO_TIME;
  for (;;) {
    // Only commands other than the last one written are carried over (d > 0), so a
    // thread that is ahead always has a command to execute.
    assert(d == sc_core::SC_ZERO_TIME || runnable());
    if (d == sc_core::SC_ZERO_TIME) {
      while (!runnable()) sc_core::wait(wake_);
    }
    const Timing::KeepAhead keep_ahead(p_.mem.timing());
    const sc_time t0 = sc_core::sc_time_stamp() + d;
    uint8_t b[kCmdBytes] = {};
    const bool ok =
        p_.mem.read(base_ + queue_entry_offset(cons_, log2size_, kCmdBytes), b, kCmdBytes, d);
    d += fetch_latency_;
    CmdWords w{};
    for (int i = 7; i >= 0; --i) {
      w[0] = (w[0] << 8) | b[i];
      w[1] = (w[1] << 8) | b[8 + i];
    }
    try {
      if (!ok) throw CommandError(CmdqError::kAbt, "command fetch abort");
      const Command c = decode_command(w);
      execute(c, d);
      const sc_time end = sc_core::sc_time_stamp() + d;
      if (last_command()) {
        wait_now(d);  // the processor then waits for software
      } else {
        p_.mem.sync(d);  // may leave d annotated
      }
      const Opcode op = opcode_of(c);
      kinds_.record(
          static_cast<uint8_t>(op), [op] { return kind_name(op); }, end - t0);
    } catch (const CommandError& e) {
      stop(e.cerror(), d);
      continue;  // CONS stays at the command
    } catch (const DescriptorError&) {
      stop(CmdqError::kIll, d);
      continue;
    }
    cons_ = queue_next(cons_, log2size_);
    ++processed_;
  }
}

void CommandQueue::stop(CmdqError e, sc_time& d) {
  wait_now(d);  // the error is visible when the command has been fetched and decoded
  if (e == CmdqError::kAtcInvSync) {
    failed_waits_.inc();
  } else {
    bad_commands_.inc();
  }
  err_ = e;
  stopped_ = true;
  if (p_.error) p_.error();
}

void CommandQueue::wait_now(sc_time& d) {
  if (d > sc_core::SC_ZERO_TIME) p_.mem.wait(d);
  d = sc_core::SC_ZERO_TIME;
}

void CommandQueue::execute(const Command& cmd, sc_time& d) {
  d += process_latency_;
  std::visit(Overloaded{
                 [](const PrefetchConfig&) {},
                 [](const PrefetchAddr&) {},
                 [](const Resume&) {},
                 [this](const CfgiSte& c) { p_.tables.invalidate_stes(c.sid, c.sid); },
                 [this](const CfgiSteRange& c) {
                   if (c.is_all()) {
                     p_.tables.invalidate_all();
                   } else {
                     p_.tables.invalidate_stes(c.first_sid(), c.last_sid());
                   }
                 },
                 [this](const CfgiCd& c) { p_.tables.invalidate_cd(c.sid, c.ssid); },
                 [this](const CfgiCdAll& c) { p_.tables.invalidate_cds(c.sid); },
                 [this](const TlbiNhAll&) {
                   p_.iotlb.cache().invalidate_all();
                   p_.walker.invalidate_all();
                 },
                 [this](const TlbiNsnhAll&) {
                   p_.iotlb.cache().invalidate_all();
                   p_.walker.invalidate_all();
                 },
                 [this](const TlbiNhAsid& c) {
                   TagFilter f;  // every stream (domain) using the ASID
                   f.pasid = c.asid;
                   f.global = GlobalEntries::kKeep;
                   p_.iotlb.cache().invalidate(f);
                   p_.walker.invalidate(f);
                 },
                 [this](const TlbiNhVa& c) { tlbi_va(c.asid, c.va); },
                 [this](const TlbiNhVaa& c) { tlbi_va(std::nullopt, c.va); },
                 [this, &d](const AtcInv& c) { atc_inv(c, d); },
                 [this, &d](const PriResp& c) { pri_resp(c, d); },
                 [this, &d](const Sync& c) { sync(c, d); },
             },
             cmd);
}

void CommandQueue::tlbi_va(std::optional<uint16_t> asid, const TlbiVaRange& va) {
  TlbiVaRange v = va;
  if (!p_.range_invalidation) v.tg = kTlbiTgNone;  // IDR3.RIL = 0: TG, NUM, SCALE RES0
  const AddrRange r = covered_range(v);
  TagFilter f;
  if (asid) {
    f.pasid = *asid;
    f.global = GlobalEntries::kRemove;  // a VA-based TLBI also matches global entries
  }
  p_.iotlb.cache().invalidate(f, r.first, r.last);
  if (!v.leaf) p_.walker.invalidate(f, r.first, r.last);
}

void CommandQueue::atc_inv(const AtcInv& c, sc_time& d) {
  RootPort* port = p_.port_of(static_cast<uint16_t>(c.sid));
  if (!port) {
    no_port_.inc();
    return;
  }
  InvalidateRequest req;
  req.destination_id = static_cast<uint16_t>(c.sid);
  if (c.ssv) req.pasid = PasidPrefix::with(c.ssid);
  const AddrRange r = covered_range(c);
  req.range = c.size >= AtcInv::kSizeAll ? AtsRange::whole_space()
                                         : AtsRange::with_log2(r.first, c.size + 12u);
  req.global_invalidate = c.global;
  atc_.issue(*port, req, d);
}

void CommandQueue::pri_resp(const PriResp& c, sc_time& d) {
  RootPort* port = p_.port_of(static_cast<uint16_t>(c.sid));
  if (!port) {
    no_port_.inc();
    return;
  }
  PrgResponse r;
  r.destination_id = static_cast<uint16_t>(c.sid);
  r.prg_index = c.prgi;
  r.code = prg_code(c.resp);
  if (c.ssv) r.pasid = PasidPrefix::with(c.ssid);
  p_.mem.sync(d);  // may leave d annotated: the response is sent at now + d
  port->send_message(PcieExtension::message(0, r), d);
}

void CommandQueue::sync(const Sync& c, sc_time& d) {
  atc_.wait_all(d);
  if (atc_.take_failure()) {
    throw CommandError(CmdqError::kAtcInvSync, "CMD_SYNC: an ATC invalidation timed out");
  }
  if (c.cs == SyncCs::kNone) return;
  if (c.cs == SyncCs::kIrq && c.msi_addr != 0) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(c.msi_data >> (8 * i));
    p_.mem.write(c.msi_addr, b, 4, d);
  }
  wait_now(d);  // the interrupt wakes the driver: the kernel must be there
  completion_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace iosim::smmuv3

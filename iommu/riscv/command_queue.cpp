// CommandQueue: RISC-V IOMMU command fetch, execution, IOFENCE.C and command queue errors.
#include "iommu/riscv/command_queue.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "iommu/overloaded.h"
#include "iommu/riscv/sw_interface.h"
#include "iommu/stat_names.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::riscv {

using sc_core::sc_time;

namespace {
bool known_response_code(uint8_t code) {
  return code == static_cast<uint8_t>(PrgResponseCode::kSuccess) ||
         code == static_cast<uint8_t>(PrgResponseCode::kInvalidRequest) ||
         code == static_cast<uint8_t>(PrgResponseCode::kResponseFailure);
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
      // A timed-out ATS.INVAL is reported by the next IOFENCE.C (cmd_to).
      atc_(stats_, p_.mem, ns(cfg.itag_timeout_ns), [](RootPort&, uint8_t) {}),
      kinds_(stats_),
      queue_depth_(
          stats_.average("queue_depth", "commands", "commands pending after each cqt write")),
      failed_waits_(stats_.counter(CommandQueueStats::kFailedWaits, "commands",
                                   "IOFENCE.Cs stopped by cmd_to after an ATS.INVAL timeout")),
      bad_commands_(stats_.counter("bad_commands", "commands",
                                   "commands refused (cmd_ill) or not fetched (cqmf)")),
      no_port_(stats_.counter("no_port", "commands",
                              "ATS.INVAL / ATS.PRGR for a RID without a root port")) {
  sc_core::sc_spawn([this] { run(); }, "run");
}

void CommandQueue::write_base(uint64_t v) {
  base_reg_ = v & (reg::kQbLog2SzM1.mask() | kPpnField.mask());
  base_ = ppn_to_addr(v);
  log2_ = std::min<unsigned>(static_cast<unsigned>(reg::kQbLog2SzM1.get(v)) + 1, kMaxLog2);
}

void CommandQueue::write_tail(uint32_t v) {
  tail_ = v & mask();
  queue_depth_.sample(static_cast<double>(queue_used(head_, tail_, log2_)));
  wake_.notify(sc_core::SC_ZERO_TIME);
}

void CommandQueue::write_csr(uint32_t v) {
  const bool en = v & reg::kQcsrEn;
  if (en && !enabled_) {  // 0 -> 1: cqh restarts and the status bits clear
    head_ = 0;
    status_ = 0;
  }
  enabled_ = en;
  cie_ = v & reg::kQcsrIe;
  status_ &= ~(v & (reg::kCqcsrErrors | reg::kCqcsrFenceWIp));  // write 1 to clear
  wake_.notify(sc_core::SC_ZERO_TIME);
}

uint32_t CommandQueue::csr() const {
  return (enabled_ ? reg::kQcsrEn | reg::kQcsrOn : 0u) | (cie_ ? reg::kQcsrIe : 0u) | status_;
}

bool CommandQueue::runnable() const {
  return enabled_ && !(status_ & reg::kCqcsrErrors) && head_ != tail_;
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
    const bool ok = p_.mem.read(base_ + uint64_t{head_} * kCmdBytes, b, kCmdBytes, d);
    d += fetch_latency_;
    if (!ok) {
      stop(reg::kQcsrMf, d);
      continue;
    }
    CmdWords w{};
    for (int i = 7; i >= 0; --i) {
      w[0] = (w[0] << 8) | b[i];
      w[1] = (w[1] << 8) | b[8 + i];
    }
    Command c;
    try {
      c = decode_command(w);
      if (const auto* f = std::get_if<IofenceC>(&c); f && f->wsi && !p_.wsi_enabled()) {
        throw CommandError("IOFENCE.C with WSI while fctl.WSI = 0");
      }
      if (const auto* r = std::get_if<AtsPrgr>(&c); r && !known_response_code(r->payload.code)) {
        throw CommandError("ATS.PRGR with a reserved response code");
      }
    } catch (const DescriptorError&) {
      stop(reg::kCqcsrCmdIll, d);
      continue;  // cqh stays at the command
    }
    if (const auto* f = std::get_if<IofenceC>(&c)) {
      d += process_latency_;
      if (!iofence(*f, d)) continue;
    } else {
      execute(c, d);
    }
    const sc_time end = sc_core::sc_time_stamp() + d;
    if (last_command()) {
      wait_now(d);  // the processor then waits for software
    } else {
      p_.mem.sync(d);  // may leave d annotated
    }
    kinds_.record(
        static_cast<unsigned>(c.index()), [&c] { return std::string(kind_name(c)); }, end - t0);
    head_ = (head_ + 1) & mask();
    ++processed_;
  }
}

void CommandQueue::stop(uint32_t bit, sc_time& d) {
  wait_now(d);  // the error is visible when the command has been fetched and decoded
  if (bit == reg::kCqcsrCmdTo) {
    failed_waits_.inc();
  } else {
    bad_commands_.inc();
  }
  const bool was_set = status_ & bit;
  status_ |= bit;
  if (!was_set && p_.error) p_.error();
}

void CommandQueue::wait_now(sc_time& d) {
  if (d > sc_core::SC_ZERO_TIME) p_.mem.wait(d);
  d = sc_core::SC_ZERO_TIME;
}

void CommandQueue::execute(const Command& cmd, sc_time& d) {
  d += process_latency_;
  std::visit(Overloaded{
                 [this](const IotinvalVma& c) { iotinval_vma(c); },
                 [this](const IotinvalGvma&) {
                   p_.iotlb.cache().invalidate_all();
                   p_.walker.invalidate_all();
                 },
                 [this](const IodirInvalDdt& c) {
                   p_.tables.invalidate_ddt(c.dv ? std::optional<uint32_t>(c.did) : std::nullopt);
                 },
                 [this](const IodirInvalPdt& c) { p_.tables.invalidate_pdt(c.did, c.pid); },
                 [this, &d](const AtsInval& c) { ats_inval(c, d); },
                 [this, &d](const AtsPrgr& c) { ats_prgr(c, d); },
                 [](const IofenceC&) {},  // run() executes fences
             },
             cmd);
}

void CommandQueue::iotinval_vma(const IotinvalVma& c) {
  if (c.gv) return;  // guest address spaces: the model has none
  TagFilter f;
  if (c.pscv) {
    f.pasid = c.pscid;  // the PSCID in every device (the IOTLB's pasid field)
    f.global = GlobalEntries::kKeep;
  }
  const uint64_t first = c.av ? c.addr : 0;
  const uint64_t last = c.av ? c.addr + 0xfff : ~0ull;
  p_.iotlb.cache().invalidate(f, first, last);
  p_.walker.invalidate(f, first, last);
}

void CommandQueue::ats_inval(const AtsInval& c, sc_time& d) {
  RootPort* port = p_.port_of(c.target.rid);
  if (!port) {
    no_port_.inc();
    return;
  }
  InvalidateRequest req;
  req.destination_id = c.target.rid;
  if (c.target.pv) req.pasid = PasidPrefix::with(c.target.pid);
  req.range = decode_s_range(c.payload.address, c.payload.s);
  req.global_invalidate = c.payload.global;
  atc_.issue(*port, req, d);
}

void CommandQueue::ats_prgr(const AtsPrgr& c, sc_time& d) {
  RootPort* port = p_.port_of(c.target.rid);
  if (!port) {
    no_port_.inc();
    return;
  }
  PrgResponse r;
  r.destination_id = c.payload.dst_id;
  r.prg_index = c.payload.prgi;
  r.code = static_cast<PrgResponseCode>(c.payload.code);
  if (c.target.pv) r.pasid = PasidPrefix::with(c.target.pid);
  p_.mem.sync(d);  // may leave d annotated: the response is sent at now + d
  port->send_message(PcieExtension::message(0, r), d);
}

bool CommandQueue::iofence(const IofenceC& c, sc_time& d) {
  atc_.wait_all(d);
  if (atc_.take_failure()) {
    stop(reg::kCqcsrCmdTo, d);  // cqh stays at the fence
    return false;
  }
  // PR / PW: earlier device requests are already globally visible in this model.
  if (c.av) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(c.data >> (8 * i));
    if (!p_.mem.write(c.addr, b, 4, d)) {
      stop(reg::kQcsrMf, d);
      return false;
    }
  }
  if (c.wsi) {
    wait_now(d);  // the interrupt wakes the driver: the kernel must be there
    if (!(status_ & reg::kCqcsrFenceWIp)) {
      status_ |= reg::kCqcsrFenceWIp;
      if (cie_) completion_.notify(sc_core::SC_ZERO_TIME);
      if (p_.completion) p_.completion();
    }
  }
  return true;
}

}  // namespace iosim::riscv

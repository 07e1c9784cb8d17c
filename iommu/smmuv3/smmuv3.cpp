// Smmuv3: stream configuration as the translation's context source, events, PRI,
// registers.
#include "iommu/smmuv3/smmuv3.h"

#include "iommu/stat_names.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;
using namespace smmuv3;

namespace {

// The event of a translation fault (7.3.x); CLASS: IN for the input address, TT for a
// translation table access.
void translation_event(FaultReason r, EventRecord& e) {
  switch (r) {
    case FaultReason::kBadTableAddress:
    case FaultReason::kTableReadError:
      e.type = EventType::kFWalkEabt;
      e.cls = EventClass::kTt;
      return;
    case FaultReason::kWriteDenied:
    case FaultReason::kUserDenied:
    case FaultReason::kExecDenied:
    case FaultReason::kPrivDenied:
      e.type = EventType::kFPermission;
      e.cls = EventClass::kIn;
      return;
    case FaultReason::kAtsDisabled:
      e.type = EventType::kFTranslForbidden;
      e.cls = EventClass::kIn;
      return;
    default:  // not present, reserved bit, outside the input range
      e.type = EventType::kFTranslation;
      e.cls = EventClass::kIn;
      return;
  }
}

bool config_fault(FaultReason r) {
  switch (r) {
    case FaultReason::kBadStreamId:
    case FaultReason::kBadSte:
    case FaultReason::kBadSubstreamId:
    case FaultReason::kBadCd:
    case FaultReason::kStreamAbort:
      return true;
    default:
      return false;
  }
}

}  // namespace

Smmuv3::Smmuv3(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg)
    : Iommu(name, ctx, cfg),
      tables_(config().tables, memory(), stats()),
      faults_recorded_(stats().counter(IommuStats::kFaultsRecorded, "events",
                                       "events written to the event queue")),
      pri_disabled_(stats().counter("pri_disabled", "requests",
                                    "page requests from ports with PRI disabled")),
      auto_responses_(stats().counter("pri_auto_responses", "messages",
                                      "PRG responses the SMMU sent for lost last requests")) {
  CommandQueue::Parts parts{memory(),
                            iotlb(),
                            walker(),
                            tables_,
                            [this](uint16_t rid) { return port_of(rid); },
                            [this] { return ports(); },
                            [this] { gerror_toggle(reg::kGerrorCmdqErr); },
                            config().smmuv3.range_invalidation};
  cq_ = std::make_unique<CommandQueue>("command_queue", ctx, config().command_queue, parts);
  const sc_time write_latency = ns(config().page_request_queue.write_latency_ns);
  eventq_ = std::make_unique<OutputQueue>(
      "event_queue", ctx, kEventBytes, kMaxQueueLog2, write_latency, memory(),
      OutputQueue::Hooks{[this] { signal(reg::kIrqCtrlEventqIrqEn, fault_irq_); },
                         [this] { faults_recorded_.inc(); }});
  priq_ = std::make_unique<OutputQueue>(
      "pri_queue", ctx, kPriqBytes, kMaxQueueLog2, write_latency, memory(),
      OutputQueue::Hooks{[this] { signal(reg::kIrqCtrlPriqIrqEn, priq_irq_); }, {}});
}

// ---- ContextSource ----

RequestTag Smmuv3::tag_of(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  RequestTag t;
  t.tag.domain = rid;
  RequestContext c;
  c.sre = true;  // the U/S bit of the x86-style tables decides
  if (!(cr0_ & reg::kCr0SmmuEn)) {
    // 6.3.14 GBPA: the global bypass attribute while the SMMU is disabled.
    if (gbpa_ & reg::kGbpaAbort) {
      t.fault = FaultReason::kStreamAbort;  // no event: fault_detail 0
      return t;
    }
    t.tag.pasid = kNoPasid;
    c.pass_through = true;
    t.context = c;
    return t;
  }
  const StreamConfig sc = tables_.lookup(rid, pasid, delay);
  if (!sc.ok()) {
    t.fault = sc.fault;
    if (sc.event) t.fault_detail = static_cast<uint32_t>(*sc.event);  // else silent
    return t;
  }
  c.ats_allowed = sc.ste.eats == Eats::kTranslate;
  if (sc.bypass) {
    t.tag.pasid = kNoPasid;
    c.pass_through = true;
  } else {
    t.tag.pasid = sc.cd.asid;
    c.page_table_root = sc.cd.ttb0;
    // EPD0: no walks through TTB0, every address is a translation fault.
    if (sc.cd.epd0) c.fault = FaultReason::kPageNotPresent;
  }
  t.context = c;
  return t;
}

RequestContext Smmuv3::resolve(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  const RequestTag t = tag_of(rid, pasid, delay);
  if (t.context) return *t.context;
  RequestContext c;
  c.fault = t.fault;
  c.fault_detail = t.fault_detail;
  return c;
}

// ---- Events ----

void Smmuv3::report_fault(const IommuFault& f) {
  EventRecord e;
  e.sid = f.sid;
  e.ssv = f.pasid_present;
  e.ssid = f.pasid_present ? f.pasid : 0;
  e.input_addr = f.addr;
  e.rnw = f.read;
  e.pnu = f.priv;
  e.ind = f.exe;
  if (config_fault(f.reason) || f.reason == FaultReason::kTableReadError) {
    if (!f.detail) return;  // silent abort
    e.type = static_cast<EventType>(f.detail);
    e.cls = EventClass::kCd;
    if (e.type == EventType::kCBadStreamid && !(cr2_ & reg::kCr2RecInvSid)) return;
  } else {
    translation_event(f.reason, e);
  }
  const EventWords w = e.encode();
  eventq_->push({w[0], w[1], w[2], w[3]}, sc_core::SC_ZERO_TIME);
}

// ---- PRI ----

void Smmuv3::auto_respond(RootPort& port, uint16_t rid, const PageRequest& r) {
  PrgResponse resp;
  resp.destination_id = rid;
  resp.prg_index = r.prg_index;
  resp.code = config().page_request_queue.overflow_response;
  if (r.pasid.present) resp.pasid = PasidPrefix::with(r.pasid.pasid);
  port.send_message(PcieExtension::message(0, resp), sc_core::SC_ZERO_TIME);
  auto_responses_.inc();
}

void Smmuv3::on_page_request(RootPort& port, uint16_t rid, const PageRequest& r,
                             const sc_time& delay) {
  if (!port.config().pri_enabled) {
    pri_disabled_.inc();
    return;
  }
  PriqEntry e;
  e.sid = rid;
  e.ssv = r.pasid.present;
  e.ssid = r.pasid.present ? r.pasid.pasid : 0;
  e.pnu = r.pasid.priv_requested;
  e.exec = r.pasid.exe_requested;
  e.read = r.read;
  e.write = r.write;
  e.last = r.last;
  e.prgi = r.prg_index;
  e.addr = r.page_address;
  const PriqWords w = e.encode();
  std::function<void()> lost;
  if (r.last) lost = [this, &port, rid, r] { auto_respond(port, rid, r); };
  priq_->push({w[0], w[1], 0, 0}, delay, std::move(lost));
}

void Smmuv3::on_stop_marker(RootPort& port, uint16_t rid, const StopMarker& m,
                            const sc_time& delay) {
  if (!port.config().pri_enabled) {
    pri_disabled_.inc();
    return;
  }
  PriqEntry e;  // chapter 8: a Stop Marker is an entry with LWR = 0b100 and SSV = 1
  e.sid = rid;
  e.ssv = true;
  e.ssid = m.pasid.pasid;
  e.last = true;
  e.prgi = m.prg_index;
  const PriqWords w = e.encode();
  priq_->push({w[0], w[1], 0, 0}, delay);  // never answered, lost or not
}

// ---- Interrupts and GERROR ----

void Smmuv3::signal(uint32_t irq_ctrl_bit, sc_core::sc_event& line) {
  if (irq_ctrl_ & irq_ctrl_bit) line.notify(sc_core::SC_ZERO_TIME);
}

void Smmuv3::gerror_toggle(uint32_t bits) {
  // 6.3.18: an error is activated by toggling its GERROR bit (only when not active).
  const uint32_t activate = bits & ~reg::gerror_active(gerror_, gerrorn_);
  gerror_ ^= activate;
  signal(reg::kIrqCtrlGerrorIrqEn, fault_irq_);
}

// ---- Registers ----

uint32_t Smmuv3::idr(uint64_t off) const {
  using namespace reg;
  switch (off) {
    case kIdr0:
      return kIdr0S1p | kIdr0Ttf.put(kIdr0TtfAarch64) | kIdr0Cohacc | kIdr0Ats | kIdr0Asid16 |
             kIdr0Msi | kIdr0Sev | kIdr0Pri | kIdr0Cd2l | kIdr0TtEndian.put(kIdr0TtEndianLe) |
             kIdr0StallModel.put(kIdr0StallModelNoStall) | kIdr0StLevel.put(kIdr0StLevel2);
    case kIdr1:
      return static_cast<uint32_t>(kIdr1SidSize.put(StreamTables::kSidBits) |
                                   kIdr1SsidSize.put(StreamTables::kSsidBits) |
                                   kIdr1PriqS.put(kMaxQueueLog2) | kIdr1EventqS.put(kMaxQueueLog2) |
                                   kIdr1CmdqS.put(CommandQueue::kMaxLog2Size));
    case kIdr3:
      return config().smmuv3.range_invalidation ? kIdr3Ril : 0;
    case kIdr5:
      return kIdr5Oas.put(kIdr5Oas48) | kIdr5Gran4K;
    default:
      return 0;
  }
}

bool Smmuv3::is_64bit(uint64_t off) {
  using namespace reg;
  switch (off) {
    case kGerrorIrqCfg0:
    case kStrtabBase:
    case kCmdqBase:
    case kEventqBase:
    case kEventqIrqCfg0:
    case kPriqBase:
    case kPriqIrqCfg0:
      return true;
    default:
      return false;
  }
}

uint64_t Smmuv3::read64(uint64_t off) const {
  using namespace reg;
  switch (off) {
    case kStrtabBase:
      return tables_.base_reg();
    case kCmdqBase:
      return cq_->base_reg();
    case kEventqBase:
      return eventq_->base_reg();
    case kPriqBase:
      return priq_->base_reg();
    default: {
      auto it = irq_cfg_.find(off);
      return it == irq_cfg_.end() ? 0 : it->second;
    }
  }
}

void Smmuv3::write64(uint64_t off, uint64_t v) {
  using namespace reg;
  switch (off) {
    case kStrtabBase:
      tables_.write_base(v);
      break;
    case kCmdqBase:
      cq_->write_base(v);
      break;
    case kEventqBase:
      eventq_->write_base(v);
      break;
    case kPriqBase:
      priq_->write_base(v);
      break;
    default:
      irq_cfg_[off] = v;
      break;
  }
}

uint32_t Smmuv3::read32(uint64_t off) const {
  using namespace reg;
  switch (off) {
    case kIdr0:
    case kIdr1:
    case kIdr3:
    case kIdr5:
      return idr(off);
    case kAidr:
      return 0x02;  // SMMUv3.2 (6.3.7): the version that has IDR3.RIL
    case kCr0:
      return cr0_;
    case kCr0Ack:
      return cr0_ & (kCr0SmmuEn | kCr0PriqEn | kCr0EventqEn | kCr0CmdqEn | kCr0AtsChk);
    case kCr1:
      return cr1_;
    case kCr2:
      return cr2_;
    case kGbpa:
      return gbpa_;
    case kIrqCtrl:
    case kIrqCtrlAck:
      return irq_ctrl_;
    case kGerror:
      return gerror_;
    case kGerrorN:
      return gerrorn_;
    case kStrtabBaseCfg:
      return tables_.cfg_reg();
    case kCmdqProd:
      return cq_->prod();
    case kCmdqCons:
      return cq_->cons();
    // Page 1, and its page-0 alias (Linux's ARM_SMMU_OPT_PAGE0_REGS_ONLY).
    case kEventqProd:
    case kEventqProd - kPage1:
      return eventq_->prod();
    case kEventqCons:
    case kEventqCons - kPage1:
      return eventq_->cons();
    case kPriqProd:
    case kPriqProd - kPage1:
      return priq_->prod();
    case kPriqCons:
    case kPriqCons - kPage1:
      return priq_->cons();
    case kGerrorIrqCfg1:
    case kGerrorIrqCfg2:
    case kEventqIrqCfg1:
    case kEventqIrqCfg2:
    case kPriqIrqCfg1:
    case kPriqIrqCfg2: {
      auto it = irq_cfg_.find(off);
      return it == irq_cfg_.end() ? 0 : static_cast<uint32_t>(it->second);
    }
    default:
      return 0;
  }
}

void Smmuv3::write_cr0(uint32_t v) {
  using namespace reg;
  cr0_ = v & (kCr0SmmuEn | kCr0PriqEn | kCr0EventqEn | kCr0CmdqEn | kCr0AtsChk);
  eventq_->set_enabled(cr0_ & kCr0EventqEn);
  priq_->set_enabled(cr0_ & kCr0PriqEn);
  cq_->set_enabled(cr0_ & kCr0CmdqEn);
}

void Smmuv3::write32(uint64_t off, uint32_t v) {
  using namespace reg;
  switch (off) {
    case kCr0:
      write_cr0(v);
      break;
    case kCr1:
      cr1_ = v;
      break;
    case kCr2:
      cr2_ = v & (kCr2E2h | kCr2RecInvSid | kCr2Ptm);
      break;
    case kGbpa:
      gbpa_ = v & ~kGbpaUpdate;  // the update completes at once: UPDATE reads 0
      break;
    case kIrqCtrl:
      irq_ctrl_ = v & (kIrqCtrlGerrorIrqEn | kIrqCtrlPriqIrqEn | kIrqCtrlEventqIrqEn);
      break;
    case kGerrorN:
      gerrorn_ = v & kGerrorMask;
      // 6.3.19: acknowledging CMDQ_ERR lets the command queue run again from CONS.
      if (!(gerror_active(gerror_, gerrorn_) & kGerrorCmdqErr)) cq_->resume();
      break;
    case kStrtabBaseCfg:
      tables_.write_cfg(v);
      break;
    case kCmdqProd:
      cq_->write_prod(v);
      break;
    case kCmdqCons:
      cq_->write_cons(v);
      break;
    case kEventqProd:
    case kEventqProd - kPage1:
      eventq_->write_prod(v);
      break;
    case kEventqCons:
    case kEventqCons - kPage1:
      eventq_->write_cons(v);
      break;
    case kPriqProd:
    case kPriqProd - kPage1:
      priq_->write_prod(v);
      break;
    case kPriqCons:
    case kPriqCons - kPage1:
      priq_->write_cons(v);
      break;
    case kGerrorIrqCfg1:
    case kGerrorIrqCfg2:
    case kEventqIrqCfg1:
    case kEventqIrqCfg2:
    case kPriqIrqCfg1:
    case kPriqIrqCfg2:
      irq_cfg_[off] = v;
      break;
    default:
      break;
  }
}

uint64_t Smmuv3::read_reg(uint64_t off) const {
  if (is_64bit(off)) return read64(off);
  return uint64_t{read32(off)} | (uint64_t{read32(off + 4)} << 32);
}

void Smmuv3::write_reg(uint64_t off, uint64_t value, uint64_t mask) {
  if (is_64bit(off)) {
    write64(off, (read64(off) & ~mask) | (value & mask));
    return;
  }
  // Two 32-bit registers share the 8 bytes (e.g. CMDQ_PROD / CMDQ_CONS): each is
  // written when the access covers it.
  if (mask & 0xffffffffull) write32(off, static_cast<uint32_t>(value));
  if (mask >> 32) write32(off + 4, static_cast<uint32_t>(value >> 32));
}

}  // namespace iosim

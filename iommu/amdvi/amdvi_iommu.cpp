// AmdviIommu: the device table as the translation's context source, events, PPR,
// registers.
#include "iommu/amdvi/amdvi_iommu.h"

#include "iommu/stat_names.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;
using namespace amdvi;

namespace {

// A table fault's event as IommuFault::detail: bit 31 (present), the code, the flags.
uint32_t table_event_detail(const TableEvent& e) {
  return (1u << 31) | (uint32_t{static_cast<uint8_t>(e.code)} << 16) | e.flags;
}
TableEvent table_event_of(uint32_t detail) {
  return TableEvent{static_cast<EventCode>((detail >> 16) & 0xff),
                    static_cast<uint16_t>(detail & 0xffff)};
}

// Table faults: DeviceTable chose their event.
bool table_fault(FaultReason r) {
  switch (r) {
    case FaultReason::kContextNotPresent:
    case FaultReason::kPasidDisabled:
    case FaultReason::kPasidOutOfRange:
    case FaultReason::kPasidNotPresent:
    case FaultReason::kTableReadError:
      return true;
    default:
      return false;
  }
}

// IO_PAGE_FAULT flags of a translation fault (2.5.x).
uint16_t page_fault_flags(FaultReason r) {
  switch (r) {
    case FaultReason::kWriteDenied:
    case FaultReason::kUserDenied:
    case FaultReason::kExecDenied:
    case FaultReason::kPrivDenied:
    case FaultReason::kAtsDisabled:
      return event_flag::kPr | event_flag::kPe;
    case FaultReason::kReservedBit:
      return event_flag::kPr | event_flag::kRz;
    default:  // not present, outside the 48-bit input range
      return 0;
  }
}

constexpr uint64_t kControlMask =
    reg::kCtrlIommuEn | reg::kCtrlHtTunEn | reg::kCtrlEventLogEn | reg::kCtrlEventIntEn |
    reg::kCtrlComWaitIntEn | reg::kCtrlInvTimeout.mask() | reg::kCtrlPassPw | reg::kCtrlResPassPw |
    reg::kCtrlCoherent | reg::kCtrlIsoc | reg::kCtrlCmdBufEn | reg::kCtrlPprLogEn |
    reg::kCtrlPprIntEn | reg::kCtrlPprEn | reg::kCtrlGtEn;

}  // namespace

AmdviIommu::AmdviIommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg)
    : Iommu(name, ctx, cfg),
      tables_(config().tables, memory(), stats()),
      faults_recorded_(stats().counter(IommuStats::kFaultsRecorded, "events",
                                       "entries written to the event log")),
      pri_disabled_(stats().counter("pri_disabled", "requests",
                                    "page requests from ports with PRI disabled")),
      ppr_refused_(stats().counter("ppr_refused", "requests",
                                   "page requests refused: Control.PPREn or DTE.PPR clear")),
      auto_responses_(stats().counter("pri_auto_responses", "messages",
                                      "PRG responses the IOMMU sent for lost last requests")) {
  CommandBuffer::Parts parts{memory(),
                             iotlb(),
                             walker(),
                             tables_,
                             [this](uint16_t rid) { return port_of(rid); },
                             [this] { return ports(); },
                             [this](const EventEntry& e) { log_event(e, sc_core::SC_ZERO_TIME); },
                             [this] {
                               status_ |= reg::kStatusComWaitInt;
                               signal(reg::kCtrlComWaitIntEn, completion_irq_);
                             }};
  cq_ = std::make_unique<CommandBuffer>("command_queue", ctx, config().command_queue, parts);
  const sc_time write_latency = ns(config().page_request_queue.write_latency_ns);
  event_log_ =
      std::make_unique<LogBuffer>("event_log", ctx, write_latency, memory(),
                                  LogBuffer::Hooks{[this] {
                                                     status_ |= reg::kStatusEventOverflow;
                                                     signal(reg::kCtrlEventIntEn, fault_irq_);
                                                   },
                                                   [this] {
                                                     faults_recorded_.inc();
                                                     status_ |= reg::kStatusEventLogInt;
                                                     signal(reg::kCtrlEventIntEn, fault_irq_);
                                                   }});
  ppr_log_ = std::make_unique<LogBuffer>("ppr_log", ctx, write_latency, memory(),
                                         LogBuffer::Hooks{[this] {
                                                            status_ |= reg::kStatusPprOverflow;
                                                            signal(reg::kCtrlPprIntEn, ppr_irq_);
                                                          },
                                                          [this] {
                                                            status_ |= reg::kStatusPprInt;
                                                            signal(reg::kCtrlPprIntEn, ppr_irq_);
                                                          }});
}

// ---- ContextSource ----

RequestTag AmdviIommu::tag_of(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  RequestTag t;
  RequestContext c;
  c.sre = true;  // the U/S bit of the x86 long-mode tables decides
  if (!(control_ & reg::kCtrlIommuEn)) {
    t.tag = TranslationTag{kNoPasid, 0};
    c.pass_through = true;
    t.context = c;
    return t;
  }
  DeviceContext dc = tables_.lookup(rid, pasid, delay);
  if (dc.ok() && pasid && !dc.pass_through && !(control_ & reg::kCtrlGtEn)) {
    dc.fault = FaultReason::kPasidDisabled;
    dc.event = TableEvent{EventCode::kInvalidDeviceRequest, event_flag::kGn};
  }
  t.tag.domain = dc.dte.domain_id;  // an event without PASID records it
  if (!dc.ok()) {
    t.fault = dc.fault;
    if (dc.event) t.fault_detail = table_event_detail(*dc.event);
    return t;
  }
  c.ats_allowed = dc.dte.valid && dc.dte.translation_valid && dc.dte.iotlb;
  if (dc.pass_through) {
    t.tag.pasid = kNoPasid;
    c.pass_through = true;
  } else {
    t.tag.pasid = *pasid;
    c.page_table_root = dc.cr3;
  }
  t.context = c;
  return t;
}

RequestContext AmdviIommu::resolve(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  const RequestTag t = tag_of(rid, pasid, delay);
  if (t.context) return *t.context;
  RequestContext c;
  c.fault = t.fault;
  c.fault_detail = t.fault_detail;
  return c;
}

// ---- Events ----

void AmdviIommu::log_event(const EventEntry& e, const sc_time& delay) {
  const EventWords w = e.encode();
  event_log_->push({w[0], w[1]}, delay);
}

void AmdviIommu::report_fault(const IommuFault& f) {
  EventEntry e;
  e.device_id = f.sid;
  e.address = f.addr;
  uint16_t flags = 0;
  if (f.pasid_present) flags |= event_flag::kGn;
  if (f.exe) flags |= event_flag::kNx;
  if (!f.priv) flags |= event_flag::kUs;
  if (!f.read) flags |= event_flag::kRw;
  if (f.at == AddressType::kTranslationRequest) flags |= event_flag::kTr;
  e.pasid = f.pasid_present ? f.pasid : f.domain;
  if (table_fault(f.reason) && f.detail) {
    const TableEvent te = table_event_of(f.detail);
    e.code = te.code;
    e.flags = static_cast<uint16_t>(flags | te.flags);
  } else if (f.reason == FaultReason::kTableReadError ||
             f.reason == FaultReason::kBadTableAddress) {
    e.code = EventCode::kPageTabHardwareError;
    e.flags = flags;
  } else {
    e.code = EventCode::kIoPageFault;
    e.flags = static_cast<uint16_t>(flags | page_fault_flags(f.reason));
  }
  log_event(e, sc_core::SC_ZERO_TIME);
}

// ---- PPR ----

void AmdviIommu::respond(RootPort& port, uint16_t rid, const PasidPrefix& pasid, uint16_t prgi,
                         PrgResponseCode code) {
  PrgResponse resp;
  resp.destination_id = rid;
  resp.prg_index = prgi;
  resp.code = code;
  if (pasid.present) resp.pasid = PasidPrefix::with(pasid.pasid);
  port.send_message(PcieExtension::message(0, resp), sc_core::SC_ZERO_TIME);
  auto_responses_.inc();
}

bool AmdviIommu::ppr_allowed(RootPort& port, uint16_t rid, const PageRequest* r, sc_time& delay) {
  if (!port.config().pri_enabled) {
    pri_disabled_.inc();
    return false;
  }
  const Timing::Serving scope = memory().serving();
  const std::optional<Dte> dte = tables_.entry(rid, delay);
  if ((control_ & reg::kCtrlPprEn) && dte && dte->valid && dte->ppr) return true;
  ppr_refused_.inc();
  EventEntry e;
  e.code = EventCode::kInvalidPprRequest;
  e.device_id = rid;
  if (r) {
    e.pasid = r->pasid.present ? r->pasid.pasid : 0;
    e.flags = r->pasid.present ? event_flag::kGn : 0;
    e.address = r->page_address;
  }
  log_event(e, delay);
  if (r && r->last) {
    memory().settle(delay);
    respond(port, rid, r->pasid, r->prg_index, PrgResponseCode::kInvalidRequest);
  }
  return false;
}

void AmdviIommu::on_page_request(RootPort& port, uint16_t rid, const PageRequest& r,
                                 const sc_time& delay) {
  sc_time d = delay;
  if (!ppr_allowed(port, rid, &r, d)) return;
  PprLogEntry e;
  e.device_id = rid;
  e.pasid = r.pasid.present ? r.pasid.pasid : 0;
  e.prgi = r.prg_index;
  e.last = r.last;
  e.address = r.page_address;
  if (r.pasid.present) e.flags |= ppr_flag::kGn;
  if (r.pasid.exe_requested) e.flags |= ppr_flag::kExec;
  if (!r.pasid.priv_requested) e.flags |= ppr_flag::kUser;
  if (r.read) e.flags |= ppr_flag::kRead;
  if (r.write) e.flags |= ppr_flag::kWrite;
  const PprWords w = e.encode();
  std::function<void()> lost;
  if (r.last) {
    lost = [this, &port, rid, r] {
      respond(port, rid, r.pasid, r.prg_index, config().page_request_queue.overflow_response);
    };
  }
  ppr_log_->push({w[0], w[1]}, d, std::move(lost));
}

void AmdviIommu::on_stop_marker(RootPort& port, uint16_t rid, const StopMarker& m,
                                const sc_time& delay) {
  sc_time d = delay;
  if (!ppr_allowed(port, rid, nullptr, d)) return;
  PprLogEntry e;  // L = 1, R = W = 0
  e.device_id = rid;
  e.pasid = m.pasid.pasid;
  e.prgi = m.prg_index;
  e.last = true;
  e.flags = ppr_flag::kGn | ppr_flag::kUser;
  const PprWords w = e.encode();
  ppr_log_->push({w[0], w[1]}, d);  // never answered, lost or not
}

// ---- Interrupts ----

void AmdviIommu::signal(uint64_t control_bit, sc_core::sc_event& line) {
  if (control_ & control_bit) line.notify(sc_core::SC_ZERO_TIME);
}

// ---- Registers ----

uint64_t AmdviIommu::extended_features() {
  return reg::kEfrPprSup | reg::kEfrNxSup | reg::kEfrGtSup | reg::kEfrIaSup |
         reg::kEfrGlxSup.put(DeviceTable::kMaxGlx) |
         reg::kEfrPasMax.put(DeviceTable::kPasidBits - 1);
}

uint64_t AmdviIommu::status() const {
  uint64_t s = status_;
  if (cq_->running()) s |= reg::kStatusCmdBufRun;
  if (event_log_->running()) s |= reg::kStatusEventLogRun;
  if (ppr_log_->running()) s |= reg::kStatusPprLogRun;
  return s;
}

void AmdviIommu::write_control(uint64_t v) {
  control_ = v & kControlMask;
  const bool on = control_ & reg::kCtrlIommuEn;
  cq_->set_enabled(on && (control_ & reg::kCtrlCmdBufEn));
  event_log_->set_enabled(on && (control_ & reg::kCtrlEventLogEn));
  ppr_log_->set_enabled(on && (control_ & reg::kCtrlPprLogEn));
}

uint64_t AmdviIommu::read_reg(uint64_t off) const {
  using namespace reg;
  switch (off) {
    case kDevTableBase:
      return tables_.base_reg();
    case kCmdBufBase:
      return cq_->base_reg();
    case kEventLogBase:
      return event_log_->base_reg();
    case kPprLogBase:
      return ppr_log_->base_reg();
    case kControl:
      return control_;
    case kExtFeature:
      return extended_features();
    case kCmdBufHead:
      return cq_->head();
    case kCmdBufTail:
      return cq_->tail();
    case kEventLogHead:
      return event_log_->head();
    case kEventLogTail:
      return event_log_->tail();
    case kPprLogHead:
      return ppr_log_->head();
    case kPprLogTail:
      return ppr_log_->tail();
    case kStatus:
      return status();
    default:
      return 0;
  }
}

void AmdviIommu::write_reg(uint64_t off, uint64_t value, uint64_t mask) {
  using namespace reg;
  const uint64_t v = (read_reg(off) & ~mask) | (value & mask);
  switch (off) {
    case kDevTableBase:
      tables_.write_base(v);
      break;
    case kCmdBufBase:
      cq_->write_base(v);
      break;
    case kEventLogBase:
      event_log_->write_base(v);
      break;
    case kPprLogBase:
      ppr_log_->write_base(v);
      break;
    case kControl:
      write_control(v);
      break;
    case kCmdBufHead:
      cq_->write_head(v);
      break;
    case kCmdBufTail:
      cq_->write_tail(v);
      break;
    case kEventLogHead:
      event_log_->write_head(v);
      break;
    case kEventLogTail:
      event_log_->write_tail(v);
      break;
    case kPprLogHead:
      ppr_log_->write_head(v);
      break;
    case kPprLogTail:
      ppr_log_->write_tail(v);
      break;
    case kStatus:
      status_ &= ~(value & mask & kStatusW1c);
      break;
    default:
      break;
  }
}

}  // namespace iosim

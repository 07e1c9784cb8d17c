// RiscvIommu: directory tables as the translation's context source, faults, page
// requests, registers.
#include "iommu/riscv/riscv_iommu.h"

#include "iommu/stat_names.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;
using namespace riscv;

namespace {

// The core's view of a table fault (the record keeps the precise cause).
FaultReason reason_of(Cause c) {
  switch (c) {
    case Cause::kAllDisallowed:
      return FaultReason::kStreamAbort;
    case Cause::kDdtLoadFault:
    case Cause::kPdtLoadFault:
      return FaultReason::kTableReadError;
    case Cause::kDdtInvalid:
      return FaultReason::kContextNotPresent;
    case Cause::kDdtMisconfigured:
      return FaultReason::kBadSte;
    case Cause::kPdtInvalid:
      return FaultReason::kPasidNotPresent;
    case Cause::kPdtMisconfigured:
      return FaultReason::kBadCd;
    default:
      return FaultReason::kPasidDisabled;  // transaction type disallowed
  }
}

bool table_reason(FaultReason r) {
  switch (r) {
    case FaultReason::kStreamAbort:
    case FaultReason::kTableReadError:
    case FaultReason::kContextNotPresent:
    case FaultReason::kBadSte:
    case FaultReason::kPasidNotPresent:
    case FaultReason::kBadCd:
    case FaultReason::kPasidDisabled:
      return true;
    default:
      return false;
  }
}

Ttyp ttyp_of(const IommuFault& f) {
  switch (f.at) {
    case AddressType::kTranslationRequest:
      return Ttyp::kAtsTranslationRequest;
    case AddressType::kTranslated:
      return f.read ? (f.exe && f.pasid_present ? Ttyp::kTranslatedExec : Ttyp::kTranslatedRead)
                    : Ttyp::kTranslatedWrite;
    default:
      return f.read ? (f.exe && f.pasid_present ? Ttyp::kUntranslatedExec : Ttyp::kUntranslatedRead)
                    : Ttyp::kUntranslatedWrite;
  }
}

// A first-stage fault's cause (3.2): page faults and access faults by access type.
Cause translation_cause(const IommuFault& f) {
  const bool exec = f.read && f.exe && f.pasid_present;
  switch (f.reason) {
    case FaultReason::kPrivDenied:
    case FaultReason::kAtsDisabled:
      return Cause::kTransactionTypeDisallowed;
    case FaultReason::kTableReadError:
    case FaultReason::kBadTableAddress:
      return exec ? Cause::kInstAccessFault
                  : (f.read ? Cause::kReadAccessFault : Cause::kWriteAccessFault);
    default:
      return exec ? Cause::kInstPageFault
                  : (f.read ? Cause::kReadPageFault : Cause::kWritePageFault);
  }
}

// The Page Request message code (PCIe 6.0, 10.4.1): a message's fault record's iotval.
constexpr uint64_t kPageRequestMessageCode = 0b0000'0100;

}  // namespace

RiscvIommu::RiscvIommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg)
    : Iommu(name, ctx, cfg),
      tables_(config().tables, memory(), stats()),
      faults_recorded_(stats().counter(IommuStats::kFaultsRecorded, "records",
                                       "fault records written to the fault queue")),
      pri_disabled_(stats().counter("pri_disabled", "requests",
                                    "page requests from ports with PRI disabled")),
      auto_responses_(stats().counter("pri_auto_responses", "messages",
                                      "PRG responses the IOMMU sent itself")) {
  CommandQueue::Parts parts{
      memory(),
      iotlb(),
      walker(),
      tables_,
      [this](uint16_t rid) { return port_of(rid); },
      [this] { return ports(); },
      [] { return true; },  // IGS = WSI: fctl.WSI is 1
      [this] { raise(cq_->interrupts_enabled(), reg::kIpsrCip, &fault_irq_); },
      [this] { raise(cq_->interrupts_enabled(), reg::kIpsrCip, nullptr); }};
  cq_ = std::make_unique<CommandQueue>("command_queue", ctx, config().command_queue, parts);
  const sc_time write_latency = ns(config().page_request_queue.write_latency_ns);
  fq_ = std::make_unique<OutputQueue>(
      "fault_queue", ctx, kFaultRecordBytes, write_latency, memory(),
      OutputQueue::Hooks{[this] { raise(fq_->interrupts_enabled(), reg::kIpsrFip, &fault_irq_); },
                         [this] { faults_recorded_.inc(); }});
  pq_ = std::make_unique<OutputQueue>(
      "page_request_queue", ctx, kPageRequestBytes, write_latency, memory(),
      OutputQueue::Hooks{[this] { raise(pq_->interrupts_enabled(), reg::kIpsrPip, &pq_irq_); },
                         {}});
}

uint64_t RiscvIommu::capabilities() {
  using namespace reg;
  return kCapVersion.put(kCapVersion10) | kCapSv48 | kCapAmoHwad | kCapAts | kCapIgs.put(kIgsWsi) |
         kCapPas.put(56) | kCapPd8 | kCapPd17 | kCapPd20;
}

// ---- ContextSource ----

RequestTag RiscvIommu::tag_of(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  RequestTag t;
  t.tag.domain = rid;
  const Resolved r = tables_.resolve(rid, pasid, delay);
  if (!r.ok()) {
    t.fault = reason_of(*r.fault);
    t.fault_detail = static_cast<uint32_t>(*r.fault);  // the cause the fault record keeps
    return t;
  }
  RequestContext c;
  c.sre = r.ens;
  c.ats_allowed = r.ats_allowed;
  if (r.pass_through) {
    t.tag.pasid = kNoPasid;
    c.pass_through = true;
  } else {
    t.tag.pasid = r.pscid;
    c.page_table_root = r.root;
  }
  t.context = c;
  return t;
}

RequestContext RiscvIommu::resolve(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  const RequestTag t = tag_of(rid, pasid, delay);
  if (t.context) return *t.context;
  RequestContext c;
  c.fault = t.fault;
  c.fault_detail = t.fault_detail;
  return c;
}

// ---- Faults ----

void RiscvIommu::record_fault(const FaultRecord& r, const sc_time& delay) {
  const FaultWords w = r.encode();
  fq_->push({w[0], w[1], w[2], w[3]}, delay);
}

void RiscvIommu::report_fault(const IommuFault& f) {
  FaultRecord r;
  r.did = f.sid;
  r.pv = f.pasid_present;
  r.pid = f.pasid_present ? f.pasid : 0;
  r.priv = f.pasid_present && f.priv;
  r.ttyp = ttyp_of(f);
  r.iotval = f.addr;
  r.cause = f.detail && table_reason(f.reason) ? static_cast<uint16_t>(f.detail)
                                               : static_cast<uint16_t>(translation_cause(f));
  record_fault(r, sc_core::SC_ZERO_TIME);
}

// ---- Page requests ----

void RiscvIommu::auto_respond(RootPort& port, const PageRequestRecord& rec, PrgResponseCode code,
                              bool prpr) {
  PrgResponse resp;
  resp.destination_id = static_cast<uint16_t>(rec.did);
  resp.prg_index = rec.prgi;
  resp.code = code;
  if (rec.pv && (prpr || code == PrgResponseCode::kResponseFailure)) {
    resp.pasid = PasidPrefix::with(rec.pid);
  }
  port.send_message(PcieExtension::message(0, resp), sc_core::SC_ZERO_TIME);
  auto_responses_.inc();
}

void RiscvIommu::page_message(RootPort& port, const PageRequestRecord& rec, const sc_time& delay) {
  const bool needs_response = rec.last && !rec.stop_marker();
  sc_time d = delay;
  const DeviceLookup dl = tables_.locate_device(rec.did, d);
  std::optional<Cause> cause = dl.fault;
  if (!cause && (dl.bare || !dl.dc.en_pri)) cause = Cause::kTransactionTypeDisallowed;
  if (cause) {
    FaultRecord f;
    f.cause = static_cast<uint16_t>(*cause);
    f.ttyp = Ttyp::kPcieMessage;
    f.did = rec.did;
    f.pv = rec.pv;
    f.pid = rec.pid;
    f.priv = rec.priv;
    f.iotval = kPageRequestMessageCode;
    record_fault(f, d);
    if (needs_response) {
      auto_respond(port, rec,
                   *cause == Cause::kTransactionTypeDisallowed ? PrgResponseCode::kInvalidRequest
                                                               : PrgResponseCode::kResponseFailure,
                   false);
    }
    return;
  }
  std::function<void(OutputQueue::Loss)> lost;
  if (needs_response) {
    const bool prpr = dl.dc.prpr;
    lost = [this, &port, rec, prpr](OutputQueue::Loss why) {
      auto_respond(port, rec,
                   why == OutputQueue::Loss::kOff ? PrgResponseCode::kResponseFailure
                                                  : PrgResponseCode::kSuccess,
                   prpr);
    };
  }
  const PageRequestWords w = rec.encode();
  pq_->push({w[0], w[1], 0, 0}, d, std::move(lost));
}

void RiscvIommu::on_page_request(RootPort& port, uint16_t rid, const PageRequest& r,
                                 const sc_time& delay) {
  if (!port.config().pri_enabled) {
    pri_disabled_.inc();
    return;
  }
  PageRequestRecord rec;
  rec.did = rid;
  rec.pv = r.pasid.present;
  rec.pid = r.pasid.present ? r.pasid.pasid : 0;
  rec.priv = r.pasid.present && r.pasid.priv_requested;
  rec.exec = r.pasid.present && r.pasid.exe_requested;
  rec.read = r.read;
  rec.write = r.write;
  rec.last = r.last;
  rec.prgi = r.prg_index;
  rec.addr = r.page_address;
  page_message(port, rec, delay);
}

void RiscvIommu::on_stop_marker(RootPort& port, uint16_t rid, const StopMarker& m,
                                const sc_time& delay) {
  if (!port.config().pri_enabled) {
    pri_disabled_.inc();
    return;
  }
  PageRequestRecord rec;  // L = 1, R = W = 0
  rec.did = rid;
  rec.pv = true;
  rec.pid = m.pasid.pasid;
  rec.last = true;
  rec.prgi = m.prg_index;
  page_message(port, rec, delay);
}

// ---- Interrupts ----

void RiscvIommu::raise(bool enabled, uint32_t ip, sc_core::sc_event* line) {
  if (!enabled) return;
  ipsr_ |= ip;
  if (line) line->notify(sc_core::SC_ZERO_TIME);
}

// ---- Registers ----

bool RiscvIommu::is_64bit(uint64_t off) {
  using namespace reg;
  switch (off) {
    case kCapabilities:
    case kDdtp:
    case kCqb:
    case kFqb:
    case kPqb:
    case kIcvec:
      return true;
    default:
      return false;
  }
}

uint64_t RiscvIommu::read64(uint64_t off) const {
  using namespace reg;
  switch (off) {
    case kCapabilities:
      return capabilities();
    case kDdtp:
      return tables_.ddtp();
    case kCqb:
      return cq_->base_reg();
    case kFqb:
      return fq_->base_reg();
    case kPqb:
      return pq_->base_reg();
    case kIcvec:
      return icvec_;
    default:
      return 0;
  }
}

void RiscvIommu::write64(uint64_t off, uint64_t v) {
  using namespace reg;
  switch (off) {
    case kDdtp:
      tables_.write_ddtp(v);
      break;
    case kCqb:
      cq_->write_base(v);
      break;
    case kFqb:
      fq_->write_base(v);
      break;
    case kPqb:
      pq_->write_base(v);
      break;
    case kIcvec:
      icvec_ = v & (kIcvecCiv.mask() | kIcvecFiv.mask() | kIcvecPmiv.mask() | kIcvecPiv.mask());
      break;
    default:
      break;
  }
}

uint32_t RiscvIommu::read32(uint64_t off) const {
  using namespace reg;
  switch (off) {
    case kFctl:
      return kFctlWsi;  // IGS = WSI: wired interrupts, little-endian, no GXL
    case kCqh:
      return cq_->head();
    case kCqt:
      return cq_->tail();
    case kFqh:
      return fq_->head();
    case kFqt:
      return fq_->tail();
    case kPqh:
      return pq_->head();
    case kPqt:
      return pq_->tail();
    case kCqcsr:
      return cq_->csr();
    case kFqcsr:
      return fq_->csr();
    case kPqcsr:
      return pq_->csr();
    case kIpsr:
      return ipsr_;
    default:
      return 0;
  }
}

void RiscvIommu::write32(uint64_t off, uint32_t v) {
  using namespace reg;
  switch (off) {
    case kCqt:
      cq_->write_tail(v);
      break;
    case kFqh:
      fq_->write_head(v);
      break;
    case kPqh:
      pq_->write_head(v);
      break;
    case kCqcsr:
      cq_->write_csr(v);
      break;
    case kFqcsr:
      fq_->write_csr(v);
      break;
    case kPqcsr:
      pq_->write_csr(v);
      break;
    case kIpsr:
      ipsr_ &= ~v;  // write 1 to clear
      break;
    default:
      break;  // fctl (read-only fields here), cqh, fqt, pqt (the IOMMU's)
  }
}

uint64_t RiscvIommu::read_reg(uint64_t off) const {
  if (is_64bit(off)) return read64(off);
  return uint64_t{read32(off)} | (uint64_t{read32(off + 4)} << 32);
}

void RiscvIommu::write_reg(uint64_t off, uint64_t value, uint64_t mask) {
  if (is_64bit(off)) {
    write64(off, (read64(off) & ~mask) | (value & mask));
    return;
  }
  // Two 32-bit registers share the 8 bytes (e.g. cqh / cqt): each is written when the
  // access covers it.
  if (mask & 0xffffffffull) write32(off, static_cast<uint32_t>(value));
  if (mask >> 32) write32(off + 4, static_cast<uint32_t>(value >> 32));
}

}  // namespace iosim

// VtdIommu: VT-d tables as the translation's context source, page requests,
// registers.
#include "iommu/vtd/vtd_iommu.h"

namespace iosim {

using sc_core::sc_time;

namespace {

FaultReason table_fault(TableStatus s) {
  switch (s) {
    case TableStatus::kOk:
      return FaultReason::kNone;
    case TableStatus::kRootNotPresent:
      return FaultReason::kRootNotPresent;
    case TableStatus::kContextNotPresent:
      return FaultReason::kContextNotPresent;
    case TableStatus::kPasidDisabled:
      return FaultReason::kPasidDisabled;
    case TableStatus::kPasidOutOfRange:
      return FaultReason::kPasidOutOfRange;
    case TableStatus::kPasidNotPresent:
      return FaultReason::kPasidNotPresent;
    case TableStatus::kBadPasidEntry:
      return FaultReason::kReservedBit;
    case TableStatus::kReadError:
      return FaultReason::kTableReadError;
  }
  return FaultReason::kTableReadError;
}

}  // namespace

VtdIommu::VtdIommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg)
    : Iommu(name, ctx, cfg),
      tables_(config().tables, memory(), stats()),
      faults_(config().fault_records, stats()) {
  CommandQueue::Parts parts{memory(),
                            iotlb(),
                            walker(),
                            tables_,
                            [this](uint16_t rid) { return port_of(rid); },
                            [this] { return ports(); },
                            faults_.event()};
  cq_ = std::make_unique<CommandQueue>("command_queue", ctx, config().command_queue, parts);
  prq_ = std::make_unique<PageRequestQueue>("page_request_queue", ctx, config().page_request_queue,
                                            memory());
}

RequestTag VtdIommu::tag_of(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  RequestTag t;
  t.tag.domain = rid;
  if (pasid) {
    t.tag.pasid = *pasid;
    return t;
  }
  ContextEntry ctx;
  t.fault = table_fault(tables_.context(rid, ctx, delay));
  t.tag.pasid = ctx.rid_pasid;
  return t;
}

RequestContext VtdIommu::resolve(uint16_t rid, std::optional<uint32_t> pasid, sc_time& delay) {
  const TableResult tr = tables_.resolve(rid, pasid, delay);
  RequestContext c;
  c.fault = table_fault(tr.status);
  c.page_table_root = tr.pasid_entry.flptr;
  c.sre = tr.pasid_entry.sre;
  c.ats_allowed = tr.context.dte;
  // PGTT = pass-through (VT-d 3.x section 3.9, 100b): every permission, no walk.
  c.pass_through = tr.pasid_entry.pgtt == Pgtt::kPassThrough;
  return c;
}

void VtdIommu::on_page_request(RootPort& port, uint16_t rid, const PageRequest& r,
                               const sc_time& delay) {
  PageRequestDesc d;
  d.pasid_present = r.pasid.present;
  d.pasid = r.pasid.pasid;
  d.exe = r.pasid.exe_requested;
  d.priv = r.pasid.priv_requested;
  d.rid = rid;
  d.read = r.read;
  d.write = r.write;
  d.lpig = r.last;
  d.prg_index = r.prg_index;
  d.addr = r.page_address;
  prq_->on_request(port, d, delay);
}

void VtdIommu::on_stop_marker(RootPort& port, uint16_t rid, const StopMarker& m,
                              const sc_time& delay) {
  PageRequestDesc d;
  d.pasid_present = m.pasid.present;
  d.pasid = m.pasid.pasid;
  d.rid = rid;
  d.lpig = true;
  d.prg_index = m.prg_index;
  prq_->on_request(port, d, delay);
}

uint64_t VtdIommu::read_reg(uint64_t off) const {
  using namespace vtd_reg;
  if (off >= kFrcdBase && off < kFrcdBase + 16ull * faults_.size()) {
    const FaultRecord& r = faults_.at(static_cast<unsigned>((off - kFrcdBase) / 16));
    return (off - kFrcdBase) % 16 == 0 ? r.qw0() : r.qw1();
  }
  switch (off) {
    case kVer:
      return 0x10;
    case kRtaddr:
      return tables_.root_table();
    case kFsts:
      return (faults_.overflow() ? kFstsPfo : 0) | (faults_.pending_fault() ? kFstsPpf : 0) |
             (cq_->iqe() ? kFstsIqe : 0) | (cq_->ite() ? kFstsIte : 0);
    case kIqh:
      return cq_->iqh();
    case kIqt:
      return cq_->iqt();
    case kIqa:
      return cq_->iqa();
    case kIcs:
      return cq_->iwc() ? 1 : 0;
    case kPqh:
      return prq_->pqh();
    case kPqt:
      return prq_->pqt();
    case kPqa:
      return prq_->pqa();
    case kPrs:
      return prq_->prs();
    default:
      return 0;
  }
}

void VtdIommu::write_reg(uint64_t off, uint64_t value, uint64_t mask) {
  using namespace vtd_reg;
  const uint64_t merged = (read_reg(off) & ~mask) | (value & mask);
  const uint64_t w1c = value & mask;
  if (off >= kFrcdBase && off < kFrcdBase + 16ull * faults_.size()) {
    if ((off - kFrcdBase) % 16 == 8 && (w1c >> 63)) {
      faults_.clear(static_cast<unsigned>((off - kFrcdBase) / 16));
    }
    return;
  }
  switch (off) {
    case kRtaddr:
      tables_.set_root_table(merged & kPageMask);
      break;
    case kFsts:
      if (w1c & kFstsPfo) faults_.clear_overflow();
      if (w1c & kFstsIqe) cq_->clear_iqe();
      if (w1c & kFstsIte) cq_->clear_ite();
      break;
    case kIqt:
      cq_->write_iqt(merged);
      break;
    case kIqa:
      cq_->write_iqa(merged);
      break;
    case kIcs:
      if (w1c & 1) cq_->clear_iwc();
      break;
    case kPqh:
      prq_->write_pqh(merged);
      break;
    case kPqa:
      prq_->write_pqa(merged);
      break;
    case kPrs:
      prq_->write_prs(w1c);
      break;
    default:
      break;
  }
}

}  // namespace iosim

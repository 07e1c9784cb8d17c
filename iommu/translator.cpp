// Translator: IOTLB, tables and walker put together for one request.
#include "iommu/translator.h"

#include "sc_models/memory/page_size.h"

namespace iosim {

namespace {

FaultReason walk_fault(WalkStatus s) {
  switch (s) {
    case WalkStatus::kOk:
      return FaultReason::kNone;
    case WalkStatus::kNotPresent:
      return FaultReason::kPageNotPresent;
    case WalkStatus::kReservedBit:
      return FaultReason::kReservedBit;
    case WalkStatus::kNonCanonical:
      return FaultReason::kNonCanonical;
    case WalkStatus::kBadAddress:
      return FaultReason::kBadTableAddress;
  }
  return FaultReason::kBadTableAddress;
}

}  // namespace

const char* to_string(FaultReason r) {
  switch (r) {
    case FaultReason::kNone:
      return "none";
    case FaultReason::kRootNotPresent:
      return "root_not_present";
    case FaultReason::kContextNotPresent:
      return "context_not_present";
    case FaultReason::kPasidDisabled:
      return "pasid_disabled";
    case FaultReason::kPasidOutOfRange:
      return "pasid_out_of_range";
    case FaultReason::kPasidNotPresent:
      return "pasid_not_present";
    case FaultReason::kTableReadError:
      return "table_read_error";
    case FaultReason::kNonCanonical:
      return "non_canonical";
    case FaultReason::kPageNotPresent:
      return "page_not_present";
    case FaultReason::kReservedBit:
      return "reserved_bit";
    case FaultReason::kBadTableAddress:
      return "bad_table_address";
    case FaultReason::kWriteDenied:
      return "write_denied";
    case FaultReason::kUserDenied:
      return "user_denied";
    case FaultReason::kExecDenied:
      return "exec_denied";
    case FaultReason::kPrivDenied:
      return "priv_denied";
    case FaultReason::kAtsDisabled:
      return "ats_disabled";
    case FaultReason::kBadStreamId:
      return "bad_stream_id";
    case FaultReason::kBadSte:
      return "bad_ste";
    case FaultReason::kBadSubstreamId:
      return "bad_substream_id";
    case FaultReason::kBadCd:
      return "bad_cd";
    case FaultReason::kStreamAbort:
      return "stream_abort";
  }
  return "?";
}

void Translator::from_entry(const TranslationEntry& e, Translation& t) const {
  t.page_base = e.base;
  t.page_pa = e.target;
  t.log2_size = e.log2_size;
  t.writable = e.perms & tperm::kWrite;
  t.user = e.perms & tperm::kUser;
  t.no_execute = !(e.perms & tperm::kExec);
  t.global = e.global;
  t.sre = e.perms & iotlb_perm::kSre;
  t.ats_allowed = e.perms & iotlb_perm::kAtsAllowed;
  t.pass_through = e.perms & iotlb_perm::kPassThrough;
  t.iotlb_hit = true;
  t.obtained = sc_core::sc_time::from_value(e.user);
}

FaultReason Translator::check(const TranslateRequest& req, const Translation& t) const {
  if (req.pasid.priv_requested && !t.sre) return FaultReason::kPrivDenied;
  if (!req.check) return FaultReason::kNone;
  if (!req.pasid.priv_requested && !t.user) return FaultReason::kUserDenied;
  if (req.write && !t.writable) return FaultReason::kWriteDenied;
  if (req.pasid.exe_requested && t.no_execute) return FaultReason::kExecDenied;
  return FaultReason::kNone;
}

Translation Translator::translate(const TranslateRequest& req, sc_core::sc_time& delay) {
  Translation t;
  std::optional<uint32_t> pasid;
  if (req.pasid.present) pasid = req.pasid.pasid;
  const RequestTag rt = tables_.tag_of(req.rid, pasid, delay);
  t.domain = rt.tag.domain;
  if (rt.fault != FaultReason::kNone) {
    t.fault = rt.fault;
    t.fault_detail = rt.fault_detail;
    return t;
  }
  const TranslationTag& tag = rt.tag;
  if (const TranslationEntry* e = iotlb_.lookup(tag, req.va, delay)) {
    const bool needs_dirty = req.write && (e->perms & tperm::kWrite) && !(e->perms & tperm::kDirty);
    if (!needs_dirty) {
      from_entry(*e, t);
      t.fault = check(req, t);
      return t;
    }
    iotlb_.count_rewalk();
  }
  const RequestContext ctx = rt.context ? *rt.context : tables_.resolve(req.rid, pasid, delay);
  if (ctx.fault != FaultReason::kNone) {
    t.fault = ctx.fault;
    t.fault_detail = ctx.fault_detail;
    return t;
  }
  WalkOutcome w;
  t.pass_through = ctx.pass_through;
  if (t.pass_through) {
    // Pass-through: the untranslated address is the physical address, with every
    // permission; no table walk.
    w.size = PageSize::k4K;
    w.page_pa = req.va & ~uint64_t{kPageBytes - 1};
    w.writable = true;
    w.user = true;
    w.dirty = true;
  } else {
    w = walker_.walk(tag, ctx.page_table_root, req.va, req.write, delay);
    if (!w.ok()) {
      t.fault = walk_fault(w.status);
      return t;
    }
  }
  t.log2_size = page_shift(w.size);
  t.page_base = req.va & ~((1ull << t.log2_size) - 1);
  t.page_pa = w.page_pa;
  t.writable = w.writable;
  t.user = w.user;
  t.no_execute = w.no_execute;
  t.global = w.global && pasid.has_value();
  t.sre = ctx.sre;
  t.ats_allowed = ctx.ats_allowed;
  t.obtained = kernel_time() + delay;

  TranslationEntry e;
  e.pasid = tag.pasid;
  e.domain = tag.domain;
  e.base = t.page_base;
  e.log2_size = static_cast<uint8_t>(t.log2_size);
  e.global = t.global;
  e.target = t.page_pa;
  e.perms = tperm::kRead | (t.writable ? tperm::kWrite : 0) | (t.user ? tperm::kUser : 0) |
            (t.no_execute ? 0 : tperm::kExec) | (w.dirty ? tperm::kDirty : 0) |
            (t.sre ? iotlb_perm::kSre : 0) | (t.ats_allowed ? iotlb_perm::kAtsAllowed : 0) |
            (t.pass_through ? iotlb_perm::kPassThrough : 0);
  e.user = t.obtained.value();
  iotlb_.fill(e);
  t.fault = check(req, t);
  return t;
}

}  // namespace iosim

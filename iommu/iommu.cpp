// Iommu: request dispatch, DMA forwarding, ATS completions and register access.
#include "iommu/iommu.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "iommu/stat_names.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;

namespace {
bool page_fault(FaultReason r) {
  return r == FaultReason::kPageNotPresent || r == FaultReason::kReservedBit ||
         r == FaultReason::kBadTableAddress || r == FaultReason::kNonCanonical ||
         r == FaultReason::kPrivDenied;
}
}  // namespace

Iommu::Iommu(sc_core::sc_module_name name, SimContext& ctx, const IommuConfig& cfg)
    : sc_module(name),
      regs("regs"),
      mem("mem"),
      irq("irq"),
      cfg_((cfg.validate(), cfg)),
      stats_(ctx.stats().group(*this)),
      mem_port_(mem, ctx.timing()),
      iotlb_(cfg_.iotlb, stats_),
      walker_(cfg_.walker, mem_port_, stats_),
      translator_(iotlb_, *this, walker_),
      register_latency_(ns(cfg_.register_latency_ns)),
      lat_untranslated_read_(
          stats_.histogram("untranslated_read_latency", "untranslated DMA read, arrival to data")),
      lat_untranslated_write_(stats_.histogram("untranslated_write_latency",
                                               "untranslated DMA write, arrival to memory done")),
      lat_translation_request_(stats_.histogram(IommuStats::kTranslationRequestLatency,
                                                "ATS Translation Request, arrival to completion")),
      lat_translated_(stats_.histogram("translated_latency", "translated request forwarding")),
      translated_rejected_(stats_.counter("translated_rejected", "requests",
                                          "translated requests from Functions without ATS")),
      bad_requests_(stats_.counter("bad_requests", "requests",
                                   "upstream transactions without a usable PCIe extension")) {
  regs.register_b_transport(this, &Iommu::reg_transport);
  irq.bind(*this);
}

std::vector<RootPort*> Iommu::ports() const {
  std::vector<RootPort*> v;
  for (auto& p : ports_) v.push_back(p.get());
  return v;
}

RootPort& Iommu::add_root_port(const char* name, const RootPortConfig& cfg) {
  const auto rid = static_cast<uint16_t>(cfg.requester_id);
  auto it = rid_port_.find(rid);
  if (it != rid_port_.end()) {
    throw std::invalid_argument(std::string("iommu: requester_id ") + std::to_string(rid) +
                                " of root port " + name + " is already on " + it->second->name());
  }
  ports_.push_back(std::make_unique<RootPort>(
      name, cfg,
      [this](RootPort& p, tlm::tlm_generic_payload& gp, sc_time& d) { upstream(p, gp, d); }));
  rid_port_[rid] = ports_.back().get();
  // Registered only with the fault configured (no new statistic otherwise).
  if (cfg.fault_translation_ur > 0 && !injected_ur_) {
    injected_ur_ = &stats_.counter("injected_translation_ur", "requests",
                                   "Translation Requests answered with an injected "
                                   "Unsupported Request (fault injection)");
  }
  return *ports_.back();
}

RootPort* Iommu::port_of(uint16_t rid) const {
  auto it = rid_port_.find(rid);
  return it == rid_port_.end() ? nullptr : it->second;
}

void Iommu::upstream(RootPort& port, tlm::tlm_generic_payload& gp, sc_time& delay) {
  PcieExtension* ext = PcieExtension::of(gp);
  if (!ext) {
    bad_requests_.inc();
    gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }
  if (!seen_rid_[ext->requester_id]) {  // rid_port_ never forgets a requester
    seen_rid_.set(ext->requester_id);
    if (!rid_port_.count(ext->requester_id)) {
      rid_port_[ext->requester_id] = &port;
      port.add_requester(ext->requester_id);
    }
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  switch (ext->kind()) {
    case PcieKind::kMemory:
      if (ext->address_type == AddressType::kTranslated) {
        translated(port, gp, *ext, delay);
      } else {
        untranslated(port, gp, *ext, delay);
      }
      break;
    case PcieKind::kTranslationRequest:
      translation_request(port, gp, *ext, delay);
      break;
    case PcieKind::kPageRequest:
      on_page_request(port, ext->requester_id, std::get<PageRequest>(ext->body), delay);
      break;
    case PcieKind::kStopMarker:
      on_stop_marker(port, ext->requester_id, std::get<StopMarker>(ext->body), delay);
      break;
    case PcieKind::kInvalidateCompletion:
      on_invalidate_completion(port, std::get<InvalidateCompletion>(ext->body), delay);
      break;
    default:
      bad_requests_.inc();
      gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
  }
}

void Iommu::report(const tlm::tlm_generic_payload& gp, const PcieExtension& ext, FaultReason reason,
                   uint64_t addr, const sc_time& at, const Translation* t) {
  IommuFault r;
  r.sid = ext.requester_id;
  r.pasid_present = ext.pasid.present;
  r.pasid = ext.pasid.pasid;
  r.addr = addr;
  r.reason = reason;
  r.read = gp.is_read();
  r.exe = ext.pasid.exe_requested;
  r.priv = ext.pasid.priv_requested;
  r.at = ext.address_type;
  r.time = at;
  if (t) {
    r.detail = t->fault_detail;
    r.domain = t->domain;
  }
  report_fault(r);
}

void Iommu::publish_access(const tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                           uint64_t va, uint64_t pa, const sc_time& obtained, bool through_atc,
                           const sc_time& at) {
  if (!gt_ || !gt_->active()) return;
  DeviceAccessEvent e;
  e.time = at;
  auto name = requester_names_.find(ext.requester_id);
  if (name == requester_names_.end()) {
    name =
        requester_names_.emplace(ext.requester_id, "requester-" + std::to_string(ext.requester_id))
            .first;
  }
  e.thread = name->second;
  e.requester_id = ext.requester_id;
  e.pasid = ext.pasid.present ? ext.pasid.pasid : DeviceAccessEvent::kNoPasid;
  e.va = va;
  e.pa = pa;
  e.is_write = gp.is_write();
  e.value = 0;
  std::memcpy(&e.value, gp.get_data_ptr(), std::min<unsigned>(8, gp.get_data_length()));
  e.translation_time = obtained;
  e.through_atc = through_atc;
  gt_->device_access(e);
}

void Iommu::untranslated(RootPort&, tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                         sc_time& delay) {
  const Timing::Serving scope = mem_port_.serving();
  mem_port_.sync(delay);
  const sc_time t0 = kernel_time() + delay;
  const uint64_t va = gp.get_address();
  const unsigned len = gp.get_data_length();
  unsigned done = 0;
  while (done < len || (len == 0 && done == 0)) {
    const uint64_t cur = va + done;
    TranslateRequest req{ext.requester_id, ext.pasid, cur, gp.is_write(), true};
    const Translation t = translator_.translate(req, delay);
    mem_port_.sync(delay);
    const sc_time at = kernel_time() + delay;  // when it reaches memory
    if (!t.ok()) {
      mem_port_.settle(delay);  // the fault interrupt is raised at the request's time
      report(gp, ext, t.fault, cur, at, &t);
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    const uint64_t page_end = t.page_base + (1ull << t.log2_size);
    const auto chunk = static_cast<unsigned>(std::min<uint64_t>(len - done, page_end - cur));
    tlm::tlm_generic_payload& sub = sub_payload_;
    sub.set_command(gp.get_command());
    sub.set_address(t.pa(cur));
    sub.set_data_ptr(gp.get_data_ptr() + done);
    sub.set_data_length(chunk);
    sub.set_streaming_width(chunk);
    sub.set_byte_enable_ptr(nullptr);
    sub.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    mem_port_.forward(sub, delay);
    if (!sub.is_response_ok()) {
      gp.set_response_status(sub.get_response_status());
      return;
    }
    // A pass-through address translates to itself: nothing to judge (a device that
    // translates by itself reports its own accesses).
    if (!t.pass_through) publish_access(sub, ext, cur, t.pa(cur), t.obtained, false, at);
    done += chunk;
    if (len == 0) break;
  }
  (gp.is_read() ? lat_untranslated_read_ : lat_untranslated_write_)
      .sample(kernel_time() + delay - t0);
}

void Iommu::translated(RootPort& port, tlm::tlm_generic_payload& gp, const PcieExtension& ext,
                       sc_time& delay) {
  const Timing::Serving scope = mem_port_.serving();
  // The arrival; sync() keeps sc_time_stamp() + delay. Nothing here reads state others
  // change before forward(), which synchronises to the arrival first.
  const sc_time t0 = kernel_time() + delay;
  if (cfg_.check_translated_requests && !port.config().ats_enabled) {
    translated_rejected_.inc();
    mem_port_.sync(delay);
    mem_port_.settle(delay);
    report(gp, ext, FaultReason::kAtsDisabled, gp.get_address(), t0);
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  mem_port_.forward(gp, delay);
  lat_translated_.sample(kernel_time() + delay - t0);
}

void Iommu::translation_request(RootPort& port, tlm::tlm_generic_payload& gp, PcieExtension& ext,
                                sc_time& delay) {
  const Timing::Serving scope = mem_port_.serving();
  mem_port_.sync(delay);
  const sc_time t0 = kernel_time() + delay;
  ext.completions.clear();
  ext.completion_status = AtsCompletionStatus::kSuccess;
  const uint64_t va = gp.get_address() & kPageMask;
  const bool injected = port.take_injected_ur();
  if (injected) injected_ur_->inc();
  Translation t;
  if (port.config().ats_enabled) {
    TranslateRequest req{ext.requester_id, ext.pasid, va, !ext.no_write, false};
    t = translator_.translate(req, delay);
  }
  const bool unsupported = injected || !port.config().ats_enabled ||
                           (!t.ok() && !page_fault(t.fault)) || (t.ok() && !t.ats_allowed);
  if (unsupported) {
    ext.completion_status = AtsCompletionStatus::kUnsupportedRequest;
  } else {
    AtsCompletionEntry e;
    const bool priv = ext.pasid.priv_requested;
    e.read = t.ok() && (priv || t.user);
    if (e.read) {
      e.range = AtsRange::with_log2(t.page_pa, t.log2_size);
      e.write = t.writable && !ext.no_write;
      e.exe = ext.pasid.exe_requested && !t.no_execute;
      e.priv = priv;
      e.global = t.global;
    } else {
      e.range = AtsRange::with_log2(va, 12);
    }
    ext.completions.push_back(e);
    if (gp.get_data_ptr() && gp.get_data_length() >= 8) store_le64(gp.get_data_ptr(), e.encode());
  }
  lat_translation_request_.sample(kernel_time() + delay - t0);
}

void Iommu::reg_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  if ((len != 4 && len != 8) || (addr % len) != 0 || gp.get_byte_enable_ptr() ||
      gp.get_streaming_width() < len) {
    gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }
  delay += register_latency_;
  mem_port_.sync(delay);
  const uint64_t off = addr & ~7ull;
  const unsigned shift = static_cast<unsigned>(addr - off) * 8;
  const uint64_t mask = (len == 8 ? ~0ull : 0xffffffffull) << shift;
  unsigned char* p = gp.get_data_ptr();
  if (gp.is_read()) {
    const uint64_t v = (read_reg(off) & mask) >> shift;
    for (unsigned i = 0; i < len; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  } else {
    uint64_t v = 0;
    for (unsigned i = 0; i < len; ++i) v |= uint64_t{p[i]} << (8 * i);
    write_reg(off, v << shift, mask);
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace iosim

#include "device/ats_client.h"

#include "device/stat_names.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

#include <array>
#include <cassert>

namespace iosim {

AtsClient::AtsClient(DeviceUpstream& up, Atc& atc, StatGroup& g, uint32_t max_attempts,
                     StatGroup* fault_stats)
    : up_(up),
      atc_(atc),
      max_attempts_(max_attempts),
      sent_(g.counter("translation_requests", "requests", "ATS Translation Requests sent")),
      stale_(g.counter("stale_completions", "completions",
                       "completions dropped because an invalidation overlapped them")),
      errors_(g.counter("translation_errors", "completions",
                        "Unsupported Request / Completer Abort completions")),
      latency_(g.histogram(AtsClientStats::kTranslationLatency,
                           "Translation Request sent to usable completion")),
      ur_(fault_stats ? &fault_stats->counter("ur_completions", "completions",
                                              "Translation Completions with status "
                                              "Unsupported Request")
                      : nullptr) {}

void AtsClient::on_invalidate(std::optional<uint32_t> pasid, const AtsRange& range) {
  for (Pending& p : pending_) {
    if (!pasid || *pasid == p.pasid) p.seen.push_back({pasid, range});
  }
}

bool AtsClient::is_stale(const Pending& p, uint64_t va,
                         const std::vector<AtsCompletionEntry>& cs) const {
  if (p.seen.empty()) return false;  // the common case: no invalidation while in flight
  for (const AtsCompletionEntry& c : cs) {
    const uint64_t first = c.range.is_whole_space() ? 0 : va & ~(c.range.size_bytes() - 1);
    const uint64_t last = c.range.is_whole_space() ? ~0ull : first + (c.range.size_bytes() - 1);
    for (const Invalidation& inv : p.seen) {
      const uint64_t ifirst = inv.range.is_whole_space() ? 0 : inv.range.base;
      const uint64_t ilast = inv.range.is_whole_space() ? ~0ull : inv.range.last();
      if (first <= ilast && ifirst <= last) return true;
    }
  }
  return false;
}

AtsClient::Result AtsClient::translate(const Request& r, LocalTime& time) {
  const sc_core::sc_time start = time.now();
  const uint64_t page = r.va & ~((1ull << kAtsPageShift) - 1);
  const PasidPrefix prefix =
      r.pasid == kNoPasid ? PasidPrefix{} : PasidPrefix::with(r.pasid, r.exe, r.priv);
  for (uint32_t attempt = 0; attempt < max_attempts_; ++attempt) {
    // Each thread translating at once has its own payload, held until the
    // completion has been read. Its extension is set as translation_request() would
    // (the prefix is validated by PasidPrefix::with); a reused one keeps the
    // capacity of its completion list.
    const Payloads::Lease req(payloads_);
    PcieExtension& ext = req->ext;
    ext.requester_id = up_.requester_id();
    ext.address_type = AddressType::kTranslationRequest;
    ext.pasid = prefix;
    ext.no_write = r.no_write;
    ext.completion_status = AtsCompletionStatus::kSuccess;
    ext.completions.clear();
    assert(ext.kind() == PcieKind::kTranslationRequest);
    std::array<unsigned char, 8> data{};
    tlm::tlm_generic_payload& gp = req->gp;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(page);
    gp.set_data_ptr(data.data());
    gp.set_data_length(8);
    gp.set_streaming_width(8);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    // A list node from the spares (no allocation per request); the iterator stays
    // valid while other threads add and remove theirs.
    if (spare_.empty()) spare_.emplace_back();
    pending_.splice(pending_.end(), spare_, spare_.begin());
    const auto it = std::prev(pending_.end());
    it->pasid = r.pasid;
    it->seen.clear();
    sent_.inc();
    sc_core::sc_time delay = time.request_delay();
    up_.transport(gp, delay);
    const bool response_ok = gp.is_response_ok();
    time.answered(delay);
    spare_.splice(spare_.begin(), pending_, it);
    const Pending& done = *it;  // a spare now, unchanged until the next request

    if (!response_ok || ext.completion_status != AtsCompletionStatus::kSuccess ||
        ext.completions.empty()) {
      errors_.inc();
      if (ur_ && response_ok && ext.completion_status == AtsCompletionStatus::kUnsupportedRequest)
        ur_->inc();
      return {Outcome::kError, {}};
    }
    if (is_stale(done, page, ext.completions)) {
      stale_.inc();
      continue;
    }
    const sc_core::sc_time now = time.now();
    latency_.sample(now - start);
    // Entry i of a multi-page completion covers the i-th range after the first.
    const AtsCompletionEntry& mine = ext.completions.front();
    if (mine.untranslated_only) return {Outcome::kUntranslatedOnly, mine};
    uint64_t va = page;
    for (const AtsCompletionEntry& c : ext.completions) {
      atc_.fill(r.pasid, va, c, now);
      if (c.range.is_whole_space()) break;
      va = (va & ~(c.range.size_bytes() - 1)) + c.range.size_bytes();
    }
    if (!mine.read && !mine.write) return {Outcome::kNoTranslation, mine};
    return {Outcome::kFilled, mine};
  }
  return {Outcome::kStaleGaveUp, {}};
}

}  // namespace iosim

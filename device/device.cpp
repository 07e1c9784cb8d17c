#include "device/device.h"

#include "device/stat_names.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

namespace iosim {
namespace {

// The first min(len, 8) bytes at p as a little-endian value (one load, not a loop
// per byte: this runs for every request).
uint64_t load_le(const uint8_t* p, uint32_t len) {
  uint64_t v = 0;
  if (len >= sizeof v) {
    std::memcpy(&v, p, sizeof v);  // a constant size: one load
  } else {
    std::memcpy(&v, p, len);
  }
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

void store_le(uint8_t* p, uint32_t len, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  std::memcpy(p, &v, std::min<uint32_t>(len, sizeof v));
}

InvalidationHandler::Config inv_config(const DeviceConfig& c) {
  InvalidationHandler::Config h;
  h.queue_depth = c.effective_invalidate_queue_depth();
  h.processing_latency_ns = c.invalidation_processing_latency_ns;
  h.translation_agent_id = c.translation_agent_id;
  h.completion_count = c.invalidate_completion_count;
  h.completion_delay_ns = c.fault.completion_delay_ns;
  h.drop_completions = c.fault.drop_completions;
  h.duplicate_completions = c.fault.duplicate_completions;
  h.early_completion_ns = c.fault.early_completion_ns;
  return h;
}

void count(Counter* c) {
  if (c) c->inc();
}

const DeviceConfig& validated(const DeviceConfig& c) {
  c.validate();
  return c;
}

}  // namespace

Device::Device(sc_core::sc_module_name name, SimContext& ctx, const DeviceConfig& cfg)
    : sc_module(name),
      upstream("upstream"),
      downstream("downstream"),
      cfg_(validated(cfg)),
      atc_lookup_time_(ns(cfg_.atc_lookup_latency_ns)),
      issue_time_(ns(cfg_.request_issue_latency_ns)),
      stats_(ctx.stats().group(*this)),
      timing_(ctx.timing()),
      atc_(cfg_.atc, timing_),
      atc_hits_(
          stats_.counter(DeviceStats::kAtcHits, "lookups", "ATC lookups that hit with permission")),
      atc_misses_(stats_.counter(DeviceStats::kAtcMisses, "lookups", "ATC lookups that missed")),
      requests_(stats_.counter("memory_requests", "requests", "memory read/write requests sent")),
      bytes_(stats_.counter(DeviceStats::kBytes, "bytes", "bytes read or written by DMA")),
      access_errors_(
          stats_.counter(DeviceStats::kAccessErrors, "accesses", "DMA accesses that failed")),
      bad_downstream_(stats_.counter("bad_downstream", "transactions",
                                     "downstream transactions that are not ATS/PRI messages")),
      stall_(stats_.histogram("translation_stall",
                              "access start to its first memory request (ATC + ATS + PRI)")),
      read_latency_(stats_.histogram(DeviceStats::kDmaReadLatency,
                                     "DMA read access, issue by the thread to data back")),
      write_latency_(stats_.histogram(DeviceStats::kDmaWriteLatency,
                                      "DMA write access, issue by the thread to completion")),
      read_round_trip_(stats_.histogram(
          "read_round_trip", "memory read request handed to the link until its data is back")),
      issue_times_(stats_.average(DeviceStats::kDmaIssueTime, "ns",
                                  "simulated time of each completed access's issue (min: first)")),
      completion_times_(stats_.average(DeviceStats::kDmaCompletionTime, "ns",
                                       "simulated time of each access's completion (max: last)")) {
  downstream.register_b_transport(this, &Device::b_transport_down);
  spawn_method_on(arrival_, "deliver_arrived", [this] { deliver_arrived(); });
  stats_.ratio("atc_hit_rate", "ATC hits / lookups", atc_hits_, atc_misses_);
  stats_.formula("bandwidth", "GB/s", "bytes moved per simulated second", [this] {
    const double t = to_sec(sc_core::sc_time_stamp());
    return t > 0 ? static_cast<double>(bytes_.value()) / t / 1e9
                 : std::numeric_limits<double>::quiet_NaN();
  });
  // The fault group exists only with a fault configured (the stats of a device without
  // one are those of the model without fault injection).
  StatGroup* faults = cfg_.fault.any() ? &stats_.group("fault") : nullptr;
  ats_ = std::make_unique<AtsClient>(*this, atc_, stats_.group(DeviceStats::kAtsGroup),
                                     cfg_.max_translation_attempts, faults);
  pri_ = std::make_unique<PriClient>(*this, cfg_.outstanding_page_request_allocation,
                                     cfg_.pri_enabled, stats_.group(DeviceStats::kPriGroup),
                                     timing_, cfg_.fault.pri_response_timeout_ns, faults);
  inv_ = std::make_unique<InvalidationHandler>(inv_config(cfg_), *this, atc_, *ats_,
                                               stats_.group("invalidation"), faults);
  sc_core::sc_spawn([this] { inv_->run(); }, "invalidation_handler");
  if (cfg_.kind == DeviceKind::kMirror) {
    MirrorMmu::Config m{cfg_.mirror, cfg_.atc_lookup_latency_ns, cfg_.max_translation_attempts};
    mirror_ =
        std::make_unique<MirrorMmu>("mirror_mmu", m, *this, atc_, timing_, stats_.group("mirror"));
  }
  if (faults) {
    prg_responses_to_lose_ = cfg_.fault.lose_prg_responses;
    lost_prg_responses_ = &faults->counter("lost_prg_responses", "responses",
                                           "PRG Responses lost before reaching the device");
    ignored_prg_responses_ = &faults->counter("ignored_prg_responses", "responses",
                                              "PRG Responses ignored by the unresponsive device");
    refused_accesses_ = &faults->counter(
        "refused_accesses", "accesses",
        "DMA accesses failed (and threads ended) because the device was unresponsive");
  }
  if (cfg_.fault.unresponsive_from_ns > 0) {
    sc_core::sc_spawn([this] { unresponsive_timer(); }, "unresponsive_timer");
  }
  for (size_t i = 0; i < cfg_.threads.size(); ++i) {
    threads_.push_back(std::make_unique<DmaThread>(
        std::string(basename()) + ".thread" + std::to_string(i), cfg_.threads[i]));
  }
  size_t slots = 0;
  for (auto& t : threads_) slots += t->slot_count();
  path_.set_members(slots);
  // After a request, a slot's next send is an ATC lookup or, for a further page
  // without ATS, the issue latency alone.
  // A mirror device's walk sends its next read as soon as one returns.
  path_.set_min_send_gap(mirror_ ? sc_core::SC_ZERO_TIME : std::min(atc_lookup_time_, issue_time_));
  // Besides the slots, the device acts on downstream messages: their handler is
  // idle and none arrives by then.
  path_.set_quiet_until([this](const sc_core::sc_time& t) {
    return inv_->idle() && (arrivals_.empty() || arrivals_.front().first > t) &&
           t < unresponsive_at_;
  });
  for (auto& t : threads_) t->spawn(*this, timing_, &path_);
}

Device::~Device() = default;

void Device::transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  upstream->b_transport(gp, delay);
}

void Device::b_transport_down(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const PcieExtension* ext = PcieExtension::of(gp);
  DownMessage m;
  if (ext && ext->kind() == PcieKind::kInvalidateRequest) {
    m = std::get<InvalidateRequest>(ext->body);
  } else if (ext && ext->kind() == PcieKind::kPrgResponse) {
    m = std::get<PrgResponse>(ext->body);
  } else {
    bad_downstream_.inc();
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  const sc_core::sc_time link_arrival = sc_core::sc_time_stamp() + delay;
  if (delay == sc_core::SC_ZERO_TIME && arrivals_.empty()) {
    deliver(m);
    return;
  }
  // A posted message may not pass an earlier one (PCIe ordering): one that would
  // arrive first (a link filling gaps in simulated-time order, decoupled) takes
  // effect with the earlier one, after it.
  const sc_core::sc_time at =
      arrivals_.empty() ? link_arrival : std::max(link_arrival, arrivals_.back().first);
  if (arrivals_.empty()) {
    arrival_.notify(delay);
    timing_.notified();
  }
  arrivals_.emplace_back(at, std::move(m));
}

void Device::deliver(const DownMessage& m) {
  if (const auto* r = std::get_if<InvalidateRequest>(&m)) {
    inv_->accept(*r);  // it ignores requests once unresponsive
  } else if (unresponsive_) {
    count(ignored_prg_responses_);
  } else if (prg_responses_to_lose_ > 0) {
    --prg_responses_to_lose_;
    count(lost_prg_responses_);
  } else {
    pri_->on_response(std::get<PrgResponse>(m));
  }
}

void Device::unresponsive_timer() {
  if (start_event_) sc_core::wait(*start_event_);
  const sc_core::sc_time from = ns(cfg_.fault.unresponsive_from_ns);
  unresponsive_at_ = sc_core::sc_time_stamp() + from;
  sc_core::wait(from);
  unresponsive_ = true;
  inv_->set_unresponsive();
  pri_->stop();  // DMA threads waiting for a PRG Response give up
  for (const std::function<void()>& f : unresponsive_hooks_) f();
}

void Device::deliver_arrived() {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  while (!arrivals_.empty() && arrivals_.front().first <= now) {
    const DownMessage m = std::move(arrivals_.front().second);
    arrivals_.pop_front();
    deliver(m);
  }
  if (!arrivals_.empty()) arrival_.notify(arrivals_.front().first - now);
}

uint32_t Device::pasid_of(const DmaThread& t) const {
  return cfg_.pasid_enabled && t.config().has_pasid ? t.config().pasid : kNoPasid;
}

const PasidPrefix& Device::prefix_of(DmaThread& t, uint32_t pasid) {
  static const PasidPrefix kNone{};
  if (pasid == kNoPasid) return kNone;
  const DmaThreadConfig& c = t.config();
  PasidPrefix& memo = t.prefix_memo();
  if (!memo.present || memo.pasid != pasid || memo.exe_requested != c.exe_requested ||
      memo.priv_requested != c.priv_requested) {
    memo = PasidPrefix::with(pasid, c.exe_requested, c.priv_requested);
  }
  return memo;
}

Device::Route Device::route(const DmaThread& t, uint64_t va, bool write, bool acquire,
                            LocalTime& time) {
  const uint32_t pasid = pasid_of(t);
  const uint32_t need = write ? tperm::kWrite : tperm::kRead;
  bool counted = false;
  for (uint32_t attempt = 0; attempt < cfg_.max_translation_attempts; ++attempt) {
    // The lookup starts when the previous step's time has passed; a hit's latency
    // is taken together with the issue latency (see device.h).
    time.keep_up();
    if (auto hit = atc_.lookup(pasid, va)) {
      if (hit->perms & tperm::kUntranslated) {
        time.advance(atc_lookup_time_);
        return {Route::kUntranslated, {}, {}};
      }
      if (hit->perms & need) {
        if (!counted) atc_hits_.inc();
        if (acquire) atc_.acquire(hit->id);
        time.advance(atc_lookup_time_);
        return {Route::kTranslated, *hit, {}};
      }
    }
    time.advance(atc_lookup_time_);  // the miss is known when the lookup ends
    if (!counted) atc_misses_.inc();
    counted = true;
    // Sent when the lookup ends, like a memory request (on the link it may not pass
    // a TLP that another slot sends before it); the IOMMU's processes answer it.
    time.sync_to_send();
    AtsClient::Request req{pasid, va, !write && cfg_.no_write_for_reads, t.config().exe_requested,
                           t.config().priv_requested};
    const AtsClient::Result res = ats_->translate(req, time);
    switch (res.outcome) {
      case AtsClient::Outcome::kFilled:
        if (!(write ? res.entry.write : res.entry.read)) return {Route::kFault, {}, {}};
        break;  // look it up again
      case AtsClient::Outcome::kNoTranslation:
        return {Route::kFault, {}, {}};
      case AtsClient::Outcome::kUntranslatedOnly:
        return {Route::kUntranslated, {}, {}};
      case AtsClient::Outcome::kError:
        return {Route::kError, {}, "translation request failed"};
      case AtsClient::Outcome::kStaleGaveUp:
        return {Route::kError, {}, "every translation completion was stale"};
    }
  }
  return {Route::kError, {}, "translation lost on every attempt"};
}

AccessResult Device::access(DmaThread& t, const DmaRequest& r, uint64_t write_value,
                            LocalTime& time) {
  AccessResult res;
  if (r.len == 0) return res;
  if (time.now() >= unresponsive_at_) {
    // The Function has stopped working: nothing is sent, the thread ends.
    count(refused_accesses_);
    access_errors_.inc();
    res.ok = false;
    res.halted = true;
    res.error = "device unresponsive";
    return res;
  }
  // Most accesses are small and within one page: keep them off the heap.
  std::array<uint8_t, 64> small{};
  std::vector<uint8_t> large;
  uint8_t* data = small.data();
  if (r.len > small.size()) {
    large.assign(r.len, 0);
    data = large.data();
  }
  if (r.write) store_le(data, r.len, write_value);
  boost::container::small_vector<Page, 2> pages;
  for (uint64_t va = r.va; va < r.va + r.len;) {
    const uint64_t page_end = (va | ((1ull << kAtsPageShift) - 1)) + 1;
    const uint64_t end = std::min<uint64_t>(page_end, r.va + r.len);
    pages.push_back({va, static_cast<uint32_t>(end - va), static_cast<uint32_t>(va - r.va)});
    va = end;
  }
  const sc_core::sc_time start = time.now();
  boost::container::small_vector<Route, 2> routes;
  if (mirror_) {
    for (const Page& p : pages) {
      routes.push_back(mirror_route(t, p.va, r.write, time));
      if (routes.back().kind == Route::kError) {
        time.flush();
        for (const Route& rt : routes) {
          if (rt.kind == Route::kPhysical) atc_.release(rt.hit.id);
        }
        res.ok = false;
        res.error = routes.back().error;
        access_errors_.inc();
        return res;
      }
    }
  } else if (!cfg_.ats_enabled) {
    routes.assign(pages.size(), Route{Route::kUntranslated, {}, {}});
  } else {
    bool resolved = false;
    for (uint32_t attempt = 0; attempt < cfg_.max_translation_attempts && !resolved; ++attempt) {
      routes.clear();
      std::vector<PriClient::Page> faults;
      for (const Page& p : pages) {
        routes.push_back(route(t, p.va, r.write, true, time));
        if (routes.back().kind == Route::kFault) faults.push_back({p.va, !r.write, r.write});
        if (routes.back().kind == Route::kError) break;
      }
      const bool failed = routes.back().kind == Route::kError;
      resolved = !failed && faults.empty();
      if (resolved) break;
      time.flush();
      for (const Route& rt : routes) {
        if (rt.kind == Route::kTranslated) atc_.release(rt.hit.id);
      }
      if (failed) {
        res.error = routes.back().error;
      } else if (!pri_->enabled()) {
        res.error = cfg_.pri_enabled ? "no translation and PRI disabled by Response Failure"
                                     : "no translation and PRI not enabled";
      } else {
        time.sync();  // the page request involves the host's processes
        const uint32_t pasid = pasid_of(t);
        std::optional<uint32_t> p;
        if (pasid != kNoPasid) p = pasid;
        const PriClient::Outcome o = pri_->request(p, faults);
        if (o == PriClient::Outcome::kSuccess) continue;
        if (o == PriClient::Outcome::kTimeout) {
          if (cfg_.fault.pri_timeout_action == PriTimeoutAction::kRetry) continue;
          res.error = "PRG Response time-out";
        } else {
          res.error = o == PriClient::Outcome::kInvalidRequest ? "PRG Response: Invalid Request"
                                                               : "PRG Response: Response Failure";
        }
      }
      break;
    }
    if (!resolved) {
      if (res.error.empty()) res.error = "no translation after every attempt";
      if (time.now() >= unresponsive_at_) {  // it stopped while this access waited
        count(refused_accesses_);
        res.error = "device unresponsive";
        res.halted = true;
      }
      res.ok = false;
      access_errors_.inc();
      return res;
    }
  }
  stall_.sample(time.now() - start);
  for (size_t i = 0; i < pages.size(); ++i) {
    std::string err;
    if (!issue(t, pages[i], r.write, routes[i], data + pages[i].offset, err, time) && res.ok) {
      res.ok = false;
      res.error = err;
    }
  }
  if (!res.ok) access_errors_.inc();
  if (res.ok) {
    const sc_core::sc_time done = time.now();
    (r.write ? write_latency_ : read_latency_).sample(done - start);
    issue_times_.sample(time_in_ns(start));
    completion_times_.sample(time_in_ns(done));
  }
  res.value = load_le(data, r.len);
  return res;
}

Device::Route Device::mirror_route(const DmaThread& t, uint64_t va, bool write, LocalTime& time) {
  MirrorMmu::Result r = mirror_->translate(t.config().pasid, va, write, time);
  if (!r.ok) return {Route::kError, {}, r.error};
  return {Route::kPhysical, r.hit, nullptr};
}

bool Device::issue(DmaThread& t, const Page& p, bool write, const Route& rt, uint8_t* data,
                   std::string& error, LocalTime& time) {
  time.advance(issue_time_);  // with an ATC hit's lookup: one step
  sc_core::sc_time delay = time.send();
  const bool translated = rt.kind == Route::kTranslated;
  const bool physical = rt.kind == Route::kPhysical;
  const bool cached = translated || physical;  // a translation of the device's, held
  // A mirror device's requests carry no PASID; the checkers know its context by tag.
  const uint32_t pasid =
      physical ? mirror_context_tag(cfg_.requester_id, t.config().pasid) : pasid_of(t);
  const PasidPrefix& prefix =
      prefix_of(t, physical ? kNoPasid : pasid);  // may throw: before taking a payload
  // The payload's own extension, set as PcieExtension::memory() would (the prefix
  // is validated by PasidPrefix::with, the Address Type is 00 or 10).
  PayloadWithExtension<PcieExtension>& req = payloads_.take();
  PcieExtension& ext = req.ext;
  assert(ext.kind() == PcieKind::kMemory && !ext.no_write);
  ext.requester_id = cfg_.requester_id;
  ext.address_type = translated ? AddressType::kTranslated : AddressType::kUntranslated;
  ext.pasid = prefix;
  const uint64_t addr = cached ? rt.hit.pa : p.va;
  tlm::tlm_generic_payload& gp = req.gp;
  gp.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(p.len);
  gp.set_streaming_width(p.len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const sc_core::sc_time issued = time.now();
  requests_.inc();
  // A posted write no longer needs its translation once it is sent: an Invalidate
  // Completion sent after it cannot pass it on the link (PCIe ordering).
  if (write && cached) atc_.release(rt.hit.id, delay);
  transport(gp, delay);
  const bool ok = gp.is_response_ok();
  const std::string status = ok ? std::string() : gp.get_response_string();
  payloads_.give(req);
  time.received(delay);                           // the data back, or the write's completion
  if (!write && cached) atc_.release(rt.hit.id);  // data returned
  if (!write) read_round_trip_.sample(time.now() - issued);
  if (gt_) {
    DeviceAccessEvent e{issued,
                        t.name(),
                        cfg_.requester_id,
                        pasid,
                        p.va,
                        addr,
                        write,
                        load_le(data, p.len),
                        cached ? rt.hit.obtained : issued,
                        cached};
    gt_->device_access(e);
  }
  if (!ok) {
    error = "memory request failed: " + status;
    return false;
  }
  bytes_.add(p.len);
  return true;
}

void Device::stop_pasid(DmaThread& t) {
  if (unresponsive_) return;
  const uint32_t pasid = pasid_of(t);
  if (pasid != kNoPasid && pri_->enabled()) pri_->stop_pasid(pasid);
}

}  // namespace iosim

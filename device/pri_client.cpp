#include "device/pri_client.h"

#include "device/stat_names.h"
#include "sc_models/timing/server_pool.h"

#include <algorithm>

namespace iosim {

PriClient::PriClient(DeviceUpstream& up, uint32_t allocation, bool enabled, StatGroup& g,
                     Timing& timing, double response_timeout_ns, StatGroup* fault_stats)
    : up_(up),
      allocation_(allocation),
      enabled_(enabled),
      response_timeout_(ns(response_timeout_ns)),
      timeout_counter_(fault_stats
                           ? &fault_stats->counter("pri_response_timeouts", "groups",
                                                   "Page Request Groups given up after the PRI "
                                                   "response time-out")
                           : nullptr),
      credits_(allocation > 0 ? allocation : 1,  // 0 only with PRI disabled (DeviceConfig)
               timing),
      indices_(kPrgIndexMax + 1, timing),
      page_requests_(
          g.counter(PriClientStats::kPageRequests, "requests", "PRI Page Requests sent")),
      groups_sent_(g.counter("page_request_groups", "groups", "Page Request Groups sent")),
      stop_markers_(g.counter("stop_markers", "messages", "Stop Markers sent")),
      invalid_requests_(
          g.counter("prg_invalid_request", "responses", "PRG Responses with Invalid Request")),
      response_failures_(
          g.counter("prg_response_failure", "responses", "PRG Responses with Response Failure")),
      protocol_errors_(
          g.counter("prg_protocol_errors", "responses", "PRG Responses for no outstanding group")),
      round_trip_(
          g.histogram(PriClientStats::kRoundTrip, "first Page Request sent to PRG Response")),
      allocation_wait_(
          g.histogram("pri_allocation_wait", "wait for Outstanding Page Request Allocation")) {}

uint16_t PriClient::open_group(uint32_t size) {
  while (groups_[next_index_]) next_index_ = (next_index_ + 1) & kPrgIndexMax;
  const uint16_t i = next_index_;
  next_index_ = (next_index_ + 1) & kPrgIndexMax;
  if (spare_.empty()) {
    pool_.push_back(std::make_unique<Group>());
    spare_.push_back(pool_.back().get());
  }
  Group* g = spare_.back();
  spare_.pop_back();
  g->size = size;
  g->outcome.reset();
  groups_[i] = g;
  ++active_groups_;
  return i;
}

void PriClient::close_group(uint16_t index) {
  spare_.push_back(groups_[index]);
  groups_[index] = nullptr;
  --active_groups_;
  indices_.release(1);
}

PriClient::Outcome PriClient::request(std::optional<uint32_t> pasid,
                                      const std::vector<Page>& pages) {
  for (size_t first = 0; first < pages.size(); first += allocation_) {
    const auto n = static_cast<uint32_t>(std::min<size_t>(allocation_, pages.size() - first));
    const Outcome o = send_group(pasid, pages.data() + first, n);
    if (o != Outcome::kSuccess) return o;
  }
  return enabled_ ? Outcome::kSuccess : Outcome::kDisabled;
}

PriClient::Outcome PriClient::send_group(std::optional<uint32_t> pasid, const Page* pages,
                                         uint32_t n) {
  if (!enabled_) return Outcome::kDisabled;
  const sc_core::sc_time wait_start = sc_core::sc_time_stamp();
  // Credits for the group's requests, then a PRG index, each in the order asked.
  credits_.acquire(n);
  indices_.acquire(1);
  if (!enabled_) {  // a Response Failure while waiting
    indices_.release(1);
    credits_.release(n);
    return Outcome::kDisabled;
  }
  allocation_wait_.sample(sc_core::sc_time_stamp() - wait_start);
  const uint16_t index = open_group(n);
  Group* g = groups_[index];
  groups_sent_.inc();
  const sc_core::sc_time start = sc_core::sc_time_stamp();
  const PasidPrefix prefix = pasid ? PasidPrefix::with(*pasid) : PasidPrefix{};
  sc_core::sc_time last_arrival = start;
  for (uint32_t i = 0; i < n; ++i) {
    PageRequest pr;
    pr.page_address = pages[i].va & ~((1ull << kAtsPageShift) - 1);
    pr.read = pages[i].read || !pages[i].write;
    pr.write = pages[i].write;
    pr.last = i + 1 == n;
    pr.prg_index = index;
    pr.pasid = prefix;
    page_requests_.inc();
    if (i + 1 < n) {
      up_.send_message(pr);
    } else {
      // The response comes after the last request has arrived: waiting for the
      // arrival and for the response is one wait (the arrival is only waited for
      // when the response came first: a Response Failure of another group).
      last_arrival = sc_core::sc_time_stamp() + up_.post_message(pr);
    }
  }
  const sc_core::sc_time deadline = start + response_timeout_;
  while (!g->outcome) {
    if (response_timeout_ == sc_core::SC_ZERO_TIME) {
      sc_core::wait(g->done);
      continue;
    }
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) {
      // The group is given up: its credits and index come back (finish, close_group).
      ++timeouts_;
      if (timeout_counter_) timeout_counter_->inc();
      finish(index, Outcome::kTimeout);
      break;
    }
    sc_core::wait(deadline - now, g->done);
  }
  if (sc_core::sc_time_stamp() < last_arrival)
    sc_core::wait(last_arrival - sc_core::sc_time_stamp());
  const Outcome o = *g->outcome;
  if (o != Outcome::kTimeout) round_trip_.sample(sc_core::sc_time_stamp() - start);
  close_group(index);
  return o;
}

void PriClient::finish(uint16_t index, Outcome o) {
  Group& g = *groups_[index];
  if (g.outcome) return;
  g.outcome = o;
  g.done.notify();
  credits_.release(g.size);
}

void PriClient::on_response(const PrgResponse& r) {
  if (r.prg_index > kPrgIndexMax || !groups_[r.prg_index] || groups_[r.prg_index]->outcome) {
    protocol_errors_.inc();
    return;
  }
  switch (r.code) {
    case PrgResponseCode::kSuccess:
      finish(r.prg_index, Outcome::kSuccess);
      break;
    case PrgResponseCode::kInvalidRequest:
      invalid_requests_.inc();
      finish(r.prg_index, Outcome::kInvalidRequest);
      break;
    case PrgResponseCode::kResponseFailure:
      response_failures_.inc();
      enabled_ = false;
      for (uint16_t i = 0; i <= kPrgIndexMax; ++i) {  // in index order
        if (groups_[i]) finish(i, Outcome::kResponseFailure);
      }
      break;
  }
}

void PriClient::stop() {
  enabled_ = false;
  for (uint16_t i = 0; i <= kPrgIndexMax; ++i) {
    if (groups_[i]) finish(i, Outcome::kDisabled);
  }
}

void PriClient::stop_pasid(uint32_t pasid) {
  StopMarker m;
  m.prg_index = next_index_;
  m.pasid = PasidPrefix::with(pasid);
  stop_markers_.inc();
  up_.send_message(m);
}

}  // namespace iosim

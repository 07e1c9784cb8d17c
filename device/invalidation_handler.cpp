#include "device/invalidation_handler.h"

#include <algorithm>

#include "sc_models/timing/server_pool.h"

namespace iosim {
namespace {

void count(Counter* c, uint64_t n = 1) {
  if (c) c->add(n);
}

}  // namespace

Counter* InvalidationHandler::fault_counter(StatGroup* g, const char* name, const char* unit,
                                            const char* desc) {
  return g ? &g->counter(name, unit, desc) : nullptr;
}

InvalidationHandler::InvalidationHandler(const Config& cfg, DeviceUpstream& up, Atc& atc,
                                         AtsClient& ats, StatGroup& g, StatGroup* f)
    : cfg_(cfg),
      up_(up),
      atc_(atc),
      ats_(ats),
      received_(g.counter("invalidate_requests", "requests", "Invalidate Requests received")),
      completions_(g.counter("invalidate_completions", "messages", "Invalidate Completions sent")),
      overflows_(g.counter("invalidate_queue_overflows", "requests",
                           "Invalidate Requests beyond the Invalidate Queue Depth (TA error)")),
      entries_dropped_(
          g.counter("atc_entries_invalidated", "entries", "ATC entries dropped by invalidations")),
      queue_depth_(g.average("invalidate_queue_occupancy", "requests",
                             "requests queued when one arrives (itself included)")),
      service_time_(g.histogram("invalidation_service_time",
                                "Invalidate Request arrival to Invalidate Completion sent")),
      drain_wait_(g.histogram("invalidation_drain_wait",
                              "wait for in-flight accesses using dropped translations")),
      late_(fault_counter(f, "late_completions", "messages",
                          "Invalidate Completions sent completion_delay_ns late")),
      dropped_(fault_counter(f, "dropped_completions", "messages",
                             "Invalidate Completions not sent (drop_completions)")),
      duplicated_(fault_counter(f, "duplicated_completions", "messages",
                                "extra copies of Invalidate Completions sent")),
      early_(fault_counter(f, "early_completions", "requests",
                           "Invalidate Requests answered before their ATC entries were dropped")),
      ignored_(fault_counter(f, "ignored_invalidate_requests", "requests",
                             "Invalidate Requests left unanswered by the unresponsive device")) {
  processing_ = ns(cfg_.processing_latency_ns);
}

void InvalidationHandler::release_slot() {
  if (!slot_freed()) return;
  queue_.pop_front();
  holding_ = false;
}

void InvalidationHandler::accept(const InvalidateRequest& r) {
  received_.inc();
  if (unresponsive_) {
    count(ignored_);
    return;
  }
  release_slot();
  if (queue_.size() >= cfg_.queue_depth) overflows_.inc();
  queue_.push_back({r, sc_core::sc_time_stamp()});
  queue_depth_.sample(static_cast<double>(queue_.size()));
  if (idle_) {
    // Wake the handler when this request's processing latency has passed.
    idle_ = false;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    wake_.notify(std::max(now, free_at_) + processing_ - now);
  }
}

void InvalidationHandler::run() {
  for (;;) {
    // The request keeps its queue slot until its completion has arrived.
    release_slot();
    if (queue_.size() == (holding_ ? 1u : 0u)) {
      idle_ = true;
      sc_core::wait(wake_);
    } else {
      const sc_core::sc_time now = sc_core::sc_time_stamp();
      sc_core::wait(std::max(now, free_at_) + processing_ - now);
    }
    release_slot();
    process(queue_.front());
  }
}

void InvalidationHandler::process(const Item& item) {
  const InvalidateRequest r = item.req;  // the queue may change while this waits
  ++processed_;
  std::optional<uint32_t> pasid;
  if (r.pasid.present) pasid = r.pasid.pasid;
  if (cfg_.early_completion_ns > 0) {
    // Fault: the completion goes out first; the entries are dropped later and their
    // in-flight users are not waited for.
    service_time_.sample(sc_core::sc_time_stamp() - item.arrival);
    const sc_core::sc_time arrives = send_completions(r);
    count(early_);
    sc_core::wait(ns(cfg_.early_completion_ns));
    entries_dropped_.add(atc_.invalidate(pasid, r.range, r.global_invalidate).size());
    ats_.on_invalidate(pasid, r.range);
    free_at_ = arrives;
    holding_ = true;
    return;
  }
  const std::vector<uint64_t> ids = atc_.invalidate(pasid, r.range, r.global_invalidate);
  entries_dropped_.add(ids.size());
  ats_.on_invalidate(pasid, r.range);
  const sc_core::sc_time drain_start = sc_core::sc_time_stamp();
  atc_.wait_unused(ids);
  drain_wait_.sample(sc_core::sc_time_stamp() - drain_start);
  if (cfg_.completion_delay_ns > 0) sc_core::wait(ns(cfg_.completion_delay_ns));
  service_time_.sample(sc_core::sc_time_stamp() - item.arrival);
  free_at_ = send_completions(r);
  holding_ = true;
}

sc_core::sc_time InvalidationHandler::send_completions(const InvalidateRequest& r) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  if (unresponsive_) {
    count(ignored_);
    return now;
  }
  if (processed_ <= cfg_.drop_completions) {
    count(dropped_, cfg_.completion_count);
    return now;
  }
  InvalidateCompletion c;
  c.requester_id = up_.requester_id();
  c.destination_id = cfg_.translation_agent_id;
  c.itag_vector = 1u << r.itag;
  c.completion_count = cfg_.completion_count;
  const uint32_t copies = processed_ <= cfg_.duplicate_completions ? 2 : 1;
  sc_core::sc_time arrives = now;
  // The messages are posted in order; the last one's arrival frees the slot.
  for (uint32_t copy = 0; copy < copies; ++copy) {
    for (uint32_t k = 0; k < cfg_.completion_count; ++k) {
      completions_.inc();
      if (copy > 0) count(duplicated_);
      if (cfg_.completion_delay_ns > 0) count(late_);
      arrives = now + up_.post_message(c);
    }
  }
  return arrives;
}

}  // namespace iosim

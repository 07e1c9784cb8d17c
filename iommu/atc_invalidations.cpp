// AtcInvalidations: ITags, Invalidate Completions and time-outs.
#include "iommu/atc_invalidations.h"

#include <algorithm>

#include "iommu/stat_names.h"
#include "sc_models/sim/spawn.h"

namespace iosim {

using sc_core::sc_time;

AtcInvalidations::AtcInvalidations(StatGroup& stats, MemoryPort& mem, const sc_time& timeout,
                                   std::function<void(RootPort&, uint8_t)> on_timeout)
    : mem_(mem),
      timeout_(timeout),
      on_timeout_(std::move(on_timeout)),
      latency_(stats.histogram("atc_inv_latency", "ATC Invalidate Request sent to its completion")),
      occupancy_(stats.average("itag_occupancy", "ITags",
                               "ITags in flight on the port after each allocation")),
      timeouts_(stats.counter(CommandQueueStats::kItagTimeouts, "requests",
                              "ATC invalidations timed out")),
      stale_(stats.counter("stale_completions", "messages",
                           "Invalidate Completions for ITags not in flight")),
      backpressure_(stats.counter("itag_backpressure_stalls", "commands",
                                  "ATC invalidation commands that waited for a free ITag")) {
  spawn_method_on(arrival_event_, "deliver_completions", [this] { deliver_completions(); });
  spawn_method_on(timeout_event_, "on_itag_timeout", [this] { done_.notify(); });
}

uint8_t AtcInvalidations::issue(RootPort& port, InvalidateRequest req, sc_time& d) {
  if (!port.can_issue()) {
    backpressure_.inc();
    wait_until([&port] { return port.can_issue(); }, d);
  }
  mem_.sync(d);  // may leave d annotated: the request is sent at now + d
  req.itag = port.allocate_itag(sc_core::sc_time_stamp() + d, timeout_);
  deadline_bound_ = std::min(deadline_bound_, port.itag(req.itag).deadline);
  occupancy_.sample(port.itags_in_flight());
  port.send_message(PcieExtension::message(0, req), d);
  return req.itag;
}

bool AtcInvalidations::any_busy() const {
  for (RootPort* port : ports_) {
    if (port->itags_in_flight() > 0) return true;
  }
  return false;
}

void AtcInvalidations::expire_itags() {
  const sc_time now = sc_core::sc_time_stamp();
  if (now < deadline_bound_) return;  // no ITag can have expired
  for (RootPort* port : ports_) {
    port->for_each_busy_itag([&](uint8_t i, const RootPort::Itag& t) {
      if (t.deadline > now) return;
      port->free_itag(i);
      timeouts_.inc();
      failed_pending_ = true;
      on_timeout_(*port, i);
    });
  }
}

void AtcInvalidations::on_completion(RootPort& port, const InvalidateCompletion& c,
                                     const sc_time& delay) {
  arrivals_.emplace(sc_core::sc_time_stamp() + delay, Arrival{&port, c});
  // A processor waiting for ITags takes the completion itself when it arrives (one
  // activation instead of the method's and then its own); otherwise the method does.
  if (waiting_) {
    done_.notify(delay);
  } else {
    arrival_event_.notify(delay);
  }
}

bool AtcInvalidations::take_arrivals() {
  const sc_time now = sc_core::sc_time_stamp();
  bool freed = false;
  while (!arrivals_.empty() && arrivals_.begin()->first <= now) {
    const Arrival a = arrivals_.begin()->second;
    arrivals_.erase(arrivals_.begin());
    for (uint32_t v = a.completion.itag_vector; v != 0; v &= v - 1) {
      const auto i = static_cast<uint8_t>(__builtin_ctz(v));  // lowest ITag first
      if (!a.port->itag(i).busy) {
        stale_.inc();
        continue;
      }
      const sc_time issued = a.port->itag(i).issued;
      if (a.port->complete_itag(i, a.completion.completion_count)) {
        latency_.sample(now - issued);
        freed = true;
      }
    }
  }
  return freed;
}

void AtcInvalidations::deliver_completions() {
  if (take_arrivals()) done_.notify(sc_core::SC_ZERO_TIME);
  if (!arrivals_.empty())
    arrival_event_.notify(arrivals_.begin()->first - sc_core::sc_time_stamp());
}

}  // namespace iosim

// A shared hardware resource (memory channel, page walker pool, cache lookup port,
// command-queue processor, link direction) modelled by busy-until timestamps.
//
// A request that arrives at time t and needs service time s is given the server
// that frees up first; it starts at max(t, free_at) and holds the server until
// start + s. No SystemC process is involved: the caller adds (start + s - t) to its
// annotated delay or waits for it. Queueing delay therefore grows with load the way
// an M/D/c queue does, at the cost of a few comparisons per request.
//
// With a zero global quantum, requests are served in the order reserve() is called,
// which is then the order of simulated arrival. With temporal decoupling (a non-zero
// TLM global quantum) calls come in host order, and an initiator running ahead of the
// kernel time would make every other one queue behind its future reservations: each
// server then keeps its reservations not yet in the past and a request takes the
// first gap of its service time at or after its arrival (so decoupled initiators
// share a resource as if they had arrived in time order; the FIFO order of calls is
// not kept).
#pragma once

#include "sc_models/timing/lookahead.h"
#include "sc_models/timing/sim_time.h"

#include <systemc>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace iosim {

class ServerPool {
 public:
  explicit ServerPool(unsigned servers = 1);

  struct Grant {
    sc_core::sc_time start;   // when service begins (>= arrival)
    sc_core::sc_time finish;  // when the server is released
    unsigned server;          // which server served the request
  };

  // Reserves the earliest-free server for `service` starting no earlier than `arrival`.
  // Always inline: every memory burst and IOTLB lookup makes one (left to itself, the
  // compiler makes it a call).
  [[gnu::always_inline]] Grant reserve(const sc_core::sc_time& arrival,
                                       const sc_core::sc_time& service) {
    if (quantum_set()) return reserve_decoupled(arrival, service);
    unsigned best = 0;
    for (unsigned i = 1; i < free_at_.size(); ++i) {
      if (free_at_[i] < free_at_[best]) best = i;
    }
    return grant(best, arrival, std::max(free_at_[best], arrival).value(), service);
  }

  // One server (a link direction) whose requests are made when they are known, which
  // may be before a request ready earlier in simulated time is made (a completion is
  // booked when its target answers, a message sent meanwhile by another process is
  // ready before it). A request is served after every booked one ready no later than
  // it (first come, first served by simulated time) and, if it fits, in the gap before
  // a booked one ready later; else after it (a booked request keeps its time, which
  // its initiator already knows). Made in simulated-time order, requests are served
  // exactly as by reserve(). With a non-zero quantum: as reserve().
  // Inline: every TLP makes one. The common case, a request ready no earlier than
  // the last one booked, is a FIFO queue's append.
  Grant reserve_in_time_order(const sc_core::sc_time& ready, const sc_core::sc_time& service) {
    if (quantum_set()) return reserve_decoupled(ready, service);
    const uint64_t a = ready.value();
    if (ordered_head_ < ordered_.size() && ordered_.back().finish <= kernel_time().value()) {
      ordered_.clear();  // every booking has ended (in order of start, so of finish)
      ordered_head_ = 0;
    }
    if (ordered_head_ < ordered_.size() && ordered_.back().ready > a) {
      return reserve_out_of_order(ready, service);
    }
    if (ordered_.size() >= compact_at_) compact_ordered();
    const uint64_t t = ordered_head_ == ordered_.size() || ordered_.back().finish <= a
                           ? a
                           : ordered_.back().finish;
    return book_ordered(ordered_.size(), ready, t, service);
  }

  unsigned servers() const { return static_cast<unsigned>(free_at_.size()); }
  // Time at which the earliest-free server becomes free.
  sc_core::sc_time earliest_free() const;

  uint64_t requests() const { return requests_; }
  sc_core::sc_time total_wait() const { return total_wait_; }  // summed queueing delay
  sc_core::sc_time total_busy() const { return total_busy_; }  // summed service time

 private:
  Grant reserve_decoupled(const sc_core::sc_time& arrival, const sc_core::sc_time& service);
  // reserve_in_time_order() for a request ready before the last booked one: skips
  // the ended bookings and searches.
  Grant reserve_out_of_order(const sc_core::sc_time& ready, const sc_core::sc_time& service);
  // Skips the ended bookings and drops them once they are half of ordered_.
  void compact_ordered();
  // Books [t, t + service) at `pos` of ordered_ for a request ready at `ready`.
  Grant book_ordered(size_t pos, const sc_core::sc_time& ready, uint64_t t,
                     const sc_core::sc_time& service) {
    const uint64_t s = service.value();
    if (s > 0) {
      // Made in place, field by field (as in reserve_decoupled: a slot built on the
      // stack and copied in stalls on its reload).
      ReadySlot& b = pos == ordered_.size()
                         ? ordered_.emplace_back()
                         : *ordered_.emplace(ordered_.begin() + static_cast<std::ptrdiff_t>(pos));
      b.ready = ready.value();
      b.start = t;
      b.finish = t + s;
    }
    return grant(0, ready, t, service);
  }
  // The grant of `server` from `start` (a raw time value) to a request arriving at
  // `arrival`: the server's free time and the counters follow it.
  Grant grant(unsigned server, const sc_core::sc_time& arrival, uint64_t start_value,
              const sc_core::sc_time& service) {
    const sc_core::sc_time start =
        start_value == arrival.value() ? arrival : sc_core::sc_time::from_value(start_value);
    const sc_core::sc_time finish = start + service;
    if (finish > free_at_[server]) free_at_[server] = finish;
    ++requests_;
    total_wait_ += start - arrival;
    total_busy_ += service;
    return {start, finish, server};
  }

  std::vector<sc_core::sc_time> free_at_;
  // With a non-zero quantum: per server, its reservations (start, finish) sorted by
  // start; those before `head` have ended before the kernel time. Times as their
  // raw values (sc_time::value()).
  struct Slot {
    uint64_t start;
    uint64_t finish;
  };
  struct Booked {
    std::vector<Slot> slots;
    size_t head = 0;
    uint64_t pruned_at = ~uint64_t{0};  // kernel time of the last skip past ended ones
  };
  std::vector<Booked> booked_;
  // reserve_in_time_order(): the bookings, by start, with the time each was ready;
  // those before ordered_head_ have ended. At compact_at_ of them the ended ones are
  // dropped (compact_ordered()).
  struct ReadySlot {
    uint64_t ready;
    uint64_t start;
    uint64_t finish;
  };
  std::vector<ReadySlot> ordered_;
  size_t ordered_head_ = 0;
  size_t compact_at_ = 64;
  uint64_t requests_ = 0;
  sc_core::sc_time total_wait_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_time total_busy_ = sc_core::SC_ZERO_TIME;
};

// A clock domain: converts cycles to time.
class Clock {
 public:
  explicit Clock(double freq_mhz);
  sc_core::sc_time period() const { return period_; }
  sc_core::sc_time cycles(uint64_t n) const { return period_ * static_cast<double>(n); }
  double freq_mhz() const { return freq_mhz_; }

 private:
  double freq_mhz_;
  sc_core::sc_time period_;
};

// Convenience: nanoseconds as sc_time.
inline sc_core::sc_time ns(double v) {
  return sc_core::sc_time(v, sc_core::SC_NS);
}

}  // namespace iosim

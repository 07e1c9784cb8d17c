#include "sc_models/server_pool.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <tlm>

namespace iosim {

using sc_core::sc_time;

const sc_time& global_quantum_storage() {
  return tlm::tlm_global_quantum::instance().get();
}

ServerPool::ServerPool(unsigned servers) : free_at_(servers ? servers : 1, sc_core::SC_ZERO_TIME) {
  if (servers == 0) throw std::invalid_argument("ServerPool needs at least one server");
}

ServerPool::Grant ServerPool::reserve_decoupled(const sc_time& arrival, const sc_time& service) {
  if (booked_.size() != free_at_.size()) booked_.resize(free_at_.size());
  // Raw values (the time resolution's units): the same comparisons and sums as on
  // sc_time, on a trivially copyable slot (an insert is one memmove).
  const uint64_t now = kernel_time().value();
  const uint64_t a = arrival.value();
  const uint64_t s = service.value();
  unsigned best = 0;
  uint64_t best_start = 0;
  size_t best_pos = 0;
  for (unsigned i = 0; i < booked_.size(); ++i) {
    Booked& b = booked_[i];
    while (b.head < b.slots.size() && b.slots[b.head].finish <= now) ++b.head;  // past
    if (b.head > 64 && b.head * 2 > b.slots.size()) {
      b.slots.erase(b.slots.begin(), b.slots.begin() + static_cast<std::ptrdiff_t>(b.head));
      b.head = 0;
    }
    if (b.head == b.slots.size() || !(a < b.slots.back().finish)) {
      // Common case: nothing booked ends after the arrival, so the request starts at
      // its arrival, after every reservation. No earlier start exists: the first
      // such server is the best (later ones are pruned when next consulted).
      if (i == 0 || a < best_start) {
        best = i;
        best_start = a;
        best_pos = b.slots.size();
      }
      break;
    }
    // First reservation starting after the arrival; the one before may overlap it.
    const auto first = b.slots.begin() + static_cast<std::ptrdiff_t>(b.head);
    auto it = std::upper_bound(first, b.slots.end(), a,
                               [](uint64_t t, const Slot& x) { return t < x.start; });
    uint64_t t = a;
    if (it != first && std::prev(it)->finish > t) t = std::prev(it)->finish;
    for (; it != b.slots.end() && it->start < t + s; ++it) {
      if (it->finish > t) t = it->finish;
    }
    if (i == 0 || t < best_start) {
      best = i;
      best_start = t;
      best_pos = static_cast<size_t>(it - b.slots.begin());
      if (t == a) break;  // no server can start earlier
    }
  }
  if (s > 0) {
    auto& slots = booked_[best].slots;
    slots.insert(slots.begin() + static_cast<std::ptrdiff_t>(best_pos),
                 Slot{best_start, best_start + s});
  }
  const sc_time start = best_start == a ? arrival : sc_time::from_value(best_start);
  const sc_time finish = start + service;
  if (finish > free_at_[best]) free_at_[best] = finish;
  ++requests_;
  total_wait_ += start - arrival;
  total_busy_ += service;
  return {start, finish, best};
}

sc_time ServerPool::earliest_free() const {
  sc_time t = free_at_[0];
  for (const sc_time& f : free_at_) {
    if (f < t) t = f;
  }
  return t;
}

Clock::Clock(double freq_mhz) : freq_mhz_(freq_mhz) {
  if (!(freq_mhz > 0)) throw std::invalid_argument("clock frequency must be > 0 MHz");
  period_ = sc_time(1e6 / freq_mhz, sc_core::SC_PS);
}

}  // namespace iosim

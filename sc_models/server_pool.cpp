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

ServerPool::Grant ServerPool::reserve(const sc_time& arrival, const sc_time& service) {
  if (quantum_set()) {
    return reserve_decoupled(arrival, service);
  }
  unsigned best = 0;
  for (unsigned i = 1; i < free_at_.size(); ++i) {
    if (free_at_[i] < free_at_[best]) best = i;
  }
  sc_time start = free_at_[best] > arrival ? free_at_[best] : arrival;
  sc_time finish = start + service;
  free_at_[best] = finish;
  ++requests_;
  total_wait_ += start - arrival;
  total_busy_ += service;
  return {start, finish, best};
}

ServerPool::Grant ServerPool::reserve_decoupled(const sc_time& arrival, const sc_time& service) {
  if (booked_.size() != free_at_.size()) booked_.resize(free_at_.size());
  const sc_time now = kernel_time();
  unsigned best = 0;
  sc_time best_start;
  size_t best_pos = 0;
  for (unsigned i = 0; i < booked_.size(); ++i) {
    Booked& b = booked_[i];
    while (b.head < b.slots.size() && b.slots[b.head].second <= now) ++b.head;  // past
    if (b.head > 64 && b.head * 2 > b.slots.size()) {
      b.slots.erase(b.slots.begin(), b.slots.begin() + static_cast<std::ptrdiff_t>(b.head));
      b.head = 0;
    }
    if (b.head == b.slots.size() || !(arrival < b.slots.back().second)) {
      // Common case: nothing booked ends after the arrival, so the request starts at
      // its arrival, after every reservation. No earlier start exists: the first
      // such server is the best (later ones are pruned when next consulted).
      if (i == 0 || arrival < best_start) {
        best = i;
        best_start = arrival;
        best_pos = b.slots.size();
      }
      break;
    }
    // First reservation starting after the arrival; the one before may overlap it.
    auto it =
        std::upper_bound(b.slots.begin() + static_cast<std::ptrdiff_t>(b.head), b.slots.end(),
                         arrival, [](const sc_time& t, const Slot& s) { return t < s.first; });
    sc_time t = arrival;
    if (it != b.slots.begin() + static_cast<std::ptrdiff_t>(b.head) && std::prev(it)->second > t) {
      t = std::prev(it)->second;
    }
    for (; it != b.slots.end() && it->first < t + service; ++it) {
      if (it->second > t) t = it->second;
    }
    if (i == 0 || t < best_start) {
      best = i;
      best_start = t;
      best_pos = static_cast<size_t>(it - b.slots.begin());
      if (t == arrival) break;  // no server can start earlier
    }
  }
  const sc_time finish = best_start + service;
  if (service > sc_core::SC_ZERO_TIME) {
    auto& slots = booked_[best].slots;
    if (best_pos == slots.size()) {
      slots.emplace_back(best_start, finish);
    } else {
      slots.insert(slots.begin() + static_cast<std::ptrdiff_t>(best_pos), Slot{best_start, finish});
    }
  }
  if (finish > free_at_[best]) free_at_[best] = finish;
  ++requests_;
  total_wait_ += best_start - arrival;
  total_busy_ += service;
  return {best_start, finish, best};
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

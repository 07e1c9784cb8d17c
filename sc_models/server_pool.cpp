#include "sc_models/server_pool.h"

#include <stdexcept>

namespace iosim {

using sc_core::sc_time;

ServerPool::ServerPool(unsigned servers) : free_at_(servers ? servers : 1, sc_core::SC_ZERO_TIME) {
  if (servers == 0) throw std::invalid_argument("ServerPool needs at least one server");
}

ServerPool::Grant ServerPool::reserve(const sc_time& arrival, const sc_time& service) {
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

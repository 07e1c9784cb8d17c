#include "sc_models/timing/server_pool.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <stdexcept>

#include <tlm>

namespace iosim {

using sc_core::sc_time;

ServerPool::ServerPool(unsigned servers) : free_at_(servers ? servers : 1, sc_core::SC_ZERO_TIME) {
  if (servers == 0) throw std::invalid_argument("ServerPool needs at least one server");
}

namespace {

// Index of the first of `n` slots (sorted by start) that starts after `a`, or n: a
// binary search whose steps select with a conditional move instead of a branch (where
// the arrival lands among the booked slots is unpredictable, and a mispredicted
// branch per step cost more than the search itself).
template <typename Slot>
size_t first_starting_after(const Slot* x, size_t n, uint64_t a) {
  if (n == 0) return 0;
  // The answer stays within [base, base + n]: everything before base starts at or
  // before `a`, everything from base + n on after it.
  const Slot* base = x;
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half].start <= a ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - x) + (base->start <= a ? 1 : 0);
}

}  // namespace

ServerPool::Grant ServerPool::reserve_decoupled(const sc_time& arrival, const sc_time& service) {
  if (booked_.size() != free_at_.size()) booked_.resize(free_at_.size());
  // Raw values (the time resolution's units): the same comparisons and sums as on
  // sc_time, on a trivially copyable slot (an insert is one memmove).
  const uint64_t now = kernel_time().value();
  const uint64_t a = arrival.value();
  const uint64_t s = service.value();
  assert(a >= now && "a request cannot arrive before the kernel time");
  unsigned best = 0;
  uint64_t best_start = 0;
  size_t best_pos = 0;
  for (unsigned i = 0; i < booked_.size(); ++i) {
    Booked& b = booked_[i];
    // Reservations that ended by `now` cannot delay a request arriving at or after it;
    // they are skipped (and dropped now and then) only to keep the search short. At
    // the same kernel time nothing new has ended (a reservation starts at or after its
    // arrival, which is not before `now`), so they are looked for once per time.
    if (now != b.pruned_at) {
      b.pruned_at = now;
      while (b.head < b.slots.size() && b.slots[b.head].finish <= now) ++b.head;
      if (b.head > 64 && b.head * 2 > b.slots.size()) {
        b.slots.erase(b.slots.begin(), b.slots.begin() + static_cast<std::ptrdiff_t>(b.head));
        b.head = 0;
      }
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
    auto it = first + static_cast<std::ptrdiff_t>(
                          first_starting_after(&*first, b.slots.size() - b.head, a));
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
    // Made in place, field by field: a Slot built on the stack and copied in was
    // stored as two 8-byte halves and reloaded as one 16-byte value, which the host
    // cannot forward from its store buffer (a stall on every reservation).
    auto& slots = booked_[best].slots;
    Slot& slot = *slots.emplace(slots.begin() + static_cast<std::ptrdiff_t>(best_pos));
    slot.start = best_start;
    slot.finish = best_start + s;
  }
  return grant(best, arrival, best_start, service);
}

ServerPool::Grant ServerPool::reserve_out_of_order(const sc_time& ready, const sc_time& service) {
  assert(free_at_.size() == 1 && "reserve_in_time_order() serves with one server");
  const uint64_t a = ready.value();
  const uint64_t s = service.value();
  assert(a >= kernel_time().value() && "a request cannot be ready before the kernel time");
  compact_ordered();
  // After the last booking ready no later than this one (with calls in simulated-time
  // order, the last booking: a FIFO queue)...
  size_t pos = ordered_.size();
  while (pos > ordered_head_ && ordered_[pos - 1].ready > a) --pos;
  uint64_t t = a;
  if (pos > ordered_head_ && ordered_[pos - 1].finish > t) t = ordered_[pos - 1].finish;
  // ...in the first gap that fits among those ready later (each starts at or after
  // both its ready time, which is after a, and the finish of the one before).
  for (; pos < ordered_.size() && ordered_[pos].start < t + s; ++pos) t = ordered_[pos].finish;
  return book_ordered(pos, ready, t, service);
}

void ServerPool::compact_ordered() {
  // One server: bookings do not overlap, so their finishes are in start order too,
  // and the ended ones (they cannot delay a request ready at or after now) a prefix.
  const uint64_t now = kernel_time().value();
  while (ordered_head_ < ordered_.size() && ordered_[ordered_head_].finish <= now) ++ordered_head_;
  if (ordered_head_ * 2 >= ordered_.size()) {
    ordered_.erase(ordered_.begin(), ordered_.begin() + static_cast<std::ptrdiff_t>(ordered_head_));
    ordered_head_ = 0;
  }
  compact_at_ = std::max<size_t>(64, 2 * ordered_.size());
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

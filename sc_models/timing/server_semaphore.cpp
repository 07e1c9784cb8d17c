// ServerSemaphore: units held for an unknown time, served in arrival order.
#include "sc_models/timing/server_semaphore.h"

#include <stdexcept>
#include <string>

namespace iosim {

ServerSemaphore::ServerSemaphore(unsigned units, Timing& timing)
    : timing_(timing), capacity_(units), free_(units) {
  if (units == 0) throw std::invalid_argument("ServerSemaphore needs at least one unit");
}

void ServerSemaphore::check(unsigned n) const {
  if (n == 0 || n > capacity_) {
    throw std::invalid_argument("ServerSemaphore: a request for " + std::to_string(n) +
                                " units of " + std::to_string(capacity_));
  }
}

bool ServerSemaphore::acquire(unsigned n) {
  return acquire(n, [](const sc_core::sc_event& e) { sc_core::wait(e); });
}

ServerSemaphore::Waiter& ServerSemaphore::enqueue(unsigned n) {
  if (spare_.empty()) {
    pool_.push_back(std::make_unique<Waiter>());
    spare_.push_back(pool_.back().get());
  }
  Waiter* w = spare_.back();
  spare_.pop_back();
  w->units = n;
  w->served = false;
  queue_.push_back(w);
  return *w;
}

void ServerSemaphore::release(unsigned n) {
  if (n > in_use()) throw std::logic_error("ServerSemaphore: more units released than taken");
  free_ += n;
  const bool none_pending = served_.empty();
  while (!queue_.empty() && queue_.front()->units <= free_) {
    Waiter* w = queue_.front();
    queue_.pop_front();
    free_ -= w->units;
    w->served = true;
    served_.push_back(w);
    ++wakeups_;
  }
  // Served waiters run one after the other: only the first is woken here (when one
  // is already pending, it wakes the rest in turn).
  if (none_pending && !served_.empty()) wake(*served_.front());
}

void ServerSemaphore::wake_next(Waiter& w) {
  if (served_.empty() || served_.front() != &w) {
    throw std::logic_error("ServerSemaphore: a waiter ran out of turn");
  }
  served_.pop_front();
  spare_.push_back(&w);
  if (!served_.empty()) wake(*served_.front());
}

void ServerSemaphore::wake(Waiter& w) {
  w.granted.notify(sc_core::SC_ZERO_TIME);
  // A delta notification is activity a lookahead bound found earlier in this
  // process run does not know of (sc_models/timing/lookahead.h).
  timing_.notified();
}

}  // namespace iosim

#include "os/srcu.h"

#include <algorithm>

#include "os/os_context.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

Srcu::Srcu(OsContext& os, std::string name, double grace_period_ns, double wakeup_latency_ns)
    : os_(os),
      name_(std::move(name)),
      grace_period_(ns(grace_period_ns)),
      wakeup_latency_(ns(wakeup_latency_ns)) {}

uint64_t Srcu::read_lock() {
  uint64_t t = next_ticket_++;
  readers_.emplace_back(t, sc_core::sc_get_current_process_handle());  // stays sorted
  return t;
}

void Srcu::read_unlock(uint64_t ticket) {
  auto it = std::lower_bound(readers_.begin(), readers_.end(), ticket,
                             [](const Reader& r, uint64_t t) { return r.first < t; });
  if (it == readers_.end() || it->first != ticket) {
    os_.diagnostics().report(DiagKind::kSrcuDeadlock,
                             "srcu_read_unlock of '" + name_ + "' without a matching lock");
    return;
  }
  readers_.erase(it);
  // Only a grace period waits for this event (it re-checks the readers when woken).
  if (grace_waiters_ > 0) reader_done_.notify(sc_core::SC_ZERO_TIME);
}

bool Srcu::current_in_reader() const {
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (!me.valid()) return false;
  for (const auto& r : readers_) {
    if (r.second == me) return true;
  }
  return false;
}

bool Srcu::readers_before(uint64_t before, const sc_core::sc_process_handle& skip) const {
  for (const auto& r : readers_) {
    if (r.first >= before) break;
    if (!(skip.valid() && r.second == skip)) return true;
  }
  return false;
}

void Srcu::wait_grace(uint64_t before, const sc_core::sc_process_handle& skip,
                      const sc_core::sc_time& min_end) {
  bool waited = false;
  while (readers_before(before, skip)) {
    ++grace_waiters_;
    sc_core::wait(reader_done_);
    --grace_waiters_;
    waited = true;
  }
  if (waited && wakeup_latency_ > sc_core::SC_ZERO_TIME) sc_core::wait(wakeup_latency_);
  if (sc_core::sc_time_stamp() < min_end) sc_core::wait(min_end - sc_core::sc_time_stamp());
  ++grace_periods_;
}

void Srcu::synchronize() {
  ExecContext& ctx = os_.current();
  ctx.might_sleep("synchronize_srcu");
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (current_in_reader()) {
    os_.diagnostics().report(
        DiagKind::kSrcuDeadlock,
        "synchronize_srcu on '" + name_ + "' inside one of its own read-side sections: deadlock");
  }
  sc_core::sc_time t0 = sc_core::sc_time_stamp();
  wait_grace(next_ticket_, me, t0 + grace_period_);
}

void Srcu::call(std::function<void()> cb) {
  uint64_t before = next_ticket_;
  sc_core::sc_time min_end = sc_core::sc_time_stamp() + grace_period_;
  ++pending_;
  sc_core::sc_spawn([this, before, min_end, cb = std::move(cb)] {
    wait_grace(before, sc_core::sc_process_handle(), min_end);
    ExecContext& ctx = os_.current();
    ctx.non_block_start();
    {
      ExecContext::Frame f(ctx, name_, "srcu_callback");
      cb();
    }
    ctx.non_block_end();
    --pending_;
    callback_done_.notify(sc_core::SC_ZERO_TIME);
  });
}

void Srcu::barrier() {
  os_.current().sleep_until([this] { return pending_ == 0; }, callback_done_, "srcu_barrier");
}

}  // namespace iosim

#include "os/spin_lock.h"

#include <stdexcept>

#include "os/os_context.h"
#include "sc_models/config/params.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {

sc_core::sc_process_handle calling_thread(const std::string& lock, const char* op) {
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (!me.valid()) {
    throw std::logic_error("SpinLock '" + lock + "': " + op + "() called outside a SystemC thread");
  }
  return me;
}

}  // namespace

SpinLock::SpinLock(OsContext& os, std::string name, const SpinLockConfig& cfg, Kind kind)
    : os_(os), name_(std::move(name)), cfg_(cfg), kind_(kind) {
  if (cfg_.acquire_ns < 0) {
    throw ParamError(name_ + ": acquire_ns must be >= 0, got " + std::to_string(cfg_.acquire_ns));
  }
  acquire_time_ = ns(cfg_.acquire_ns);
}

void SpinLock::lock() {
  sc_core::sc_time pending = sc_core::SC_ZERO_TIME;
  lock(pending);
  if (pending > sc_core::SC_ZERO_TIME) sc_core::wait(pending);
}

void SpinLock::lock(sc_core::sc_time& pending) {
  sc_core::sc_process_handle me = calling_thread(name_, "lock");
  ExecContext& ctx = os_.current();
  ctx.charge(pending);
  ctx.preempt_disable();
  if (kind_ == Kind::kPageTable) ctx.page_table_lock_acquired();
  if (owner_ == me) {
    os_.diagnostics().report(DiagKind::kRecursiveLock,
                             "spin lock '" + name_ + "' taken again by its holder: deadlock");
    for (;;) sc_core::wait(handoff_);  // the kernel spins forever here
  }
  sc_core::sc_time t0 = sc_core::sc_time_stamp();
  bool contended = owner_.valid() || !queue_.empty();
  if (contended) {
    queue_.push_back(me);
    ctx.spin_until([this, &me] { return owner_ == me; }, handoff_);
  } else {
    owner_ = me;
  }
  take(t0, contended, pending);
}

bool SpinLock::trylock() {
  sc_core::sc_process_handle me = calling_thread(name_, "trylock");
  if (owner_.valid() || !queue_.empty()) return false;
  ExecContext& ctx = os_.current();
  ctx.preempt_disable();
  if (kind_ == Kind::kPageTable) ctx.page_table_lock_acquired();
  owner_ = me;
  sc_core::sc_time pending = sc_core::SC_ZERO_TIME;
  take(sc_core::sc_time_stamp(), false, pending);
  if (pending > sc_core::SC_ZERO_TIME) sc_core::wait(pending);
  return true;
}

void SpinLock::take(const sc_core::sc_time& requested, bool contended, sc_core::sc_time& pending) {
  sc_core::sc_time spun = sc_core::sc_time_stamp() - requested;
  ++stats_.acquisitions;
  if (contended) ++stats_.contended;
  stats_.spin_total += spun;
  if (spun > stats_.spin_max) stats_.spin_max = spun;
  if (cfg_.acquire_ns > 0) pending += acquire_time_;
  hold_start_ = sc_core::sc_time_stamp() + pending;
}

void SpinLock::unlock() {
  sc_core::sc_process_handle me = calling_thread(name_, "unlock");
  if (!(owner_ == me)) {
    os_.diagnostics().report(DiagKind::kLockNotHeld,
                             "spin_unlock of '" + name_ + "' by a thread that does not hold it");
    return;
  }
  sc_core::sc_time held = sc_core::sc_time_stamp() - hold_start_;
  ++stats_.holds;
  stats_.hold_total += held;
  if (held > stats_.hold_max) stats_.hold_max = held;
  if (queue_.empty()) {
    owner_ = sc_core::sc_process_handle();
  } else {
    owner_ = queue_.front();
    queue_.pop_front();
    handoff_.notify(sc_core::SC_ZERO_TIME);
  }
  ExecContext& ctx = os_.current();
  if (kind_ == Kind::kPageTable) ctx.page_table_lock_released();
  ctx.preempt_enable();
}

bool SpinLock::held_by_current() const {
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  return me.valid() && owner_ == me;
}

bool SpinLock::assert_held(const char* who) const {
  if (held_by_current()) return true;
  os_.diagnostics().report(DiagKind::kLockNotHeld,
                           std::string(who) + ": spin lock '" + name_ + "' is not held");
  return false;
}

std::string SpinLock::owner_name() const {
  return owner_.valid() ? owner_.name() : "";
}

}  // namespace iosim

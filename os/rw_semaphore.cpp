#include "os/rw_semaphore.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "os/os_context.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/config/params.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {

sc_core::sc_process_handle calling_thread(const std::string& sem, const char* op) {
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  if (!me.valid()) {
    throw std::logic_error("RwSemaphore '" + sem + "': " + op +
                           "() called outside a SystemC thread");
  }
  return me;
}

}  // namespace

RwSemaphore::RwSemaphore(OsContext& os, std::string name, const RwSemaphoreConfig& cfg)
    : os_(os), name_(std::move(name)), cfg_(cfg) {
  if (cfg_.acquire_ns < 0) {
    throw ParamError(name_ + ": acquire_ns must be >= 0, got " + std::to_string(cfg_.acquire_ns));
  }
  if (cfg_.wakeup_latency_ns < 0) {
    throw ParamError(name_ + ": wakeup_latency_ns must be >= 0, got " +
                     std::to_string(cfg_.wakeup_latency_ns));
  }
  acquire_time_ = ns(cfg_.acquire_ns);
}

void RwSemaphore::down_read() {
  acquire(false, "down_read");
}

void RwSemaphore::down_read(sc_core::sc_time& pending) {
  ExecContext& ctx = os_.current();
  if (queue_.empty() && !writer_.valid() && ctx.may_sleep() &&
      os_.timing().may_keep(pending + acquire_time_)) {
    ++read_hold(calling_thread(name_, "down_read")).count;
    ++stats_.read_acquisitions;
    pending += acquire_time_;
    return;
  }
  ctx.charge(pending);
  down_read();
}
void RwSemaphore::down_write() {
  acquire(true, "down_write");
}

void RwSemaphore::acquire(bool writer, const char* what) {
  sc_core::sc_process_handle me = calling_thread(name_, what);
  ExecContext& ctx = os_.current();
  if (writer_ == me || (writer && find_reader(me) != readers_.end())) {
    os_.diagnostics().report(DiagKind::kRecursiveLock,
                             std::string(what) + " of '" + name_ + "' by a holder: deadlock");
  }
  sc_core::sc_time t0 = sc_core::sc_time_stamp();
  Waiter w{me, writer, false};
  bool free_now = queue_.empty() && (writer ? !is_locked() : !writer_.valid());
  if (free_now) {
    ctx.might_sleep(what);
    grant(w);
    finish_acquire(writer, t0, false);
    return;
  }
  queue_.push_back(&w);
  ctx.sleep_until([&w] { return w.granted; }, wake_, what);
  finish_acquire(writer, t0, true);
}

void RwSemaphore::grant(Waiter& w) {
  if (w.writer) {
    writer_ = w.proc;
  } else {
    ++read_hold(w.proc).count;
  }
  w.granted = true;
}

std::vector<RwSemaphore::ReadHold>::iterator RwSemaphore::find_reader(
    const sc_core::sc_process_handle& proc) {
  return readers_.begin() + (std::as_const(*this).find_reader(proc) - readers_.cbegin());
}

std::vector<RwSemaphore::ReadHold>::const_iterator RwSemaphore::find_reader(
    const sc_core::sc_process_handle& proc) const {
  return std::find_if(readers_.begin(), readers_.end(),
                      [&proc](const ReadHold& r) { return r.proc == proc; });
}

RwSemaphore::ReadHold& RwSemaphore::read_hold(const sc_core::sc_process_handle& proc) {
  auto it = find_reader(proc);
  if (it != readers_.end()) return *it;
  readers_.push_back(ReadHold{proc, 0});
  return readers_.back();
}

void RwSemaphore::finish_acquire(bool writer, const sc_core::sc_time& requested, bool slept) {
  if (slept && cfg_.wakeup_latency_ns > 0) sc_core::wait(ns(cfg_.wakeup_latency_ns));
  sc_core::sc_time waited = sc_core::sc_time_stamp() - requested;
  if (slept) {
    ++stats_.contended;
    stats_.wait_total += waited;
    if (waited > stats_.wait_max) stats_.wait_max = waited;
  }
  if (writer) {
    ++stats_.write_acquisitions;
  } else {
    ++stats_.read_acquisitions;
  }
  if (cfg_.acquire_ns > 0) sc_core::wait(acquire_time_);
  if (writer) write_since_ = sc_core::sc_time_stamp();
}

bool RwSemaphore::down_read_trylock() {
  sc_core::sc_process_handle me = calling_thread(name_, "down_read_trylock");
  if (writer_.valid() || !queue_.empty()) return false;
  Waiter w{me, false, false};
  grant(w);
  finish_acquire(false, sc_core::sc_time_stamp(), false);
  return true;
}

bool RwSemaphore::down_write_trylock() {
  sc_core::sc_process_handle me = calling_thread(name_, "down_write_trylock");
  if (is_locked() || !queue_.empty()) return false;
  Waiter w{me, true, false};
  grant(w);
  finish_acquire(true, sc_core::sc_time_stamp(), false);
  return true;
}

void RwSemaphore::wake_waiters() {
  bool woke = false;
  while (!queue_.empty()) {
    Waiter* w = queue_.front();
    if (w->writer ? is_locked() : writer_.valid()) break;
    grant(*w);
    queue_.pop_front();
    woke = true;
    if (w->writer) break;
  }
  if (woke) wake_.notify(sc_core::SC_ZERO_TIME);
}

void RwSemaphore::up_read() {
  sc_core::sc_process_handle me = calling_thread(name_, "up_read");
  auto it = find_reader(me);
  if (it == readers_.end()) {
    os_.diagnostics().report(DiagKind::kLockNotHeld,
                             "up_read of '" + name_ + "' by a thread that does not hold it");
    return;
  }
  if (--it->count == 0) readers_.erase(it);
  wake_waiters();
}

void RwSemaphore::up_write() {
  sc_core::sc_process_handle me = calling_thread(name_, "up_write");
  if (!(writer_ == me)) {
    os_.diagnostics().report(DiagKind::kLockNotHeld,
                             "up_write of '" + name_ + "' by a thread that does not hold it");
    return;
  }
  sc_core::sc_time held = sc_core::sc_time_stamp() - write_since_;
  stats_.write_hold_total += held;
  if (held > stats_.write_hold_max) stats_.write_hold_max = held;
  writer_ = sc_core::sc_process_handle();
  wake_waiters();
}

void RwSemaphore::downgrade_write() {
  sc_core::sc_process_handle me = calling_thread(name_, "downgrade_write");
  if (!(writer_ == me)) {
    os_.diagnostics().report(DiagKind::kLockNotHeld, "downgrade_write of '" + name_ +
                                                         "' by a thread that does not hold it");
    return;
  }
  sc_core::sc_time held = sc_core::sc_time_stamp() - write_since_;
  stats_.write_hold_total += held;
  if (held > stats_.write_hold_max) stats_.write_hold_max = held;
  writer_ = sc_core::sc_process_handle();
  ++read_hold(me).count;
  wake_waiters();
}

unsigned RwSemaphore::reader_count() const {
  unsigned n = 0;
  for (const ReadHold& r : readers_) n += r.count;
  return n;
}

bool RwSemaphore::read_held_by_current() const {
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  return me.valid() && find_reader(me) != readers_.end();
}

bool RwSemaphore::write_held_by_current() const {
  sc_core::sc_process_handle me = sc_core::sc_get_current_process_handle();
  return me.valid() && writer_ == me;
}

bool RwSemaphore::assert_write_held(const char* who) const {
  if (write_held_by_current()) return true;
  os_.diagnostics().report(DiagKind::kLockNotHeld,
                           std::string(who) + ": '" + name_ + "' is not held for write");
  return false;
}

}  // namespace iosim

#include "device/dma_thread.h"

#include "sc_models/timing/server_pool.h"

namespace iosim {

DmaThread::DmaThread(std::string name, const DmaThreadConfig& cfg)
    : name_(std::move(name)),
      cfg_(cfg),
      issue_interval_(ns(cfg_.issue_interval_ns)),
      duration_(ns(cfg_.duration_ns)) {
  // Scripted threads have no pattern (record() tells them apart by that).
  if (cfg_.pattern != AccessPattern::kScript) pattern_ = std::make_unique<AddressPattern>(cfg_);
}

unsigned DmaThread::slot_count() const {
  return cfg_.pattern == AccessPattern::kScript ? 1 : cfg_.max_outstanding;
}

void DmaThread::spawn(DmaAccessor& a, Timing& timing, PrivatePath* path) {
  const bool script = cfg_.pattern == AccessPattern::kScript;
  for (unsigned i = 0; i < slot_count(); ++i) {
    ++live_slots_;
    // Process names may not contain '.': use the thread's own (last) name part.
    const std::string n = name_.substr(name_.rfind('.') + 1) + "_slot" + std::to_string(i);
    slot_times_.push_back(std::make_unique<LocalTime>(timing, !script, path));
    LocalTime& time = *slot_times_.back();
    if (script) {
      timing.spawn_initiator([this, &a, &time] { run_script(a, time); }, n.c_str());
    } else {
      timing.spawn_initiator([this, &a, &time] { run_synthetic(a, time); }, n.c_str());
    }
  }
}

std::optional<DmaRequest> DmaThread::next_request(const sc_core::sc_time& now, bool decoupled,
                                                  sc_core::sc_time& at) {
  if (cfg_.request_count > 0 && issued_ >= cfg_.request_count) return std::nullopt;
  if (decoupled) {
    // Slots run ahead of one another: take the first free issue time at or after
    // the slot's own time rather than after the latest one reserved.
    at = issue_interval_ > sc_core::SC_ZERO_TIME ? issue_slots_.reserve(now, issue_interval_).start
                                                 : now;
  } else {
    at = next_issue_ > now ? next_issue_ : now;
  }
  if (cfg_.duration_ns > 0 && at >= start_ + duration_) return std::nullopt;
  if (!decoupled) next_issue_ = at + issue_interval_;
  ++issued_;
  return pattern_->next();
}

void DmaThread::await_start() {
  if (start_event_) sc_core::wait(*start_event_);
  start_ = sc_core::sc_time_stamp();
}

void DmaThread::run_synthetic(DmaAccessor& a, LocalTime& time) {
  await_start();
  time.start();  // whether it runs decoupled is known once the simulation runs
  sc_core::sc_time at;
  while (auto r = next_request(time.now(), time.decoupled(), at)) {
    time.idle_until(at);  // the issue time next_request() reserved
    const AccessResult res = a.access(*this, *r, r->va, time);
    record(*r, res, time.now());
    if (res.halted) break;
  }
  time.sync();
  slot_done(time);
}

void DmaThread::run_script(DmaAccessor& a, LocalTime& time) {
  await_start();
  time.start();
  bool halted = false;
  for (auto op_it = cfg_.script.begin(); op_it != cfg_.script.end() && !halted; ++op_it) {
    const ScriptOp& op = *op_it;
    switch (op.kind) {
      case ScriptOp::Kind::kRead:
      case ScriptOp::Kind::kWrite: {
        const DmaRequest r{op.va, op.len, op.kind == ScriptOp::Kind::kWrite};
        const AccessResult res = a.access(*this, r, op.value, time);
        record(r, res, time.now());
        halted = res.halted;
        break;
      }
      case ScriptOp::Kind::kWait:
        time.idle_for(ns(op.time_ns));
        break;
      case ScriptOp::Kind::kAtTime:
        time.idle_until(start_ + ns(op.time_ns));
        break;
      case ScriptOp::Kind::kStopPasid:
        a.stop_pasid(*this);
        break;
    }
  }
  slot_done(time);
}

void DmaThread::record(const DmaRequest& r, const AccessResult& res, const sc_core::sc_time& now) {
  ++completed_;
  if (res.ok) bytes_ += r.len;
  if (!r.write && !pattern_) reads_.push_back({now, r.va, res.value, res.ok});
  if (!res.ok) errors_.push_back({now, r.va, r.write, res.error});
}

void DmaThread::slot_done(LocalTime& time) {
  time.finish();
  if (--live_slots_ == 0) finished_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace iosim

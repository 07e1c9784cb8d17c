#include "device/dma_thread.h"

#include "sc_models/server_pool.h"

namespace iosim {

int issue_slot_stack_size(unsigned n) {
  constexpr int kStrideBytes = 73 * 64;
  return sc_core::SC_DEFAULT_STACK_SIZE + static_cast<int>(n % 64) * kStrideBytes;
}

namespace {

int slot_stack_size() {
  static unsigned spawned = 0;
  return issue_slot_stack_size(spawned++);
}

}  // namespace

void consume(QuantumKeeper* qk, const sc_core::sc_time& d) {
  if (decoupled(qk)) {
    qk->inc(d);
    if (qk->need_sync()) qk->sync();
  } else {
    sc_core::wait(d);
  }
}

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

void DmaThread::spawn(DmaAccessor& a, SlotClock* clocks) {
  for (unsigned i = 0; i < slot_count(); ++i) {
    SlotClock* const c = clocks ? clocks + i : nullptr;
    ++live_slots_;
    // Process names may not contain '.': use the thread's own (last) name part.
    const std::string n = name_.substr(name_.rfind('.') + 1) + "_slot" + std::to_string(i);
    sc_core::sc_spawn_options opts;
    opts.set_stack_size(slot_stack_size());
    if (cfg_.pattern == AccessPattern::kScript) {
      sc_core::sc_spawn([this, &a, c] { run_script(a, c); }, n.c_str(), &opts);
    } else {
      keepers_.push_back(std::make_unique<QuantumKeeper>());
      QuantumKeeper& qk = *keepers_.back();
      sc_core::sc_spawn([this, &a, &qk, c] { run_synthetic(a, qk, c); }, n.c_str(), &opts);
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

void DmaThread::run_synthetic(DmaAccessor& a, QuantumKeeper& qk, SlotClock* clock) {
  await_start();
  qk.reset();  // the global quantum is known once the simulation runs
  QuantumKeeper* const k = decoupled(&qk) ? &qk : nullptr;
  sc_core::sc_time at;
  while (auto r = next_request(local_now(k), k != nullptr, at)) {
    // next_request() reserved the issue time `at`; wait for it.
    const sc_core::sc_time now = local_now(k);
    if (at > now) {
      set_next_send(clock, at);  // no sooner than the issue time
      consume(k, at - now);
    }
    const AccessResult res = a.access(*this, *r, r->va, k, clock);
    record(*r, res, local_now(k));
  }
  if (k) k->sync();
  slot_done(clock);
}

void DmaThread::run_script(DmaAccessor& a, SlotClock* clock) {
  await_start();
  for (const ScriptOp& op : cfg_.script) {
    switch (op.kind) {
      case ScriptOp::Kind::kRead:
      case ScriptOp::Kind::kWrite: {
        const DmaRequest r{op.va, op.len, op.kind == ScriptOp::Kind::kWrite};
        record(r, a.access(*this, r, op.value, nullptr, clock), sc_core::sc_time_stamp());
        break;
      }
      case ScriptOp::Kind::kWait:
        // The next op may send at once when the wait ends.
        set_next_send(clock, sc_core::sc_time_stamp() + ns(op.time_ns));
        sc_core::wait(ns(op.time_ns));
        break;
      case ScriptOp::Kind::kAtTime:
        if (start_ + ns(op.time_ns) > sc_core::sc_time_stamp()) {
          set_next_send(clock, start_ + ns(op.time_ns));
          sc_core::wait(start_ + ns(op.time_ns) - sc_core::sc_time_stamp());
        }
        break;
      case ScriptOp::Kind::kStopPasid:
        a.stop_pasid(*this);
        break;
    }
  }
  slot_done(clock);
}

void DmaThread::record(const DmaRequest& r, const AccessResult& res, const sc_core::sc_time& now) {
  ++completed_;
  if (res.ok) bytes_ += r.len;
  if (!r.write && !pattern_) reads_.push_back({now, r.va, res.value, res.ok});
  if (!res.ok) errors_.push_back({now, r.va, r.write, res.error});
}

void DmaThread::slot_done(SlotClock* clock) {
  set_next_send(clock, sc_core::sc_max_time());  // sends nothing more
  if (--live_slots_ == 0) finished_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace iosim

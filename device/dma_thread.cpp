#include "device/dma_thread.h"

#include "sc_models/server_pool.h"

namespace iosim {

DmaThread::DmaThread(std::string name, const DmaThreadConfig& cfg)
    : name_(std::move(name)), cfg_(cfg) {
  if (cfg_.pattern != "script") pattern_ = std::make_unique<AddressPattern>(cfg_);
}

void DmaThread::spawn(DmaAccessor& a) {
  const unsigned slots = cfg_.pattern == "script" ? 1 : cfg_.max_outstanding;
  for (unsigned i = 0; i < slots; ++i) {
    ++live_slots_;
    // Process names may not contain '.': use the thread's own (last) name part.
    const std::string n = name_.substr(name_.rfind('.') + 1) + "_slot" + std::to_string(i);
    if (cfg_.pattern == "script") {
      sc_core::sc_spawn([this, &a] { run_script(a); }, n.c_str());
    } else {
      sc_core::sc_spawn([this, &a] { run_synthetic(a); }, n.c_str());
    }
  }
}

std::optional<DmaRequest> DmaThread::next_request() {
  if (cfg_.request_count > 0 && issued_ >= cfg_.request_count) return std::nullopt;
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const sc_core::sc_time at = next_issue_ > now ? next_issue_ : now;
  if (cfg_.duration_ns > 0 && at >= start_ + ns(cfg_.duration_ns)) return std::nullopt;
  next_issue_ = at + ns(cfg_.issue_interval_ns);
  ++issued_;
  return pattern_->next();
}

void DmaThread::await_start() {
  if (start_event_) sc_core::wait(*start_event_);
  start_ = sc_core::sc_time_stamp();
}

void DmaThread::run_synthetic(DmaAccessor& a) {
  await_start();
  while (auto r = next_request()) {
    // next_request() reserved the issue time; wait for it.
    const sc_core::sc_time at = next_issue_ - ns(cfg_.issue_interval_ns);
    if (at > sc_core::sc_time_stamp()) sc_core::wait(at - sc_core::sc_time_stamp());
    record(*r, a.access(*this, *r, r->va));
  }
  slot_done();
}

void DmaThread::run_script(DmaAccessor& a) {
  await_start();
  for (const ScriptOp& op : cfg_.script) {
    switch (op.kind) {
      case ScriptOp::Kind::kRead:
      case ScriptOp::Kind::kWrite: {
        const DmaRequest r{op.va, op.len, op.kind == ScriptOp::Kind::kWrite};
        record(r, a.access(*this, r, op.value));
        break;
      }
      case ScriptOp::Kind::kWait:
        sc_core::wait(ns(op.time_ns));
        break;
      case ScriptOp::Kind::kAtTime:
        if (start_ + ns(op.time_ns) > sc_core::sc_time_stamp()) {
          sc_core::wait(start_ + ns(op.time_ns) - sc_core::sc_time_stamp());
        }
        break;
      case ScriptOp::Kind::kStopPasid:
        a.stop_pasid(*this);
        break;
    }
  }
  slot_done();
}

void DmaThread::record(const DmaRequest& r, const AccessResult& res) {
  ++completed_;
  if (res.ok) bytes_ += r.len;
  if (!r.write && cfg_.pattern == "script")
    reads_.push_back({sc_core::sc_time_stamp(), r.va, res.value, res.ok});
  if (!res.ok) errors_.push_back({sc_core::sc_time_stamp(), r.va, r.write, res.error});
}

void DmaThread::slot_done() {
  if (--live_slots_ == 0) finished_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace iosim

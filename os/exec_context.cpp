#include "os/exec_context.h"

#include "os/os_context.h"

namespace iosim {

void ExecContext::preempt_enable() {
  if (preempt_count_ == 0) {
    os_.diagnostics().report(DiagKind::kLockNotHeld, "preempt_enable() without preempt_disable()");
    return;
  }
  --preempt_count_;
}

void ExecContext::page_table_lock_released() {
  if (ptl_held_ > 0) --ptl_held_;
}

void ExecContext::non_block_end() {
  if (non_block_count_ == 0) {
    os_.diagnostics().report(DiagKind::kLockNotHeld, "non_block_end() without non_block_start()");
    return;
  }
  --non_block_count_;
}

bool ExecContext::might_sleep(const char* what) {
  if (may_sleep()) return true;
  ++sleep_violations_;
  std::string msg = std::string("sleeping function called from invalid context: ") + what +
                    " (preempt_count=" + std::to_string(preempt_count_) +
                    ", non_block_count=" + std::to_string(non_block_count_) +
                    ", page-table locks held=" + std::to_string(ptl_held_) + ")";
  os_.diagnostics().report(DiagKind::kSleepInAtomic, msg);
  return false;
}

void ExecContext::sleep_on(const sc_core::sc_event& ev, const char* what) {
  might_sleep(what);
  sc_core::sc_time t0 = sc_core::sc_time_stamp();
  sc_core::wait(ev);
  sleep_time_ += sc_core::sc_time_stamp() - t0;
}

void ExecContext::sleep_for(const sc_core::sc_time& t, const char* what) {
  might_sleep(what);
  sc_core::wait(t);
  sleep_time_ += t;
}

void ExecContext::spin_for(const sc_core::sc_time& t) {
  if (t > sc_core::SC_ZERO_TIME) sc_core::wait(t);
  spin_time_ += t;
}

void ExecContext::run_for(const sc_core::sc_time& t) {
  if (t > sc_core::SC_ZERO_TIME) sc_core::wait(t);
}

void ExecContext::keep_up(sc_core::sc_time& pending) {
  if (!os_.timing().may_keep(pending)) charge(pending);
}

ExecContext::Frame::Frame(ExecContext& ctx, const char* label) : ctx_(ctx) {
  ctx_.frames_.push_back({nullptr, label});
}

ExecContext::Frame::Frame(ExecContext& ctx, const std::string& owner, const char* label)
    : ctx_(ctx) {
  ctx_.frames_.push_back({&owner, label});
}

ExecContext::Frame::~Frame() {
  ctx_.frames_.pop_back();
}

const std::string& ExecContext::where() const {
  where_.clear();
  if (frames_.empty()) return where_;
  const FrameLabel& f = frames_.back();
  if (f.owner) where_ = *f.owner + ".";
  where_ += f.label;
  return where_;
}

}  // namespace iosim

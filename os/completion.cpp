#include "os/completion.h"

#include <limits>

#include "os/os_context.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {
constexpr uint64_t kAllDone = std::numeric_limits<uint64_t>::max();
}

void Completion::complete() {
  if (done_ != kAllDone) ++done_;
  ev_.notify(sc_core::SC_ZERO_TIME);
}

void Completion::complete_all() {
  done_ = kAllDone;
  ev_.notify(sc_core::SC_ZERO_TIME);
}

void Completion::consume() {
  if (done_ != kAllDone) --done_;
}

bool Completion::try_wait_for_completion() {
  if (done_ == 0) return false;
  consume();
  return true;
}

void Completion::wait_for_completion() {
  ExecContext& ctx = os_.current();
  if (done_ > 0) {
    ctx.might_sleep("wait_for_completion");
  } else {
    ctx.sleep_until([this] { return done_ > 0; }, ev_, "wait_for_completion");
    consume();  // taken at wake-up, so two woken waiters cannot both consume one complete()
    if (wakeup_latency_ns_ > 0) sc_core::wait(ns(wakeup_latency_ns_));
    return;
  }
  consume();
}

void Completion::spin_until_done() {
  os_.current().spin_until([this] { return done_ > 0; }, ev_);
  consume();
}

}  // namespace iosim

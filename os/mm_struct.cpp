#include "os/mm_struct.h"

#include "os/os_context.h"
#include "sc_models/config/params.h"

namespace iosim {

namespace {

std::string mm_name(uint32_t id) {
  return "mm" + std::to_string(id);
}

void check_non_negative(double v, const char* param) {
  if (v < 0) throw ParamError(std::string(param) + " must be >= 0, got " + std::to_string(v));
}

const MmStructConfig& validated(const MmStructConfig& cfg) {
  if (cfg.rmap_locks > MmStruct::kMaxRmapLocks) {
    throw ParamError("rmap_locks must be <= " + std::to_string(MmStruct::kMaxRmapLocks) + ", got " +
                     std::to_string(cfg.rmap_locks));
  }
  check_non_negative(cfg.notifier.srcu_grace_period_ns, "notifier.srcu_grace_period_ns");
  check_non_negative(cfg.notifier.wakeup_latency_ns, "notifier.wakeup_latency_ns");
  return cfg;
}

}  // namespace

MmStruct::MmStruct(OsContext& os, uint32_t id, const MmStructConfig& cfg)
    : mmap_lock(os, mm_name(id) + ".mmap_lock", validated(cfg).mmap_lock),
      page_table_lock(os, mm_name(id) + ".page_table_lock", cfg.page_table_lock,
                      SpinLock::Kind::kPageTable),
      os_(os),
      id_(id),
      name_(mm_name(id)),
      cfg_(cfg),
      subscriptions_(os, *this, cfg.notifier) {
  for (unsigned i = 0; i < cfg.rmap_locks; ++i) {
    rmap_locks_.push_back(
        std::make_unique<RwSemaphore>(os, name_ + ".rmap_lock" + std::to_string(i), cfg.rmap_lock));
  }
}

bool MmStruct::rmap_lock_held_by_current() const {
  for (const auto& l : rmap_locks_) {
    if (l->held_by_current()) return true;
  }
  return false;
}

int MmStruct::mm_take_all_locks() {
  mmap_lock.assert_write_held("mm_take_all_locks");
  for (auto& l : rmap_locks_) l->down_write();
  return 0;
}

void MmStruct::mm_drop_all_locks() {
  for (auto it = rmap_locks_.rbegin(); it != rmap_locks_.rend(); ++it) (*it)->up_write();
}

void MmStruct::mmget() {
  if (users_ <= 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount, "mmget on " + name_ + " with no users");
  }
  ++users_;
}

bool MmStruct::mmget_not_zero() {
  if (users_ <= 0) return false;
  ++users_;
  return true;
}

void MmStruct::mmput() {
  if (users_ <= 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount, "mmput on " + name_ + " with no users");
    return;
  }
  if (--users_ == 0) {
    exit_mmap();
    mmdrop();
  }
}

void MmStruct::exit_mmap() {
  exited_ = true;
  subscriptions_.release();
  if (exit_mmap_hook) exit_mmap_hook(*this);
}

void MmStruct::mmgrab() {
  if (count_ <= 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount, "mmgrab on freed " + name_);
  }
  ++count_;
}

void MmStruct::mmdrop() {
  if (count_ <= 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount, "mmdrop on freed " + name_);
    return;
  }
  if (--count_ > 0) return;
  freed_ = true;
  if (!subscriptions_.subscribers().empty() || subscriptions_.itree().size() > 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount,
                             name_ + " freed with notifier subscriptions still attached");
  }
}

}  // namespace iosim

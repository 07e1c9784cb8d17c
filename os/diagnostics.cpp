#include "os/diagnostics.h"

#include "os/os_context.h"

namespace iosim {

const char* diag_kind_name(DiagKind kind) {
  switch (kind) {
    case DiagKind::kSleepInAtomic:
      return "sleep_in_atomic";
    case DiagKind::kLockNotHeld:
      return "lock_not_held";
    case DiagKind::kRecursiveLock:
      return "recursive_lock";
    case DiagKind::kRegisterRefused:
      return "register_refused";
    case DiagKind::kStartFailedBlockable:
      return "start_failed_blockable";
    case DiagKind::kStartBadReturn:
      return "start_bad_return";
    case DiagKind::kStartFailedWithEnd:
      return "start_failed_with_end";
    case DiagKind::kUndeclaredStartFailure:
      return "undeclared_start_failure";
    case DiagKind::kEndWithoutStart:
      return "end_without_start";
    case DiagKind::kUnbalancedEnd:
      return "unbalanced_end";
    case DiagKind::kSpteInsideRange:
      return "spte_inside_range";
    case DiagKind::kPtlNotHeld:
      return "ptl_not_held";
    case DiagKind::kRangeWithoutLock:
      return "range_without_lock";
    case DiagKind::kIntervalInvalidateFailed:
      return "interval_invalidate_failed";
    case DiagKind::kIntervalMisuse:
      return "interval_misuse";
    case DiagKind::kSrcuDeadlock:
      return "srcu_deadlock";
    case DiagKind::kNotifierMisuse:
      return "notifier_misuse";
    case DiagKind::kMmRefcount:
      return "mm_refcount";
    case DiagKind::kCount:
      break;
  }
  return "unknown";
}

void Diagnostics::report(DiagKind kind, const std::string& message) {
  report_at(kind, os_.current().where(), message);
}

void Diagnostics::report_at(DiagKind kind, const std::string& where, const std::string& message) {
  Diagnostic d{kind, sc_core::sc_time_stamp(), os_.current().name(), where, message};
  records_.push_back(d);
  ++counts_[static_cast<size_t>(kind)];
  if (listener_) listener_(d);
}

std::vector<Diagnostic> Diagnostics::of_kind(DiagKind kind) const {
  std::vector<Diagnostic> out;
  for (const auto& d : records_) {
    if (d.kind == kind) out.push_back(d);
  }
  return out;
}

void Diagnostics::clear() {
  records_.clear();
  counts_.fill(0);
}

}  // namespace iosim

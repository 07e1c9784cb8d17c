// Completion-contract checker.
//
// Flags a device access that used a translation obtained before an invalidation
// covering its (PASID, VA) was reported complete to software, when the access took
// effect at or after that report.
//
// Simplification (to avoid false positives): a translation that still matches the
// PTE in effect when the invalidation completed (same frame, and writable for a
// write) is not flagged, because a device may legally fetch it while the
// invalidation is in flight; a page whose PTE never changed counts as matching, and
// unbound PASIDs are not judged.
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/checker_history.h"

namespace iosim {

class CompletionContractChecker : public Checker {
 public:
  static constexpr const char* kName = "completion_contract";
  CompletionContractChecker(const CheckerHistory& history, ViolationLog& log)
      : Checker(kName, history, log) {}
  void on_device_access(const DeviceAccessEvent& e) override;
};

}  // namespace iosim

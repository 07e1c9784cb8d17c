// Use-after-free checker (case A of Documentation/mm/mmu_notifier.rst).
//
// Flags a device access to a 4 KiB frame that was freed (and possibly reallocated)
// after the translation the device used was obtained and no later than the access
// took effect: the device reached memory the OS had already given back.
//
// Simplifications: a translation obtained at the same simulated time as the free
// is taken as obtained after it (not flagged); accesses without a PASID are checked
// too, since only the frame matters.
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/checker_history.h"

namespace iosim {

class UseAfterFreeChecker : public Checker {
 public:
  static constexpr const char* kName = "use_after_free";
  UseAfterFreeChecker(const CheckerHistory& history, ViolationLog& log)
      : Checker(kName, history, log) {}
  void on_device_access(const DeviceAccessEvent& e) override;
};

}  // namespace iosim

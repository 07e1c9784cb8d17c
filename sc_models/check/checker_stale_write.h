// Stale-after-newer-write checker (case B of Documentation/mm/mmu_notifier.rst).
//
// Flags a device access, through the mm its PASID is bound to, that used a
// translation older than the current PTE of its page (the PTE was changed to map
// another frame at or after the time the translation was obtained) while a CPU
// write to the frame the current PTE maps has already completed: the device can
// observe an old value after a newer one (the COW timeline of mmu_notifier.rst).
//
// Simplifications: only the current PTE is compared (an access through a
// translation that matches it is fine whatever happened in between); the newer
// write must be made through the same mm's mapping; unbound PASIDs are not judged.
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/checker_history.h"

namespace iosim {

class StaleAfterNewerWriteChecker : public Checker {
 public:
  static constexpr const char* kName = "stale_after_newer_write";
  StaleAfterNewerWriteChecker(const CheckerHistory& history, ViolationLog& log)
      : Checker(kName, history, log) {}
  void on_device_access(const DeviceAccessEvent& e) override;
};

}  // namespace iosim

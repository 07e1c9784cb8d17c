// Write-after-protect checker.
//
// Flags a device write through a translation obtained while the PTE was writable
// and mapped the written frame, after a later PTE value became read-only or not
// present AND an invalidation covering (PASID, VA) completed at or after that
// change: software believed no writable translation was left. A write after the
// write-protect but before the completion is the allowed KSM / write-protect
// deferral of Documentation/mm/mmu_notifier.rst and is not flagged.
//
// Simplifications: a translation older than the remembered PTE history is not
// judged; unbound PASIDs are not judged.
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/checker_history.h"

namespace iosim {

class WriteAfterProtectChecker : public Checker {
 public:
  static constexpr const char* kName = "write_after_protect";
  WriteAfterProtectChecker(const CheckerHistory& history, ViolationLog& log)
      : Checker(kName, history, log) {}
  void on_device_access(const DeviceAccessEvent& e) override;
};

}  // namespace iosim

#include "os/mmu_notifier_range.h"

namespace iosim {

const char* mmu_notifier_event_name(MmuNotifierEvent e) {
  switch (e) {
    case MmuNotifierEvent::kUnmap:
      return "UNMAP";
    case MmuNotifierEvent::kClear:
      return "CLEAR";
    case MmuNotifierEvent::kProtectionVma:
      return "PROTECTION_VMA";
    case MmuNotifierEvent::kProtectionPage:
      return "PROTECTION_PAGE";
    case MmuNotifierEvent::kSoftDirty:
      return "SOFT_DIRTY";
    case MmuNotifierEvent::kRelease:
      return "RELEASE";
    case MmuNotifierEvent::kMigrate:
      return "MIGRATE";
    case MmuNotifierEvent::kExclusive:
      return "EXCLUSIVE";
  }
  return "UNKNOWN";
}

}  // namespace iosim

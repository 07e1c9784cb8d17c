#include "os/mmu_notifier.h"

namespace iosim {

const char* mmu_notifier_op_name(MmuNotifierOp op) {
  switch (op) {
    case MmuNotifierOp::kRelease:
      return "release";
    case MmuNotifierOp::kClearFlushYoung:
      return "clear_flush_young";
    case MmuNotifierOp::kClearYoung:
      return "clear_young";
    case MmuNotifierOp::kTestYoung:
      return "test_young";
    case MmuNotifierOp::kInvalidateRangeStart:
      return "invalidate_range_start";
    case MmuNotifierOp::kInvalidateRangeEnd:
      return "invalidate_range_end";
    case MmuNotifierOp::kArchInvalidateSecondaryTlbs:
      return "arch_invalidate_secondary_tlbs";
    case MmuNotifierOp::kAllocNotifier:
      return "alloc_notifier";
    case MmuNotifierOp::kFreeNotifier:
      return "free_notifier";
  }
  return "unknown";
}

}  // namespace iosim

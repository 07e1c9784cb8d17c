#include "cpu/thread_program.h"

namespace iosim {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kLoad:
      return "load";
    case OpKind::kStore:
      return "store";
    case OpKind::kWait:
      return "wait";
    case OpKind::kMmap:
      return "mmap";
    case OpKind::kMunmap:
      return "munmap";
    case OpKind::kMprotect:
      return "mprotect";
    case OpKind::kMadviseDontneed:
      return "madvise_dontneed";
    case OpKind::kFork:
      return "fork";
    case OpKind::kMremap:
      return "mremap";
    case OpKind::kMigrate:
      return "migrate";
    case OpKind::kKsmMerge:
      return "ksm_merge";
    case OpKind::kClearSoftDirty:
      return "clear_soft_dirty";
    case OpKind::kMakeExclusive:
      return "make_device_exclusive";
    case OpKind::kClearFlushYoung:
      return "clear_flush_young";
    case OpKind::kExit:
      return "exit";
  }
  return "?";
}

}  // namespace iosim

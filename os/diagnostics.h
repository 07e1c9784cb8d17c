// Kernel-style diagnostics: the simulator's dmesg for rule violations in the OS model.
//
// Models the WARN()/pr_info()/lockdep/might_sleep() splats the kernel prints when
// software breaks a locking or MMU-notifier rule: sleeping in atomic context, an
// unbalanced invalidate_range_end(), a secondary mapping established inside an
// invalidate_range_start()/end() window, a refused notifier registration, ... Each
// report is a record (kind, simulated time, thread, where, message) kept in a list
// and counted per kind, so scenarios and tests can assert on them.
//
// The log belongs to the kernel's OsContext (os/os_context.h), one per simulated kernel
// like the kernel ring buffer; it asks that context which thread reports.
//
// Simplifications: no rate limiting and no WARN_ONCE folding; nothing is printed unless
// a listener is set.
#pragma once

#include <systemc>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace iosim {

class OsContext;

enum class DiagKind : unsigned {
  kSleepInAtomic,             // might_sleep() with a spin lock held or in a non-block section
  kLockNotHeld,               // unlock or assert_held by a thread that does not hold the lock
  kRecursiveLock,             // a spin lock taken again by its holder (self-deadlock)
  kRegisterRefused,           // mmu_notifier registration refused (-EINVAL)
  kStartFailedBlockable,      // invalidate_range_start failed in a blockable range
  kStartBadReturn,            // invalidate_range_start returned neither 0 nor -EAGAIN
  kStartFailedWithEnd,        // a subscriber that failed start implements invalidate_range_end
  kUndeclaredStartFailure,    // start failed but the subscriber did not declare it can fail
  kEndWithoutStart,           // invalidate_range_end for a range that is not active
  kUnbalancedEnd,             // a subscriber received an end without the matching start
  kSpteInsideRange,           // a secondary mapping established inside a start/end window
  kPtlNotHeld,                // arch_invalidate_secondary_tlbs called without the PTL held
  kRangeWithoutLock,          // range start/end without mmap_lock or an rmap lock held
  kIntervalInvalidateFailed,  // interval invalidate() returned false in a blockable range
  kIntervalMisuse,            // interval insert/remove on a subscription in the wrong state
  kSrcuDeadlock,              // synchronize_srcu() inside a read-side section of the same srcu
  kNotifierMisuse,            // put without get, unregister of a foreign subscription, ...
  kMmRefcount,                // mm_users/mm_count misuse, subscriptions left at mm free
  kCount
};

const char* diag_kind_name(DiagKind kind);

struct Diagnostic {
  DiagKind kind;
  sc_core::sc_time time;  // simulated time of the report
  std::string thread;     // SystemC process name ("" outside any process)
  std::string where;      // innermost ExecContext frame, e.g. "sva.arch_invalidate_secondary_tlbs"
  std::string message;
};

class Diagnostics {
 public:
  // `os` names the calling thread and its frame in each record.
  explicit Diagnostics(OsContext& os) : os_(os) {}
  Diagnostics(const Diagnostics&) = delete;
  Diagnostics& operator=(const Diagnostics&) = delete;

  // Records a violation. `where` defaults to the calling thread's innermost frame.
  void report(DiagKind kind, const std::string& message);
  void report_at(DiagKind kind, const std::string& where, const std::string& message);

  uint64_t count(DiagKind kind) const { return counts_[static_cast<size_t>(kind)]; }
  uint64_t total() const { return records_.size(); }
  const std::vector<Diagnostic>& records() const { return records_; }
  // Records of one kind, in report order.
  std::vector<Diagnostic> of_kind(DiagKind kind) const;
  void clear();

  // Called for every new record (e.g. to print it or feed a checker).
  void set_listener(std::function<void(const Diagnostic&)> fn) { listener_ = std::move(fn); }

 private:
  OsContext& os_;
  std::vector<Diagnostic> records_;
  std::array<uint64_t, static_cast<size_t>(DiagKind::kCount)> counts_{};
  std::function<void(const Diagnostic&)> listener_;
};

}  // namespace iosim

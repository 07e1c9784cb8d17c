// SvaNotifier: the MMU notifier the SVA driver registers once per bound mm (Linux
// intel_mmuops / arm_smmu_mmu_notifier_ops).
//
// Two op sets, chosen by sva.notifier:
//   kArchInvalidate (Linux 6.6+): arch_invalidate_secondary_tlbs + release. The
//     driver's invalidation runs inside the caller's page-table lock and spins there.
//   kRangeStartEnd (older style): invalidate_range_start (nothing to do) and
//     invalidate_range_end + release. The invalidation runs at range end, after the
//     PTL is dropped and after any preemption hold.
// release() (mm exit) clears the PASID entries and flushes the PASID everywhere.
// Non-blocking ranges (mmu_notifier_invalidate_range_start_nonblock, the OOM reaper):
// the driver never sleeps to invalidate (the command queue lock is a spin lock and the
// wait spins on the status word, as Linux's qi_submit_sync under qi->q_lock), so in
// either mode the start returns 0, never -EAGAIN, and the invalidation runs where it
// does in a blockable range (under the PTL, or from invalidate_range_end).
// The callbacks take no time of their own: the driver's invalidation is the cost.
// arch_invalidate_secondary_tlbs has no range argument (as in Linux), so its
// invalidation is attributed to the event of the range the calling thread has open.
#pragma once

#include <optional>

#include "os/mmu_notifier.h"
#include "sc_models/config/choice.h"

namespace iosim {

class SvaDriver;

enum class SvaNotifierMode { kArchInvalidate, kRangeStartEnd };
// sva.notifier; no mode (auto) follows os.secondary_tlb_flush.
inline constexpr ChoiceValue<std::optional<SvaNotifierMode>> kSvaNotifierValues[] = {
    {"auto", std::nullopt,
     "arch_invalidate under os.secondary_tlb_flush = under_ptl, else range_start_end"},
    {"arch_invalidate", SvaNotifierMode::kArchInvalidate,
     "arch_invalidate_secondary_tlbs, inside the page-table lock (Linux 6.6+)"},
    {"range_start_end", SvaNotifierMode::kRangeStartEnd,
     "invalidate_range_start/end, after the page-table lock is dropped"}};
inline constexpr Choices<std::optional<SvaNotifierMode>> kSvaNotifier{kSvaNotifierValues};

class SvaNotifier : public MmuNotifier {
 public:
  SvaNotifier(SvaDriver& driver, SvaNotifierMode mode);

  void arch_invalidate_secondary_tlbs(MmStruct& mm, uint64_t start, uint64_t end) override;
  int invalidate_range_start(const MmuNotifierRange& range) override;
  void invalidate_range_end(const MmuNotifierRange& range) override;
  void release(MmStruct& mm) override;

  SvaNotifierMode mode() const { return mode_; }

 private:
  SvaDriver& driver_;
  SvaNotifierMode mode_;
};

}  // namespace iosim

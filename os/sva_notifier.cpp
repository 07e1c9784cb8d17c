#include "os/sva_notifier.h"

#include "os/mm.h"
#include "os/os_context.h"
#include "os/sva_driver.h"

namespace iosim {

namespace {

uint32_t ops_of(SvaNotifierMode mode) {
  return mode == SvaNotifierMode::kArchInvalidate
             ? MmuNotifier::kArchInvalidateSecondaryTlbs | MmuNotifier::kRelease
             : MmuNotifier::kInvalidateRangeStart | MmuNotifier::kInvalidateRangeEnd |
                   MmuNotifier::kRelease;
}

}  // namespace

SvaNotifier::SvaNotifier(SvaDriver& driver, SvaNotifierMode mode)
    : MmuNotifier("sva", ops_of(mode)), driver_(driver), mode_(mode) {}

void SvaNotifier::arch_invalidate_secondary_tlbs(MmStruct& mm, uint64_t start, uint64_t end) {
  ExecContext::Frame f(mm.context().current(), "sva.arch_invalidate_secondary_tlbs");
  // The op has no range argument (as in Linux): the event is that of the range the
  // calling thread has open around the PTE change.
  driver_.invalidate(static_cast<Mm&>(mm), start, end,
                     mm.notifier_subscriptions().current_range_event());
}

int SvaNotifier::invalidate_range_start(const MmuNotifierRange&) {
  return 0;
}

void SvaNotifier::invalidate_range_end(const MmuNotifierRange& range) {
  ExecContext::Frame f(range.mm->context().current(), "sva.invalidate_range_end");
  driver_.invalidate(static_cast<Mm&>(*range.mm), range.start, range.end, range.event);
}

void SvaNotifier::release(MmStruct& mm) {
  ExecContext::Frame f(mm.context().current(), "sva.release");
  driver_.release(static_cast<Mm&>(mm));
}

}  // namespace iosim

// Completion-contract checker.
#include "sc_models/check/checker_completion.h"

namespace iosim {
namespace {

// True when the PTE in effect at `t` still gives the translation the access used.
bool still_current(const PageHistory* h, const sc_core::sc_time& t, const DeviceAccessEvent& e) {
  if (!h) return true;  // the PTE never changed
  const int idx = h->version_in_effect(t);
  if (idx < 0) return true;  // forgotten: not judged
  const PteVersion& v = h->versions[idx];
  return v.present() && v.frame_of(e.va, h->page_bytes) == (e.pa & kCheckerFrameMask) &&
         (!e.is_write || v.writable());
}

}  // namespace

void CompletionContractChecker::on_device_access(const DeviceAccessEvent& e) {
  if (!history().mm_of(e.pasid)) return;
  const InvalidationRecord* inv = history().latest_invalidation(e.pasid, e.va);
  if (!inv || !(e.translation_time < inv->time) || inv->time > e.time) return;
  const PageHistory* h = history().page_of_pasid(e.pasid, e.va);
  if (still_current(h, inv->time, e)) return;
  Violation v = violation_from(kName, e);
  v.summary =
      "device used a translation after the invalidation covering it was reported "
      "complete";
  h->append_changes(e.translation_time, inv->time, v.steps);
  v.steps.push_back({inv->time, "invalidation of [" + hex(inv->start) + ", " + hex(inv->end) +
                                    ") PASID " + pasid_text(inv->pasid) + " reported complete"});
  finish_steps(v, e);
  report(std::move(v));
}

}  // namespace iosim

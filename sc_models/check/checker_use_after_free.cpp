// Use-after-free checker.
#include "sc_models/check/checker_use_after_free.h"

namespace iosim {

void UseAfterFreeChecker::on_device_access(const DeviceAccessEvent& e) {
  const FrameHistory* f = history().frame(e.pa);
  if (!f || !f->freed) return;
  if (!(e.translation_time < f->last_free) || f->last_free > e.time) return;
  Violation v = violation_from(kName, e);
  v.summary = "device access through a translation obtained before its frame was freed" +
              std::string(f->reallocated ? " and reallocated" : "");
  const uint64_t frame = e.pa & kCheckerFrameMask;
  if (const PageHistory* h = history().page_of_pasid(e.pasid, e.va)) {
    h->append_changes(e.translation_time, e.time, v.steps);
  }
  v.steps.push_back({f->last_free, "frame " + hex(frame) + " freed"});
  if (f->reallocated) v.steps.push_back({f->last_alloc, "frame " + hex(frame) + " reallocated"});
  finish_steps(v, e);
  report(std::move(v));
}

}  // namespace iosim

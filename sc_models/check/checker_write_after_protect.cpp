// Write-after-protect checker.
#include "sc_models/check/checker_write_after_protect.h"

namespace iosim {

void WriteAfterProtectChecker::on_device_access(const DeviceAccessEvent& e) {
  if (!e.is_write) return;
  const PageHistory* h = history().page_of_pasid(e.pasid, e.va);
  if (!h) return;
  const uint64_t used = e.pa & kCheckerFrameMask;
  const int k = h->version_at(e.translation_time, used, e.va);
  if (k < 0) return;
  const PteVersion& obtained = h->versions[k];
  if (!obtained.writable() || obtained.frame_of(e.va, h->page_bytes) != used) return;
  const PteVersion* protect = nullptr;
  for (size_t j = k + 1; j < h->versions.size() && !protect; ++j) {
    if (!h->versions[j].writable()) protect = &h->versions[j];
  }
  if (!protect) return;
  const InvalidationRecord* inv = history().latest_invalidation(e.pasid, e.va);
  if (!inv || inv->time < protect->since || inv->time > e.time) return;
  Violation v = violation_from(kName, e);
  v.summary = "device write through a stale writable translation after the PTE became " +
              std::string(protect->present() ? "read-only" : "not present") +
              " and its invalidation completed";
  h->append_changes(e.translation_time, inv->time, v.steps);
  v.steps.push_back({inv->time, "invalidation of [" + hex(inv->start) + ", " + hex(inv->end) +
                                    ") PASID " + pasid_text(inv->pasid) + " reported complete"});
  finish_steps(v, e);
  report(std::move(v));
}

}  // namespace iosim

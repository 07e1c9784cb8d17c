// Stale-after-newer-write checker.
#include "sc_models/check/checker_stale_write.h"

namespace iosim {

void StaleAfterNewerWriteChecker::on_device_access(const DeviceAccessEvent& e) {
  const PageHistory* h = history().page_of_pasid(e.pasid, e.va);
  if (!h) return;
  const PteVersion& cur = h->current();
  if (!cur.present() || !cur.cpu_written || cur.write_time > e.time) return;
  const uint64_t used = e.pa & kCheckerFrameMask;
  const uint64_t now_mapped = cur.frame_of(e.va, h->page_bytes);
  if (used == now_mapped || cur.since < e.translation_time) return;
  Violation v = violation_from(kName, e);
  v.frames.push_back(now_mapped);
  v.summary =
      "device used a translation older than the current PTE after a CPU write to the "
      "new page completed";
  h->append_changes(e.translation_time, e.time, v.steps);
  finish_steps(v, e);
  report(std::move(v));
}

}  // namespace iosim

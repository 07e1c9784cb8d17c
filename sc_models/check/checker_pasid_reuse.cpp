// PASID-reuse checker.
#include "sc_models/check/checker_pasid_reuse.h"

namespace iosim {

void PasidReuseChecker::on_pasid_binding(const PasidBindingEvent& e) {
  State& s = pasids_[e.pasid];
  if (e.bound) {
    if (s.freed && s.freed_mm != e.mm_id) ++handed_on_;
    s.bound = true;
    s.mm_id = e.mm_id;
    s.bound_since = e.time;
    return;
  }
  s.bound = false;
  s.freed = true;
  s.last_free = e.time;
  s.freed_mm = s.mm_id;
}

void PasidReuseChecker::on_device_access(const DeviceAccessEvent& e) {
  if (handed_on_ == 0) return;  // no PASID went to another mm: nothing to judge
  auto it = pasids_.find(e.pasid);
  if (it == pasids_.end()) return;
  const State& s = it->second;
  // Bound again, to another mm, before the access; the translation is from before
  // the free, so from the old mm.
  if (!s.bound || !s.freed || s.freed_mm == s.mm_id || s.bound_since > e.time) return;
  if (!(e.translation_time < s.last_free)) return;
  Violation v = violation_from(kName, e);
  // The translation was cached while the PASID had its earlier owner (for any thread).
  v.steps.front().text = "translation VA " + hex(e.va) + " -> PA " + hex(e.pa) +
                         " obtained for PASID " + pasid_text(e.pasid) + " (mm " +
                         std::to_string(s.freed_mm) + ")" +
                         (e.through_atc ? ", kept in the ATC" : "");
  v.summary = "device access through PASID " + pasid_text(e.pasid) + ", now of mm " +
              std::to_string(s.mm_id) + ", used a translation of mm " + std::to_string(s.freed_mm) +
              " obtained before the PASID was freed";
  v.steps.push_back({s.last_free, "PASID " + pasid_text(e.pasid) + " of mm " +
                                      std::to_string(s.freed_mm) + " freed (unbind)"});
  v.steps.push_back(
      {s.bound_since, "PASID " + pasid_text(e.pasid) + " bound to mm " + std::to_string(s.mm_id)});
  finish_steps(v, e);
  report(std::move(v));
}

}  // namespace iosim

// PASID-reuse checker: a device access, through a PASID the driver had freed and then
// handed to another mm, that used a translation obtained before the free (so one of
// the old mm's translations, still cached in the device's ATC or the IOMMU).
//
// The driver frees a PASID on the last unbind and gives the lowest free PASID to the
// next bind (os/sva_driver.h), so a later process may get it. The teardown of an
// unbind (clear the PASID entry, flush the PASID cache, IOTLB and device TLB, drain
// the page requests, then free) is what keeps the old process's translations from
// reaching the new one; this checker counts the accesses where they did.
//
// Fed by PasidBindingEvent (bind and free, with times) and DeviceAccessEvent. It is
// not one of the four ordering checkers of DESIGN section 6 (their report columns stay
// as they are): the suite counts it in its total and reports it when a PASID was
// handed on at least once.
//
// Simplifications: only the last free of each PASID is remembered; a translation
// obtained at the very time of the free counts as obtained after it.
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/checker_history.h"

#include <unordered_map>

namespace iosim {

class PasidReuseChecker : public Checker {
 public:
  static constexpr const char* kName = "pasid_reuse_stale";
  PasidReuseChecker(const CheckerHistory& history, ViolationLog& log)
      : Checker(kName, history, log) {}
  // Binds of a PASID to an mm other than the one it was last freed by.
  uint64_t handed_on() const { return handed_on_; }

  void on_pasid_binding(const PasidBindingEvent& e) override;
  void on_device_access(const DeviceAccessEvent& e) override;

 private:
  struct State {
    bool bound = false;
    uint32_t mm_id = 0;
    bool freed = false;  // freed at least once
    sc_core::sc_time last_free;
    uint32_t freed_mm = 0;  // the mm it belonged to before that free
    sc_core::sc_time bound_since;
  };
  std::unordered_map<uint32_t, State> pasids_;
  uint64_t handed_on_ = 0;
};

}  // namespace iosim

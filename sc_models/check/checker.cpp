// Checker infrastructure: violation text, the bounded log, shared step helpers.
#include "sc_models/check/checker.h"
#include "sc_models/memory/page_size.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace iosim {

void CheckerConfig::validate() const {
  if (pte_versions_per_page < 2) {
    throw std::invalid_argument("checker.pte_versions_per_page must be >= 2");
  }
  if (invalidations_per_pasid < 1) {
    throw std::invalid_argument("checker.invalidations_per_pasid must be >= 1");
  }
}

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

std::string pasid_text(uint32_t pasid) {
  return pasid == DeviceAccessEvent::kNoPasid ? std::string("none") : std::to_string(pasid);
}

std::string Violation::to_string() const {
  std::ostringstream os;
  os << checker << " at " << time.to_string() << ": " << thread << " PASID " << pasid_text(pasid)
     << " VA " << hex(va) << (is_write ? " write" : " read") << " frames";
  for (size_t i = 0; i < frames.size(); ++i) os << (i ? ", " : " ") << hex(frames[i]);
  os << "\n  " << summary << "\n";
  for (const auto& s : steps) os << "  [" << s.time.to_string() << "] " << s.text << "\n";
  return os.str();
}

void ViolationLog::add(Violation v) {
  if (records_.size() < max_records_) {
    records_.push_back(std::move(v));
  } else {
    ++dropped_;
  }
}

ViolationStep translation_step(const DeviceAccessEvent& e) {
  return {e.translation_time, std::string(e.thread) + " obtained translation VA " + hex(e.va) +
                                  " -> PA " + hex(e.pa) + (e.through_atc ? " (ATC)" : " (IOMMU)")};
}

ViolationStep access_step(const DeviceAccessEvent& e) {
  return {e.time, std::string(e.thread) + (e.is_write ? " write" : " read") + " VA " + hex(e.va) +
                      " at PA " + hex(e.pa) + " took effect"};
}

Violation violation_from(const char* checker, const DeviceAccessEvent& e) {
  Violation v;
  v.checker = checker;
  v.time = e.time;
  v.thread = e.thread;
  v.pasid = e.pasid;
  v.va = e.va;
  v.is_write = e.is_write;
  v.frames.push_back(e.pa & kPageMask);
  v.steps.push_back(translation_step(e));
  return v;
}

void finish_steps(Violation& v, const DeviceAccessEvent& e) {
  std::stable_sort(v.steps.begin(), v.steps.end(),
                   [](const ViolationStep& a, const ViolationStep& b) { return a.time < b.time; });
  v.steps.push_back(access_step(e));
}

void Checker::report(Violation v) {
  ++count_;
  log_.add(std::move(v));
}

}  // namespace iosim

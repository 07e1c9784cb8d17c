// Checker infrastructure: the violation record every checker
// produces, the bounded log that keeps them, the checkers' configuration and the
// common base class of the four checkers.
//
// A Violation says when and where an unsafe ordering took effect (time, device
// thread, PASID, VA, the frames involved) and lists the earlier events that led to
// it, in time order, as readable text; to_string() prints one block of a report.
//
// Simplifications: records beyond CheckerConfig::max_records are counted but not
// kept; the listed earlier events are those the checker's own history still holds
// (bounded per page), not a full trace.
#pragma once

#include "sc_models/check/ground_truth.h"

#include <systemc>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace iosim {

struct CheckerConfig {
  // PTE values remembered per (mm, page); older versions are forgotten, and a
  // translation older than every remembered version is not judged.
  uint32_t pte_versions_per_page = 8;
  // Completed invalidations remembered per PASID (and per mm for mm-wide ones).
  uint32_t invalidations_per_pasid = 256;
  // Violation records kept for the report (all violations are counted).
  uint32_t max_records = 1000;

  template <class V>
  void visit(V& v) {
    v("pte_versions_per_page", pte_versions_per_page, "entries",
      "PTE versions remembered per page (>= 2)");
    v("invalidations_per_pasid", invalidations_per_pasid, "entries",
      "completed invalidations remembered per PASID (>= 1)");
    v("max_records", max_records, "records", "violation records kept for the report");
  }
  // Throws std::invalid_argument naming the parameter when a value is out of range.
  void validate() const;
};

// One earlier event that led to a violation.
struct ViolationStep {
  sc_core::sc_time time;
  std::string text;
};

struct Violation {
  std::string checker;  // "use_after_free", "stale_after_newer_write", ...
  sc_core::sc_time time;
  std::string thread;  // device thread whose access took effect
  uint32_t pasid = DeviceAccessEvent::kNoPasid;
  uint64_t va = 0;
  bool is_write = false;
  std::vector<uint64_t> frames;      // frame used first, then related frames
  std::string summary;               // one line: what was unsafe
  std::vector<ViolationStep> steps;  // earlier events, oldest first

  // A readable block: a header line with checker, time, thread, PASID, VA and
  // frames, the summary, then one indented line per step ("  [12 ns] ...").
  std::string to_string() const;
};

// Keeps up to `max_records` violations and counts the rest.
class ViolationLog {
 public:
  explicit ViolationLog(uint32_t max_records) : max_records_(max_records) {}
  void add(Violation v);
  const std::vector<Violation>& records() const { return records_; }
  uint64_t dropped() const { return dropped_; }

 private:
  uint32_t max_records_;
  std::vector<Violation> records_;
  uint64_t dropped_ = 0;
};

// Text helpers shared by the checkers.
std::string hex(uint64_t v);
std::string pasid_text(uint32_t pasid);
// Steps for the translation a device access used and for the access itself.
ViolationStep translation_step(const DeviceAccessEvent& e);
ViolationStep access_step(const DeviceAccessEvent& e);
// Violation skeleton filled from a device access (time, thread, PASID, VA, frame).
Violation violation_from(const char* checker, const DeviceAccessEvent& e);
// Sorts steps by time (stable) and appends the access as the last step.
void finish_steps(Violation& v, const DeviceAccessEvent& e);

class CheckerHistory;

// Base of the four checkers: a ground-truth sink with a name and a count that
// reads the shared CheckerHistory and reports into the suite's ViolationLog.
class Checker : public GroundTruthSink {
 public:
  Checker(std::string name, const CheckerHistory& history, ViolationLog& log)
      : name_(std::move(name)), history_(history), log_(log) {}
  const std::string& name() const { return name_; }
  uint64_t count() const { return count_; }

 protected:
  const CheckerHistory& history() const { return history_; }
  void report(Violation v);

 private:
  std::string name_;
  const CheckerHistory& history_;
  ViolationLog& log_;
  uint64_t count_ = 0;
};

}  // namespace iosim

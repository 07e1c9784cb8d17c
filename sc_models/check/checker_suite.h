// The checker suite: owns the shared ground-truth history and
// the four checkers (use_after_free, stale_after_newer_write, write_after_protect,
// completion_contract), subscribes them to a GroundTruth hub, counts violations
// per checker and keeps the violation records for a readable report. It also owns
// the PASID-reuse checker (pasid_reuse_stale, sc_models/check/checker_pasid_reuse.h):
// counted in total() and by count(), listed by report() and pasid_reuse() only, and
// shown in reports only when a PASID was handed to another mm.
//
//   CheckerSuite checkers(CheckerConfig{});
//   checkers.attach(ground_truth);           // before the simulation starts
//   checkers.bind_pasid(pasid, mm_id);       // when the driver binds an mm
//   ...
//   checkers.count("stale_after_newer_write"); checkers.report(std::cout);
//
// Simplifications: pure C++ (not an sc_module, no stats registration of its own);
// the suite must outlive the hub it is attached to; events are expected in
// simulation order (each at its own simulated time, as the hub delivers them).
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/checker_completion.h"
#include "sc_models/check/checker_history.h"
#include "sc_models/check/checker_pasid_reuse.h"
#include "sc_models/check/checker_stale_write.h"
#include "sc_models/check/checker_use_after_free.h"
#include "sc_models/check/checker_write_after_protect.h"
#include "sc_models/check/ground_truth.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace iosim {

// The names of the suite's checkers in report order, for reports written without a
// suite (every count 0). CheckerSuite::names() returns the same list.
const std::vector<std::string>& checker_names();

class CheckerSuite {
 public:
  explicit CheckerSuite(const CheckerConfig& cfg = CheckerConfig{});
  CheckerSuite(const CheckerSuite&) = delete;
  CheckerSuite& operator=(const CheckerSuite&) = delete;

  // Subscribes the history and then every checker to `hub`.
  void attach(GroundTruth& hub);
  // Device requests tagged `pasid` use the page tables of mm `mm_id`.
  void bind_pasid(uint32_t pasid, uint32_t mm_id) { history_.bind_pasid(pasid, mm_id); }
  void unbind_pasid(uint32_t pasid) { history_.unbind_pasid(pasid); }

  // Checker names, in report order.
  std::vector<std::string> names() const;
  // Violations found by the checker `name` (one of names(), or pasid_reuse_stale);
  // throws std::invalid_argument for an unknown name (listing the valid ones).
  uint64_t count(const std::string& name) const;
  uint64_t total() const;
  // Kept records (at most CheckerConfig::max_records), in detection order.
  const std::vector<Violation>& violations() const { return log_.records(); }
  uint64_t dropped_records() const { return log_.dropped(); }

  // Counts per checker, then every kept record (Violation::to_string()).
  void report(std::ostream& os) const;
  std::string report() const;

  const CheckerHistory& history() const { return history_; }
  const PasidReuseChecker& pasid_reuse() const { return pasid_reuse_; }

 private:
  std::vector<Checker*> checkers() const;

  CheckerConfig cfg_;
  ViolationLog log_;
  CheckerHistory history_;
  UseAfterFreeChecker use_after_free_;
  StaleAfterNewerWriteChecker stale_after_newer_write_;
  WriteAfterProtectChecker write_after_protect_;
  CompletionContractChecker completion_contract_;
  PasidReuseChecker pasid_reuse_;
};

}  // namespace iosim

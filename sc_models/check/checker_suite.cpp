// The checker suite: ownership, subscription, counts and the report.
#include "sc_models/check/checker_suite.h"

#include <sstream>
#include <stdexcept>

namespace iosim {

CheckerSuite::CheckerSuite(const CheckerConfig& cfg)
    : cfg_(cfg),
      log_(cfg.max_records),
      history_(cfg),
      use_after_free_(history_, log_),
      stale_after_newer_write_(history_, log_),
      write_after_protect_(history_, log_),
      completion_contract_(history_, log_),
      pasid_reuse_(history_, log_) {}

std::vector<Checker*> CheckerSuite::checkers() const {
  auto* self = const_cast<CheckerSuite*>(this);
  return {&self->use_after_free_, &self->stale_after_newer_write_, &self->write_after_protect_,
          &self->completion_contract_};
}

void CheckerSuite::attach(GroundTruth& hub) {
  hub.subscribe(&history_);
  for (Checker* c : checkers()) hub.subscribe(c);
  hub.subscribe(&pasid_reuse_);
}

const std::vector<std::string>& checker_names() {
  static const std::vector<std::string> names = {"use_after_free", "stale_after_newer_write",
                                                 "write_after_protect", "completion_contract"};
  return names;
}

std::vector<std::string> CheckerSuite::names() const {
  std::vector<std::string> out;
  for (const Checker* c : checkers()) out.push_back(c->name());
  return out;
}

uint64_t CheckerSuite::count(const std::string& name) const {
  std::string valid;
  for (const Checker* c : checkers()) {
    if (c->name() == name) return c->count();
    valid += (valid.empty() ? "" : ", ") + c->name();
  }
  if (name == pasid_reuse_.name()) return pasid_reuse_.count();
  valid += ", " + pasid_reuse_.name();
  throw std::invalid_argument("unknown checker '" + name + "' (valid: " + valid + ")");
}

uint64_t CheckerSuite::total() const {
  uint64_t n = 0;
  for (const Checker* c : checkers()) n += c->count();
  return n + pasid_reuse_.count();
}

void CheckerSuite::report(std::ostream& os) const {
  os << "Checker violations: " << total() << "\n";
  for (const Checker* c : checkers()) os << "  " << c->name() << ": " << c->count() << "\n";
  if (pasid_reuse_.handed_on() > 0) {
    os << "  " << pasid_reuse_.name() << ": " << pasid_reuse_.count() << "\n";
  }
  for (const Violation& v : log_.records()) os << "\n" << v.to_string();
  if (log_.dropped()) os << "\n(" << log_.dropped() << " more violations not recorded)\n";
}

std::string CheckerSuite::report() const {
  std::ostringstream os;
  report(os);
  return os.str();
}

}  // namespace iosim

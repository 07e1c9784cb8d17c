#include "sc_models/observe/stats.h"

#include "sc_models/observe/json.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace iosim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Splits "a.b.c" into segments; throws on an empty segment.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty()) return parts;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view seg = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (seg.empty()) {
      throw std::invalid_argument("stats path '" + std::string(path) + "' has an empty segment");
    }
    parts.push_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace


// ---------------------------------------------------------------- stat kinds

Stat::Stat(std::string name, std::string unit, std::string desc)
    : name_(std::move(name)), unit_(std::move(unit)), desc_(std::move(desc)) {}

Json Stat::json() const {
  Json o = Json::object();
  o["kind"] = kind();
  o["unit"] = unit_;
  o["desc"] = desc_;
  write_values(o);
  return o;
}

void Counter::write_values(Json& o) const {
  o["value"] = value_;
}

double Average::min() const {
  return count_ ? min_ : kNaN;
}
double Average::max() const {
  return count_ ? max_ : kNaN;
}
double Average::mean() const {
  return count_ ? sum_ / static_cast<double>(count_) : kNaN;
}

void Average::reset() {
  count_ = 0;
  sum_ = min_ = max_ = 0;
}

void Average::write_values(Json& o) const {
  o["count"] = count_;
  o["sum"] = sum_;
  o["min"] = min();
  o["max"] = max();
  o["mean"] = mean();
}

void Histogram::write_values(Json& o) const {
  o["count"] = count();
  o["min"] = min();
  o["mean"] = mean();
  o["p50"] = percentile(50);
  o["p90"] = percentile(90);
  o["p99"] = percentile(99);
  o["max"] = max();
  Json& buckets = o["buckets"] = Json::object();
  for (size_t i = 0; i < kDecades; ++i) buckets[decade_label(i)] = decade_count(i);
}

Formula::Formula(std::string name, std::string unit, std::string desc, std::function<double()> fn)
    : Stat(std::move(name), std::move(unit), std::move(desc)), fn_(std::move(fn)) {
  if (!fn_) throw std::invalid_argument("formula '" + this->name() + "' has no function");
}

void Formula::write_values(Json& o) const {
  o["value"] = value();
}

// ---------------------------------------------------------------- groups

StatGroup::StatGroup(std::string path) : path_(std::move(path)) {}

void StatGroup::check_new_name(std::string_view name) const {
  std::string where = path_.empty() ? "the root stats group" : "stats group '" + path_ + "'";
  if (name.empty() || name.find('.') != std::string_view::npos) {
    throw std::invalid_argument("invalid stat name '" + std::string(name) + "' in " + where +
                                " (must be non-empty, without '.')");
  }
  if (find(name) || find_group(name)) {
    throw std::invalid_argument("name '" + std::string(name) + "' is already used in " + where);
  }
}

template <class T>
T& StatGroup::add(std::unique_ptr<T> stat) {
  check_new_name(stat->name());
  T& ref = *stat;
  stats_.push_back(std::move(stat));
  return ref;
}

StatGroup& StatGroup::child(std::string_view name) {
  auto it = groups_.find(name);
  if (it != groups_.end()) return *it->second;
  check_new_name(name);
  std::string path = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  auto node = std::make_unique<StatGroup>(std::move(path));
  StatGroup& ref = *node;
  groups_.emplace(std::string(name), std::move(node));
  return ref;
}

StatGroup& StatGroup::group(std::string_view relative_path) {
  StatGroup* g = this;
  for (std::string_view seg : split_path(relative_path)) g = &g->child(seg);
  return *g;
}

Counter& StatGroup::counter(std::string_view name, std::string_view unit, std::string_view desc) {
  return add(std::make_unique<Counter>(std::string(name), std::string(unit), std::string(desc)));
}

Average& StatGroup::average(std::string_view name, std::string_view unit, std::string_view desc) {
  return add(std::make_unique<Average>(std::string(name), std::string(unit), std::string(desc)));
}

Histogram& StatGroup::histogram(std::string_view name, std::string_view desc) {
  return add(std::make_unique<Histogram>(std::string(name), std::string(desc)));
}

Formula& StatGroup::formula(std::string_view name, std::string_view unit, std::string_view desc,
                            std::function<double()> fn) {
  return add(std::make_unique<Formula>(std::string(name), std::string(unit), std::string(desc),
                                       std::move(fn)));
}

Formula& StatGroup::ratio(std::string_view name, std::string_view desc, const Counter& num,
                          const Counter& den) {
  const Counter* n = &num;
  const Counter* d = &den;
  return formula(name, "", desc, [n, d] {
    return d->value() ? static_cast<double>(n->value()) / static_cast<double>(d->value()) : kNaN;
  });
}

const Stat* StatGroup::find(std::string_view name) const {
  for (const auto& s : stats_) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

const StatGroup* StatGroup::find_group(std::string_view name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

void StatGroup::reset() {
  for (auto& s : stats_) s->reset();
  for (auto& g : groups_) g.second->reset();
}

Json StatGroup::json() const {
  Json o = Json::object();
  for (const auto& s : stats_) o[s->name()] = s->json();
  for (const auto& g : groups_) o[g.first] = g.second->json();
  return o;
}

void StatGroup::for_each(const std::function<void(const std::string&, const Stat&)>& fn) const {
  for (const auto& s : stats_) fn(path_.empty() ? s->name() : path_ + "." + s->name(), *s);
  for (const auto& g : groups_) g.second->for_each(fn);
}

// ---------------------------------------------------------------- registry

StatRegistry::StatRegistry() : root_(std::make_unique<StatGroup>("")) {}

StatGroup& StatRegistry::group(std::string_view dotted_path) {
  return root_->group(dotted_path);
}

const Stat* StatRegistry::find(std::string_view dotted_path) const {
  size_t dot = dotted_path.rfind('.');
  const StatGroup* g = root_.get();
  if (dot != std::string_view::npos) {
    for (std::string_view seg : split_path(dotted_path.substr(0, dot))) {
      g = g->find_group(seg);
      if (!g) return nullptr;
    }
  }
  return g->find(dot == std::string_view::npos ? dotted_path : dotted_path.substr(dot + 1));
}

void StatRegistry::reset() {
  root_->reset();
}

Json StatRegistry::json() const {
  return root_->json();
}

std::string StatRegistry::to_json(int indent) const {
  return json_text(json(), indent) + "\n";
}

void StatRegistry::write_json_file(const std::string& file, int indent) const {
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot open stats file '" + file + "' for writing");
  out << to_json(indent);
  out.close();
  if (!out) throw std::runtime_error("error writing stats file '" + file + "'");
}

}  // namespace iosim

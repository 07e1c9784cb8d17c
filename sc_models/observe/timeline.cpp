#include "sc_models/observe/timeline.h"

#include "sc_models/observe/json.h"
#include "sc_models/observe/stats.h"

#include <algorithm>
#include <ostream>
#include <stdexcept>

namespace iosim {

Timeline::Timeline(const TimelineConfig& cfg, bool enabled) : enabled_(enabled) {
  configure(cfg);
}

void Timeline::configure(const TimelineConfig& cfg) {
  cfg_ = cfg;
}

int Timeline::thread(const std::string& name) {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  int idx = static_cast<int>(names_.size());
  names_.push_back(name);
  index_.emplace(name, idx);
  return idx;
}

void Timeline::add(const sc_core::sc_time& t, int thread, std::string text, bool is_state) {
  if (thread < 0 || static_cast<size_t>(thread) >= names_.size()) {
    throw std::invalid_argument("Timeline: unknown thread index " + std::to_string(thread));
  }
  if (entries_.size() >= cfg_.max_events) {
    ++dropped_;
    return;
  }
  entries_.push_back({t, thread, is_state, std::move(text)});
}

void Timeline::clear() {
  entries_.clear();
  dropped_ = 0;
}

std::string Timeline::header(const sc_core::sc_time& t, size_t step) const {
  std::string label = "[Time ";
  if (cfg_.time_format == TimeFormat::kSteps) {
    label += step == 0 ? "N" : "N+" + std::to_string(step);
  } else {
    label += json_number_text(time_in(t, sc_core::SC_NS)) + " ns";
  }
  label += "] ";
  size_t dashes = cfg_.line_width > label.size() + 3 ? cfg_.line_width - label.size() : 3;
  return label + std::string(dashes, '-');
}

void Timeline::append_step(std::vector<std::string>& out,
                           const std::vector<const Entry*>& step_entries, size_t step,
                           std::vector<std::string>& state) const {
  std::vector<std::string> cells(names_.size());
  std::vector<bool> has_event(names_.size(), false);
  for (const Entry* e : step_entries) {
    auto i = static_cast<size_t>(e->thread);
    if (e->is_state) {
      state[i] = e->text;
    } else {
      if (has_event[i]) cells[i] += "; ";
      cells[i] += e->text;
      has_event[i] = true;
    }
  }
  size_t width = 0;
  for (const std::string& n : names_) width = std::max(width, n.size());
  out.push_back(header(step_entries.front()->time, step));
  for (size_t i = 0; i < names_.size(); ++i) {
    std::string line = names_[i] + std::string(width + 2 - names_[i].size(), ' ');
    line += "{" + (has_event[i] ? cells[i] : state[i]) + "}";
    out.push_back(std::move(line));
  }
}

std::vector<std::string> Timeline::lines() const {
  std::vector<const Entry*> order;
  order.reserve(entries_.size());
  for (const Entry& e : entries_) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
                   [](const Entry* a, const Entry* b) { return a->time < b->time; });
  std::vector<std::string> out;
  std::vector<std::string> state(names_.size());
  size_t step = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && order[j]->time == order[i]->time) ++j;
    append_step(out, std::vector<const Entry*>(order.begin() + i, order.begin() + j), step++,
                state);
    i = j;
  }
  if (dropped_) {
    out.push_back("[Timeline: " + std::to_string(dropped_) +
                  " later events dropped (max_events = " + std::to_string(cfg_.max_events) + ")]");
  }
  return out;
}

void Timeline::print(std::ostream& out) const {
  for (const std::string& l : lines()) out << l << '\n';
}

}  // namespace iosim

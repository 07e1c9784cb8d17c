// Text timeline: per-thread events printed per time step, in the shape of the table
// in the kernel's "When do you need to notify inside page table lock?" document
// (Documentation/mm/mmu_notifier.rst):
//
//   [Time N] --------------------------------------------------------------------
//   CPU-thread-0  {try to write to addrA}
//   CPU-thread-1  {}
//   DEV-thread-0  {read addrA and populate device TLB}
//   [Time N+1] ------------------------------------------------------------------
//   ...
//
// Events are (simulated time, thread, text). Printing groups them by distinct
// time: a "[Time <t>]" header padded with dashes to line_width, then one line per
// known thread in registration order, with that thread's events at that time joined
// by "; " inside braces, or "{}". Thread names are padded to the longest name + 2.
// Time is shown in ns ("[Time 12.5 ns]") or, with time_format = "steps", as N, N+1,
// ... counting distinct times from the first event.
//
// A thread can also carry a state ("preempted") that is shown at every step where
// it has no event of its own, until it is changed or cleared (set_state with "").
//
// Events may be recorded out of time order (annotated delays); printing sorts them
// by time, keeping record order within one time. Recording while disabled is one
// branch; guard costly text formatting with enabled().
//
// Simplifications: events are kept in memory until printed (up to max_events, later
// ones are counted and dropped); events at the same simulated time form one step
// even if they happened in separate delta cycles.
#pragma once

#include <systemc>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "sc_models/config/choice.h"

namespace iosim {

// How time steps are labelled.
enum class TimeFormat { kNs, kSteps };
inline constexpr ChoiceValue<TimeFormat> kTimeFormatValues[] = {
    {"ns", TimeFormat::kNs, "simulated time, [Time 12.5 ns]"},
    {"steps", TimeFormat::kSteps, "N, N+1, ... as in the mmu_notifier.rst table"}};
inline constexpr Choices<TimeFormat> kTimeFormat{kTimeFormatValues};

struct TimelineConfig {
  // Width of a "[Time ...] ---" line: 77 characters, as in the mmu_notifier.rst table.
  uint32_t line_width = 77;
  // Events kept for printing; beyond this they are counted as dropped (bounded memory).
  uint64_t max_events = 1000000;
  TimeFormat time_format = TimeFormat::kNs;

  template <class V>
  void visit(V& v) {
    v("line_width", line_width, "chars", "width of the [Time ...] separator lines");
    v("max_events", max_events, "events", "events kept for the timeline; later ones are dropped");
    v.choice("time_format", time_format, kTimeFormat, "time step labels");
  }
};

class Timeline {
 public:
  explicit Timeline(const TimelineConfig& cfg = {}, bool enabled = true);

  void configure(const TimelineConfig& cfg);
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }

  // Index of the named thread, registering it (in order of first use) if new.
  int thread(const std::string& name);
  const std::vector<std::string>& threads() const { return names_; }

  // An event of `thread` (index from thread(), or name) at simulated time t.
  void record(const sc_core::sc_time& t, int thread, std::string text) {
    if (enabled_) add(t, thread, std::move(text), false);
  }
  void record(const sc_core::sc_time& t, const std::string& thread_name, std::string text) {
    if (enabled_) add(t, thread(thread_name), std::move(text), false);
  }
  // Sets (or with "" clears) the state shown for `thread` from time t on.
  void set_state(const sc_core::sc_time& t, int thread, std::string text) {
    if (enabled_) add(t, thread, std::move(text), true);
  }

  // The formatted table, one string per line (no trailing newlines).
  std::vector<std::string> lines() const;
  void print(std::ostream& out) const;  // lines(), each followed by a newline

  size_t size() const { return entries_.size(); }  // events and state changes kept
  uint64_t dropped() const { return dropped_; }
  void clear();  // forget events; threads stay registered

 private:
  struct Entry {
    sc_core::sc_time time;
    int thread;
    bool is_state;
    std::string text;
  };

  void add(const sc_core::sc_time& t, int thread, std::string text, bool is_state);
  std::string header(const sc_core::sc_time& t, size_t step) const;
  void append_step(std::vector<std::string>& out, const std::vector<const Entry*>& step_entries,
                   size_t step, std::vector<std::string>& state) const;

  TimelineConfig cfg_;
  bool enabled_;
  std::vector<std::string> names_;
  std::map<std::string, int> index_;
  std::vector<Entry> entries_;
  uint64_t dropped_ = 0;
};

}  // namespace iosim

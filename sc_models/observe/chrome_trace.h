// Event trace in the Chrome trace-event JSON format (opens in Perfetto and
// chrome://tracing): {"traceEvents":[ ... ],"displayTimeUnit":"ns"}.
//
// Each simulated thread or agent ("CPU-thread-0", "DEV-thread-2", "iommu.cmdq") is
// one track: track(name) gives it a tid, and the file carries one thread_name (and
// thread_sort_index, so viewers keep registration order) metadata event per track.
// Timestamps are simulated time in microseconds (floating point), pid is 1.
//
//   ChromeTrace tr;
//   tr.open("run.trace.json");
//   int tid = tr.track("DEV-thread-0");                     // once, e.g. in a constructor
//   tr.complete(tid, "ats_translate", "ats", start, dur, {{"pasid", pasid},
//               TraceArg::hex("addr", va)});
//   tr.instant(tid, "inv_complete", "ats", sc_core::sc_time_stamp());
//
// Events are streamed to the file as they are recorded (one per line), so memory
// stays bounded; close() (or the destructor) finishes the JSON document. While no
// file is open every recording call is one branch; guard argument formatting that
// costs something (string building) with enabled().
//
// chrome_trace_nesting_errors() checks a written trace: viewers draw a track's slices
// as a stack, so two slices of one track must be disjoint or nested.
//
// Simplifications: a single process (pid 1); no flow events; events are written in
// call order, not sorted by timestamp (viewers sort them).
#pragma once

#include "sc_models/observe/json_fwd.h"

#include <systemc>

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace iosim {

// One entry of an event's "args" object. Strings are referenced, not copied: they
// must outlive the recording call (temporaries in the call expression are fine).
struct TraceArg {
  enum class Kind { kSigned, kUnsigned, kDouble, kString, kHex };

  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  TraceArg(const char* k, T v) : key(k), kind(Kind::kUnsigned), u(0) {
    if constexpr (std::is_signed_v<T>) {
      kind = Kind::kSigned;
      i = v;
    } else {
      u = v;
    }
  }
  TraceArg(const char* k, double v) : key(k), kind(Kind::kDouble), d(v) {}
  TraceArg(const char* k, std::string_view v) : key(k), kind(Kind::kString), u(0), s(v) {}
  TraceArg(const char* k, const char* v) : key(k), kind(Kind::kString), u(0), s(v) {}
  TraceArg(const char* k, const std::string& v) : key(k), kind(Kind::kString), u(0), s(v) {}
  // Written as a "0x..." string (addresses).
  static TraceArg hex(const char* k, uint64_t v) {
    TraceArg a(k, v);
    a.kind = Kind::kHex;
    return a;
  }

  const char* key;
  Kind kind;
  union {
    int64_t i;
    uint64_t u;
    double d;
  };
  std::string_view s;
};

using TraceArgs = std::initializer_list<TraceArg>;

class ChromeTrace {
 public:
  ChromeTrace();  // disabled until open()
  ~ChromeTrace();
  ChromeTrace(const ChromeTrace&) = delete;
  ChromeTrace& operator=(const ChromeTrace&) = delete;

  // Starts a trace file (closing any open one) and writes the metadata of every
  // track known so far. Throws std::runtime_error if the file cannot be created.
  void open(const std::string& file, const std::string& process_name = "iommu-sim");
  // Same, into a stream the caller owns and keeps alive until close().
  void open(std::ostream& out, const std::string& process_name = "iommu-sim");
  // Finishes the JSON document and closes the file. Throws std::runtime_error if
  // writing failed. Does nothing when not open.
  void close();
  bool enabled() const { return out_ != nullptr; }

  // tid of the named track, assigned in first-use order from 1. Works whether or not
  // a file is open; the track's metadata is written once per file.
  int track(const std::string& name);
  const std::string& track_name(int tid) const;  // throws std::out_of_range

  // "X": a span [start, start + dur) on track tid.
  void complete(int tid, std::string_view name, std::string_view cat, const sc_core::sc_time& start,
                const sc_core::sc_time& dur, TraceArgs args = {}) {
    if (out_) write_event(tid, name, cat, 'X', start, &dur, args);
  }
  // "i": a point in time on track tid (thread scope).
  void instant(int tid, std::string_view name, std::string_view cat, const sc_core::sc_time& t,
               TraceArgs args = {}) {
    if (out_) write_event(tid, name, cat, 'i', t, nullptr, args);
  }
  // "B" / "E": a span opened and closed by two calls (must nest per track).
  void begin(int tid, std::string_view name, std::string_view cat, const sc_core::sc_time& t,
             TraceArgs args = {}) {
    if (out_) write_event(tid, name, cat, 'B', t, nullptr, args);
  }
  void end(int tid, const sc_core::sc_time& t, TraceArgs args = {}) {
    if (out_) write_event(tid, "", "", 'E', t, nullptr, args);
  }
  // "C": a process-level counter track (e.g. queue depth) named `name`.
  void counter(std::string_view name, const sc_core::sc_time& t, double value) {
    if (out_) write_counter(name, t, value);
  }

  uint64_t events_written() const { return events_; }  // in the current file, metadata included

 private:
  void start(const std::string& process_name);
  void write_event(int tid, std::string_view name, std::string_view cat, char ph,
                   const sc_core::sc_time& t, const sc_core::sc_time* dur, TraceArgs args);
  void write_counter(std::string_view name, const sc_core::sc_time& t, double value);
  void write_track_metadata(int tid);
  void next_line();  // separator before an event

  std::unique_ptr<std::ofstream> file_;  // owned stream, if opened by file name
  std::ostream* out_ = nullptr;          // where events go; nullptr = disabled
  std::string file_name_;
  std::map<std::string, int, std::less<>> tids_;
  std::vector<std::string> names_;  // by tid - 1
  uint64_t events_ = 0;
};

// The slices of every track of a trace document (parsed, sc_models/observe/json.h) that
// do not nest: "X" spans and "B"/"E" pairs alike (instants and counters are no slices).
// One line per slice that starts inside another and ends after it ("<track>: <name>
// [t0, t1] us overlaps <name> [t0, t1] us") and per unmatched "B" or "E"; empty when
// every track nests. Times compare with a 1 ps tolerance (the file holds decimal us).
std::vector<std::string> chrome_trace_nesting_errors(const Json& trace);

}  // namespace iosim

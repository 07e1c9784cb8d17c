#include "sc_models/chrome_trace.h"

#include "sc_models/json_reader.h"
#include "sc_models/json_writer.h"
#include "sc_models/stats.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

namespace iosim {

namespace {

constexpr int kPid = 1;

double to_us(const sc_core::sc_time& t) {
  return time_in(t, sc_core::SC_US);
}

void write_args(JsonWriter& w, TraceArgs args) {
  w.key("args").begin_object();
  for (const TraceArg& a : args) {
    w.key(a.key);
    switch (a.kind) {
      case TraceArg::Kind::kSigned:
        w.value(a.i);
        break;
      case TraceArg::Kind::kUnsigned:
        w.value(a.u);
        break;
      case TraceArg::Kind::kDouble:
        w.value(a.d);
        break;
      case TraceArg::Kind::kString:
        w.value(a.s);
        break;
      case TraceArg::Kind::kHex: {
        char buf[24];
        std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a.u));
        w.value(buf);
        break;
      }
    }
  }
  w.end_object();
}

}  // namespace

ChromeTrace::ChromeTrace() = default;

ChromeTrace::~ChromeTrace() {
  try {
    close();
  } catch (const std::exception&) {
    // A destructor cannot report a write error; close() explicitly to see it.
  }
}

void ChromeTrace::open(const std::string& file, const std::string& process_name) {
  close();
  auto f = std::make_unique<std::ofstream>(file);
  if (!*f) throw std::runtime_error("cannot open trace file '" + file + "' for writing");
  file_ = std::move(f);
  file_name_ = file;
  out_ = file_.get();
  start(process_name);
}

void ChromeTrace::open(std::ostream& out, const std::string& process_name) {
  close();
  file_name_ = "<stream>";
  out_ = &out;
  start(process_name);
}

void ChromeTrace::start(const std::string& process_name) {
  events_ = 0;
  *out_ << "{\"traceEvents\":[";
  next_line();
  JsonWriter w(*out_);
  w.begin_object().field("name", "process_name").field("ph", "M").field("pid", kPid);
  w.key("args").begin_object().field("name", process_name).end_object();
  w.end_object();
  for (size_t tid = 1; tid <= names_.size(); ++tid) write_track_metadata(static_cast<int>(tid));
}

void ChromeTrace::close() {
  if (!out_) return;
  *out_ << "\n],\n\"displayTimeUnit\":\"ns\"}\n";
  out_->flush();
  bool ok = static_cast<bool>(*out_);
  out_ = nullptr;
  if (file_) {
    file_->close();
    ok = ok && static_cast<bool>(*file_);
    file_.reset();
  }
  if (!ok) throw std::runtime_error("error writing trace file '" + file_name_ + "'");
}

void ChromeTrace::next_line() {
  *out_ << (events_ == 0 ? "\n" : ",\n");
  ++events_;
}

int ChromeTrace::track(const std::string& name) {
  auto it = tids_.find(name);
  if (it != tids_.end()) return it->second;
  names_.push_back(name);
  int tid = static_cast<int>(names_.size());
  tids_.emplace(name, tid);
  if (out_) write_track_metadata(tid);
  return tid;
}

const std::string& ChromeTrace::track_name(int tid) const {
  if (tid < 1 || static_cast<size_t>(tid) > names_.size()) {
    throw std::out_of_range("ChromeTrace: unknown track id " + std::to_string(tid));
  }
  return names_[static_cast<size_t>(tid) - 1];
}

void ChromeTrace::write_track_metadata(int tid) {
  next_line();
  JsonWriter w(*out_);
  w.begin_object().field("name", "thread_name").field("ph", "M").field("pid", kPid);
  w.field("tid", tid);
  w.key("args").begin_object().field("name", track_name(tid)).end_object();
  w.end_object();
  next_line();
  JsonWriter s(*out_);
  s.begin_object().field("name", "thread_sort_index").field("ph", "M").field("pid", kPid);
  s.field("tid", tid);
  s.key("args").begin_object().field("sort_index", tid).end_object();
  s.end_object();
}

void ChromeTrace::write_event(int tid, std::string_view name, std::string_view cat, char ph,
                              const sc_core::sc_time& t, const sc_core::sc_time* dur,
                              TraceArgs args) {
  track_name(tid);  // validates tid before anything is written
  next_line();
  JsonWriter w(*out_);
  w.begin_object();
  if (!name.empty()) w.field("name", name);
  if (!cat.empty()) w.field("cat", cat);
  w.field("ph", std::string_view(&ph, 1)).field("ts", to_us(t));
  if (dur) w.field("dur", to_us(*dur));
  w.field("pid", kPid).field("tid", tid);
  if (ph == 'i') w.field("s", "t");
  if (args.size()) write_args(w, args);
  w.end_object();
}

void ChromeTrace::write_counter(std::string_view name, const sc_core::sc_time& t, double value) {
  next_line();
  JsonWriter w(*out_);
  w.begin_object().field("name", name).field("ph", "C").field("ts", to_us(t));
  w.field("pid", kPid);
  w.key("args").begin_object().field("value", value).end_object();
  w.end_object();
}

ChromeTrace& ChromeTrace::global() {
  static ChromeTrace trace;
  return trace;
}

namespace {

struct Slice {
  double begin, end;  // us
  std::string name;
};

std::string slice_text(const Slice& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " [%.6f, %.6f] us", s.begin, s.end);
  return s.name + buf;
}

std::string string_or(const JsonValue& e, const char* key, const std::string& fallback) {
  return e.has(key) && e[key].is_string() ? e[key].str() : fallback;
}

}  // namespace

std::vector<std::string> chrome_trace_nesting_errors(const JsonValue& trace) {
  constexpr double kTolUs = 1e-6;
  std::map<int, std::string> tracks;
  std::map<int, std::vector<Slice>> slices;
  std::map<int, std::vector<Slice>> open;  // "B" without its "E" yet, by track
  std::vector<int> stray_ends;             // tracks with an "E" that closes nothing
  for (const JsonValue& e : trace["traceEvents"].items()) {
    const std::string ph = string_or(e, "ph", "");
    if (!e.has("tid")) continue;
    const int tid = static_cast<int>(e["tid"].number());
    if (ph == "M" && string_or(e, "name", "") == "thread_name") {
      tracks[tid] = e["args"]["name"].str();
    } else if (ph == "X") {
      const double ts = e["ts"].number();
      slices[tid].push_back({ts, ts + e["dur"].number(), string_or(e, "name", "")});
    } else if (ph == "B") {
      const double ts = e["ts"].number();
      open[tid].push_back({ts, ts, string_or(e, "name", "")});
    } else if (ph == "E") {
      auto& stack = open[tid];
      if (stack.empty()) {
        stray_ends.push_back(tid);
        continue;
      }
      Slice s = stack.back();
      stack.pop_back();
      s.end = e["ts"].number();
      slices[tid].push_back(std::move(s));
    }
  }
  auto track = [&tracks](int tid) {
    auto it = tracks.find(tid);
    return it == tracks.end() ? "track " + std::to_string(tid) : it->second;
  };
  std::vector<std::string> errors;
  for (int tid : stray_ends) errors.push_back(track(tid) + ": \"E\" without a \"B\"");
  for (const auto& [tid, stack] : open) {
    for (const Slice& s : stack) errors.push_back(track(tid) + ": " + s.name + " never ends");
  }
  for (auto& [tid, list] : slices) {
    // By start, the longer first: a slice's enclosing ones come before it.
    std::stable_sort(list.begin(), list.end(), [](const Slice& a, const Slice& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
    });
    std::vector<const Slice*> enclosing;
    for (const Slice& s : list) {
      while (!enclosing.empty() && enclosing.back()->end <= s.begin + kTolUs) enclosing.pop_back();
      if (!enclosing.empty() && s.end > enclosing.back()->end + kTolUs) {
        errors.push_back(track(tid) + ": " + slice_text(s) + " overlaps " +
                         slice_text(*enclosing.back()));
      }
      enclosing.push_back(&s);
    }
  }
  return errors;
}

}  // namespace iosim

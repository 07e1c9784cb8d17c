#include "sc_models/observe/chrome_trace.h"

#include "sc_models/observe/json.h"
#include "sc_models/observe/stats.h"

#include <algorithm>
#include <charconv>
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

// One event as a JSON object on one line, written member by member: events are
// the trace's hot path (one per recorded step), so no document is built for them.
class EventText {
 public:
  EventText& str(const char* key, std::string_view v) {
    this->key(key);
    append_json_string(out_, v);
    return *this;
  }
  EventText& num(const char* key, double v) {
    this->key(key);
    out_ += json_number_text(v);
    return *this;
  }
  template <class T>
  EventText& integer(const char* key, T v) {
    this->key(key);
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, res.ptr);
    return *this;
  }
  EventText& begin(const char* key) {
    this->key(key);
    out_ += '{';
    first_ = true;
    return *this;
  }
  EventText& end() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  const std::string& done() {
    end();
    return out_;
  }

 private:
  void key(const char* k) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, k);
    out_ += ':';
  }

  std::string out_ = "{";
  bool first_ = true;
};

void write_args(EventText& e, TraceArgs args) {
  e.begin("args");
  for (const TraceArg& a : args) {
    switch (a.kind) {
      case TraceArg::Kind::kSigned:
        e.integer(a.key, a.i);
        break;
      case TraceArg::Kind::kUnsigned:
        e.integer(a.key, a.u);
        break;
      case TraceArg::Kind::kDouble:
        e.num(a.key, a.d);
        break;
      case TraceArg::Kind::kString:
        e.str(a.key, a.s);
        break;
      case TraceArg::Kind::kHex: {
        char buf[24];
        std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a.u));
        e.str(a.key, buf);
        break;
      }
    }
  }
  e.end();
}

// A metadata ("M") event; tid 0 is the process's own.
Json metadata_json(const char* name, int tid, const char* arg, Json value) {
  Json e = Json::object();
  e["name"] = name;
  e["ph"] = "M";
  e["pid"] = kPid;
  if (tid) e["tid"] = tid;
  e["args"] = Json::object();
  e["args"][arg] = std::move(value);
  return e;
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
  *out_ << json_text(metadata_json("process_name", 0, "name", process_name));
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
  *out_ << json_text(metadata_json("thread_name", tid, "name", track_name(tid)));
  next_line();
  *out_ << json_text(metadata_json("thread_sort_index", tid, "sort_index", tid));
}

void ChromeTrace::write_event(int tid, std::string_view name, std::string_view cat, char ph,
                              const sc_core::sc_time& t, const sc_core::sc_time* dur,
                              TraceArgs args) {
  track_name(tid);  // validates tid before anything is written
  next_line();
  EventText e;
  if (!name.empty()) e.str("name", name);
  if (!cat.empty()) e.str("cat", cat);
  e.str("ph", std::string_view(&ph, 1)).num("ts", to_us(t));
  if (dur) e.num("dur", to_us(*dur));
  e.integer("pid", kPid).integer("tid", tid);
  if (ph == 'i') e.str("s", "t");
  if (args.size()) write_args(e, args);
  *out_ << e.done();
}

void ChromeTrace::write_counter(std::string_view name, const sc_core::sc_time& t, double value) {
  next_line();
  EventText e;
  e.str("name", name).str("ph", "C").num("ts", to_us(t)).integer("pid", kPid);
  e.begin("args").num("value", value).end();
  *out_ << e.done();
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

std::string string_or(const Json& e, const char* key, const std::string& fallback) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

std::vector<std::string> chrome_trace_nesting_errors(const Json& trace) {
  constexpr double kTolUs = 1e-6;
  std::map<int, std::string> tracks;
  std::map<int, std::vector<Slice>> slices;
  std::map<int, std::vector<Slice>> open;  // "B" without its "E" yet, by track
  std::vector<int> stray_ends;             // tracks with an "E" that closes nothing
  for (const Json& e : trace.at("traceEvents")) {
    const std::string ph = string_or(e, "ph", "");
    if (!e.contains("tid")) continue;
    const int tid = e.at("tid").get<int>();
    if (ph == "M" && string_or(e, "name", "") == "thread_name") {
      tracks[tid] = e.at("args").at("name").get<std::string>();
    } else if (ph == "X") {
      const double ts = e.at("ts").get<double>();
      slices[tid].push_back({ts, ts + e.at("dur").get<double>(), string_or(e, "name", "")});
    } else if (ph == "B") {
      const double ts = e.at("ts").get<double>();
      open[tid].push_back({ts, ts, string_or(e, "name", "")});
    } else if (ph == "E") {
      auto& stack = open[tid];
      if (stack.empty()) {
        stray_ends.push_back(tid);
        continue;
      }
      Slice s = stack.back();
      stack.pop_back();
      s.end = e.at("ts").get<double>();
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

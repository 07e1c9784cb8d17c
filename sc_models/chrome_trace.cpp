#include "sc_models/chrome_trace.h"

#include "sc_models/json_writer.h"
#include "sc_models/stats.h"

#include <cstdio>
#include <fstream>
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

}  // namespace iosim

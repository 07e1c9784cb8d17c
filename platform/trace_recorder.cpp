#include "platform/trace_recorder.h"

#include "sc_models/observe/chrome_trace.h"
#include "sc_models/observe/stats.h"

#include <fstream>
#include <stdexcept>

namespace iosim {

TraceRecorder::Event TraceRecorder::make(Kind kind, std::string track, std::string name,
                                         const sc_core::sc_time& ts, const sc_core::sc_time& dur) {
  Event e;
  e.kind = kind;
  e.track = std::move(track);
  e.name = std::move(name);
  e.ts = ts;
  e.dur = dur;
  return e;
}

void TraceRecorder::add(Event e) {
  if (events_.size() >= max_events_) {
    ++dropped_;
    return;
  }
  events_.push_back(std::move(e));
}

uint64_t TraceRecorder::count(const std::string& name) const {
  uint64_t n = 0;
  for (const Event& e : events_) n += e.name == name;
  return n;
}

void TraceRecorder::on_cpu_access(const CpuAccessEvent& e) {
  Event ev = make(Kind::kCpuAccess, e.thread, e.is_write ? "store" : "load", e.time);
  ev.a = e.mm_id;
  ev.b = e.va;
  ev.c = e.pa;
  ev.d = e.value;
  add(std::move(ev));
}

void TraceRecorder::on_device_access(const DeviceAccessEvent& e) {
  Event ev = make(Kind::kDevAccess, names_.device(e.thread), e.is_write ? "write" : "read", e.time);
  ev.a = e.pasid;
  ev.b = e.va;
  ev.c = e.pa;
  ev.x = time_in(e.time - e.translation_time, sc_core::SC_NS);
  ev.s = e.through_atc ? "atc" : "iommu";
  add(std::move(ev));
}

void TraceRecorder::on_invalidation_done(const InvalidationDoneEvent& e) {
  Event ev = make(Kind::kInvalidation, "invalidations", "invalidation_done", e.time);
  ev.a = e.mm_id;
  ev.b = e.pasid;
  ev.c = e.start;
  ev.d = e.end;
  add(std::move(ev));
}

void TraceRecorder::on_range_start(const OsRangeEvent& e) {
  open_ranges_[{names_.os_step(e), e.mm_id}].push_back(e.time);
}

void TraceRecorder::on_range_end(const OsRangeEvent& e) {
  std::string track = names_.os_step(e);
  sc_core::sc_time start = e.time;
  auto it = open_ranges_.find({track, e.mm_id});
  if (it != open_ranges_.end() && !it->second.empty()) {
    start = it->second.back();
    it->second.pop_back();
  }
  Event ev = make(Kind::kRange, std::move(track),
                  std::string("invalidate_range(") + mmu_notifier_event_name(e.event) + ")", start,
                  e.time + e.duration - start);
  ev.a = e.mm_id;
  ev.b = e.start;
  ev.c = e.end;
  add(std::move(ev));
}

void TraceRecorder::on_ptl_release(const OsEvent& e) {
  Event ev = make(Kind::kSpan, names_.os_step(e), "ptl_hold", e.time, e.duration);
  ev.a = e.mm_id;
  add(std::move(ev));
}

void TraceRecorder::on_preempt_end(const OsEvent& e) {
  Event ev = make(Kind::kSpan, names_.os_step(e), "preempted", e.time, e.duration);
  ev.a = e.mm_id;
  add(std::move(ev));
}

void TraceRecorder::on_secondary_flush_end(const OsRangeEvent& e) {
  Event ev =
      make(Kind::kFlush, names_.os_step(e), "arch_invalidate_secondary_tlbs", e.time, e.duration);
  ev.a = e.mm_id;
  ev.b = e.start;
  ev.c = e.end;
  add(std::move(ev));
}

void TraceRecorder::on_pte_update(const OsPteEvent& e) {
  Event ev = make(Kind::kPte, names_.os_step(e), "pte_update", e.time);
  ev.a = e.mm_id;
  ev.b = e.va;
  ev.c = e.old_frame;
  ev.d = e.new_frame;
  ev.s = e.reason ? e.reason : "";
  add(std::move(ev));
}

void TraceRecorder::finish(std::ostream& out) const {
  ChromeTrace tr;
  for (const std::string& n : names_.named()) tr.track(n);
  tr.open(out);
  for (const Event& e : events_) {
    const int tid = tr.track(e.track);
    switch (e.kind) {
      case Kind::kCpuAccess:
        tr.instant(tid, e.name, "cpu", e.ts,
                   {{"mm", e.a},
                    TraceArg::hex("va", e.b),
                    TraceArg::hex("pa", e.c),
                    TraceArg::hex("value", e.d)});
        break;
      case Kind::kDevAccess:
        tr.instant(tid, e.name, "device", e.ts,
                   {{"pasid", e.a},
                    TraceArg::hex("va", e.b),
                    TraceArg::hex("pa", e.c),
                    {"translation_age_ns", e.x},
                    {"path", e.s}});
        break;
      case Kind::kRange:
      case Kind::kFlush:
        tr.complete(tid, e.name, "os", e.ts, e.dur,
                    {{"mm", e.a}, TraceArg::hex("start", e.b), TraceArg::hex("end", e.c)});
        break;
      case Kind::kSpan:
        tr.complete(tid, e.name, "os", e.ts, e.dur, {{"mm", e.a}});
        break;
      case Kind::kPte:
        tr.instant(tid, e.name, "os", e.ts,
                   {{"mm", e.a},
                    TraceArg::hex("va", e.b),
                    TraceArg::hex("old_frame", e.c),
                    TraceArg::hex("new_frame", e.d),
                    {"reason", e.s}});
        break;
      case Kind::kInvalidation:
        tr.instant(
            tid, e.name, "iommu", e.ts,
            {{"mm", e.a}, {"pasid", e.b}, TraceArg::hex("start", e.c), TraceArg::hex("end", e.d)});
        break;
    }
  }
  tr.close();
}

void TraceRecorder::finish(const std::string& path) const {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot open trace file '" + path + "' for writing");
  finish(f);
  f.close();
  if (!f) throw std::runtime_error("error writing trace file '" + path + "'");
}

}  // namespace iosim

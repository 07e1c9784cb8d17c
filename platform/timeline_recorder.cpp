#include "platform/timeline_recorder.h"
#include "sc_models/memory/page_size.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace iosim {

namespace {

constexpr uint64_t kFrameMask = 0x000ffffffffff000ull;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string op_name(const char* reason) {
  const std::string r = reason ? reason : "";
  if (r.rfind("cow", 0) == 0) return "COW";  // cow_clear, cow
  return r;
}

}  // namespace

TimelineRecorder::TimelineRecorder(const TimelineConfig& cfg) : cfg_(cfg) {
  Timeline check(cfg);  // validates the configuration now (throws ParamError)
}

void TimelineRecorder::set_symbol(uint32_t mm_id, uint64_t va, const std::string& name) {
  symbols_[{mm_id, va & kPageMask}] = {name, va};
}

std::string TimelineRecorder::symbol(uint32_t mm_id, uint64_t va, bool* named) const {
  auto it = symbols_.find({mm_id, va & kPageMask});
  if (named) *named = it != symbols_.end();
  if (it == symbols_.end()) return hex(va);
  const auto& [name, at] = it->second;
  if (va == at) return name;
  return va > at ? name + "+" + hex(va - at) : name + "-" + hex(at - va);
}

std::string TimelineRecorder::range_text(uint32_t mm_id, uint64_t start, uint64_t end,
                                         bool* named) const {
  std::string s = symbol(mm_id, start, named);
  const uint64_t pages = end > start ? pages_in(end - start) : 0;
  if (pages > 1) s += "..+" + std::to_string(pages) + " pages";
  return s;
}

void TimelineRecorder::track_pte(uint32_t mm_id, uint64_t va, uint64_t new_raw) {
  PageVersions& p = pages_[{mm_id, va & kPageMask}];
  if (!(new_raw & 1)) {
    p.current = 0;
    return;
  }
  const uint64_t frame = new_raw & kFrameMask;
  if (p.frames.empty() || p.frames.back() != frame) p.frames.push_back(frame);
  p.current = frame;
}

std::string TimelineRecorder::version_of(uint32_t mm_id, uint64_t va, uint64_t pa) const {
  auto it = pages_.find({mm_id, va & kPageMask});
  if (it == pages_.end()) return "";
  const PageVersions& p = it->second;
  const uint64_t frame = pa & kPageMask;
  if (frame == p.current) return p.frames.size() >= 2 ? "new" : "";
  if (std::find(p.frames.begin(), p.frames.end(), frame) != p.frames.end()) return "old";
  return "";
}

void TimelineRecorder::add(const sc_core::sc_time& t, const std::string& thread, std::string text,
                           bool is_state, int range) {
  if (t < record_from_) return;
  rows_.push_back({t, thread, std::move(text), is_state, range});
}

// ------------------------------------------------------------ ground truth

void TimelineRecorder::on_pte_change(const PteChangeEvent& e) {
  track_pte(e.mm_id, e.va, e.new_pte_raw);
}

void TimelineRecorder::on_cpu_access(const CpuAccessEvent& e) {
  bool named = false;
  std::string text = (e.is_write ? "store " : "load ") + symbol(e.mm_id, e.va, &named);
  if (named_only_ && !named) return;
  const std::string v = version_of(e.mm_id, e.va, e.pa);
  if (!v.empty()) text += " (" + v + " page)";
  add(e.time, e.thread, std::move(text));
}

void TimelineRecorder::on_device_access(const DeviceAccessEvent& e) {
  auto mm = pasid_mm_.find(e.pasid);
  bool named = false;
  std::string text = e.is_write ? "write " : "read ";
  std::string v;
  if (mm != pasid_mm_.end()) {
    text += symbol(mm->second, e.va, &named);
    v = version_of(mm->second, e.va, e.pa);
  } else {
    text += hex(e.va);
  }
  if (named_only_ && !named) return;
  if (!v.empty()) text += (e.is_write ? " to " : " from ") + v + " page";
  add(e.time, names_.device(e.thread), std::move(text));
}

// ------------------------------------------------------------ OS steps

void TimelineRecorder::on_range_start(const OsRangeEvent& e) {
  bool named = false;
  std::string text = "invalidate_range_start(" + range_text(e.mm_id, e.start, e.end, &named) + ")";
  const int idx = static_cast<int>(ranges_.size());
  ranges_.push_back({});
  std::string thread = names_.os_step(e);
  open_ranges_[{thread, e.mm_id}].push_back(idx);
  if (named_only_ && !named) return;
  add(e.time, thread, std::move(text), false, idx);
}

void TimelineRecorder::on_range_end(const OsRangeEvent& e) {
  int idx = -1;
  std::string thread = names_.os_step(e);
  auto it = open_ranges_.find({thread, e.mm_id});
  if (it != open_ranges_.end() && !it->second.empty()) {
    idx = it->second.back();
    it->second.pop_back();
  }
  bool named = false;
  std::string text = "invalidate_range_end(" + range_text(e.mm_id, e.start, e.end, &named) + ")";
  if (named_only_ && !named) return;
  add(e.time, thread, std::move(text), false, idx);
}

void TimelineRecorder::on_pte_update(const OsPteEvent& e) {
  // The frame mapped before, even across a clear (COW clears, flushes, then sets).
  uint64_t before = e.old_frame;
  if (before == OsPteEvent::kNoFrame) {
    auto p = pages_.find({e.mm_id, e.va & kPageMask});
    if (p != pages_.end() && !p->second.frames.empty()) before = p->second.frames.back();
  }
  track_pte(e.mm_id, e.va, e.new_raw);
  const std::string thread = names_.os_step(e);
  auto open = open_ranges_.find({thread, e.mm_id});
  if (open != open_ranges_.end() && !open->second.empty()) {
    Range& r = ranges_[static_cast<size_t>(open->second.back())];
    if (r.op.empty()) r.op = op_name(e.reason);
  }
  bool named = false;
  const std::string page = symbol(e.mm_id, e.va, &named);
  if (named_only_ && !named) return;
  std::string text;
  const bool is = e.new_frame != OsPteEvent::kNoFrame;
  if (!is) {
    text = "clear PTE " + page;
  } else if (before != OsPteEvent::kNoFrame && before != e.new_frame) {
    text = "update PTE " + page + " -> new page";
  } else if (e.old_frame == OsPteEvent::kNoFrame) {
    text = "set PTE " + page;
  } else if (e.old_frame != e.new_frame) {
    text = "update PTE " + page + " -> new page";
  } else if ((e.old_raw & 2) && !(e.new_raw & 2)) {
    text = "write-protect PTE " + page;
  } else {
    text = "update PTE " + page;
  }
  add(e.time, thread, std::move(text));
}

void TimelineRecorder::on_preempt_begin(const OsEvent& e) {
  add(e.time, names_.os_step(e), "preempted", true);
}

void TimelineRecorder::on_preempt_end(const OsEvent& e) {
  add(e.time + e.duration, names_.os_step(e), "", true);
}

void TimelineRecorder::on_secondary_flush_begin(const OsRangeEvent& e) {
  bool named = false;
  std::string text =
      "arch_invalidate_secondary_tlbs(" + range_text(e.mm_id, e.start, e.end, &named) + ")";
  if (named_only_ && !named) return;
  add(e.time, names_.os_step(e), std::move(text));
}

// ------------------------------------------------------------ output

void TimelineRecorder::build(Timeline& out) const {
  for (const std::string& n : names_.named()) out.thread(n);
  for (const Row& r : rows_) {
    std::string text = r.text;
    if (r.range >= 0 && !ranges_[static_cast<size_t>(r.range)].op.empty()) {
      text = ranges_[static_cast<size_t>(r.range)].op + ": " + text;
    }
    const int tid = out.thread(r.thread);
    if (r.is_state) {
      out.set_state(r.time, tid, std::move(text));
    } else {
      out.record(r.time, tid, std::move(text));
    }
  }
}

std::vector<std::string> TimelineRecorder::lines() const {
  Timeline t(cfg_);
  build(t);
  return t.lines();
}

void TimelineRecorder::print(std::ostream& out) const {
  for (const std::string& l : lines()) out << l << '\n';
}

}  // namespace iosim

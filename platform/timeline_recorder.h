// TimelineRecorder: turns what the memory manager, the CPUs and the devices did into
// the per-thread text timeline of the kernel's mmu_notifier.rst table
// (Documentation/mm/mmu_notifier.rst):
//
//   [Time N+1] ------------------------------------------------------------------
//   CPU-thread-0  {COW: invalidate_range_start(addrA)}
//   DEV-thread-0  {read addrA from old page}
//
// Rows come from the OS steps (OsObserver: range start/end, PTE updates, the
// secondary-TLB flush under the PTL, the preemption hold shown as the state
// "preempted") on the thread that ran them (ThreadNames::os_step: a core's thread, or
// a kernel thread without a core such as "iopf.run"), and from the ground truth (CPU
// loads/stores, device reads/writes) on the thread the event names.
//
// Naming: set_cpu_thread(cpu, "CPU-thread-0") names a core's thread (default
// "CPU-<cpu>"; "kernel" for steps outside any process); set_device_thread(event
// thread, "DEV-thread-0") renames a device DMA thread; set_symbol(mm, va, "addrA")
// names a page (addresses inside it print as "addrA+0x8", others as hex);
// bind_pasid(pasid, mm) says which mm a device PASID uses. Named threads come
// first, in naming order.
//
// Page versions are tracked per (mm, page): once a page has changed frames, an access
// to the frame its PTE maps is "(new page)" / "from new page", one to an earlier frame
// "(old page)" / "from old page" (a device: through a translation older than the
// PTE). A range's operation is named by the reason of its first PTE update ("cow" ->
// "COW: invalidate_range_start(addrA)"), so rows are collected first and laid out by
// build()/print().
//
// Simplifications: range and flush rows name the first page of the range (plus
// "..+N pages" when wider); PTL acquire/release are not shown (the trace has them);
// with named_only, events on pages without a symbol are left out.
#pragma once

#include "os/os_observer.h"
#include "platform/thread_names.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/observe/timeline.h"

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace iosim {

class TimelineRecorder : public GroundTruthSink, public OsObserver {
 public:
  explicit TimelineRecorder(const TimelineConfig& cfg = {});

  void set_cpu_thread(int cpu, const std::string& name) { names_.set_cpu(cpu, name); }
  void set_device_thread(const std::string& event_thread, const std::string& name) {
    names_.set_device(event_thread, name);
  }
  void set_symbol(uint32_t mm_id, uint64_t va, const std::string& name);
  void bind_pasid(uint32_t pasid, uint32_t mm_id) { pasid_mm_[pasid] = mm_id; }
  // Only events on named pages (set_symbol) are recorded.
  void set_named_only(bool on) { named_only_ = on; }
  // Rows before `t` are not kept (page versions are still tracked), e.g. the boot.
  void set_record_from(const sc_core::sc_time& t) { record_from_ = t; }

  // GroundTruthSink
  void on_pte_change(const PteChangeEvent& e) override;
  void on_cpu_access(const CpuAccessEvent& e) override;
  void on_device_access(const DeviceAccessEvent& e) override;
  // OsObserver
  void on_range_start(const OsRangeEvent& e) override;
  void on_range_end(const OsRangeEvent& e) override;
  void on_pte_update(const OsPteEvent& e) override;
  void on_preempt_begin(const OsEvent& e) override;
  void on_preempt_end(const OsEvent& e) override;
  void on_secondary_flush_begin(const OsRangeEvent& e) override;

  // The recorded rows as a Timeline (threads registered in naming order first).
  void build(Timeline& out) const;
  std::vector<std::string> lines() const;
  void print(std::ostream& out) const;

  size_t rows() const { return rows_.size(); }

 private:
  struct Row {
    sc_core::sc_time time;
    std::string thread;
    std::string text;
    bool is_state = false;
    int range = -1;  // index into ranges_ when the text needs the range's operation
  };
  struct Range {
    std::string op;  // "" until a PTE update inside it names it
  };
  struct PageVersions {
    std::vector<uint64_t> frames;  // distinct frames mapped over time, oldest first
    uint64_t current = 0;          // frame mapped now (0 = none)
  };

  // "addrA", "addrA+0x8" or "0x7f001000"; `named` tells whether a symbol matched.
  std::string symbol(uint32_t mm_id, uint64_t va, bool* named = nullptr) const;
  std::string range_text(uint32_t mm_id, uint64_t start, uint64_t end, bool* named) const;
  // " (new page)" style suffix for an access to frame `pa` of (mm, va).
  // "new" / "old" / "" for an access to frame `pa` of (mm, va).
  std::string version_of(uint32_t mm_id, uint64_t va, uint64_t pa) const;
  void track_pte(uint32_t mm_id, uint64_t va, uint64_t new_raw);
  void add(const sc_core::sc_time& t, const std::string& thread, std::string text,
           bool is_state = false, int range = -1);

  TimelineConfig cfg_;
  bool named_only_ = false;
  sc_core::sc_time record_from_ = sc_core::SC_ZERO_TIME;
  ThreadNames names_;
  // (mm, page) -> (name, va the name stands for)
  std::map<std::pair<uint32_t, uint64_t>, std::pair<std::string, uint64_t>> symbols_;
  std::map<uint32_t, uint32_t> pasid_mm_;
  std::map<std::pair<uint32_t, uint64_t>, PageVersions> pages_;
  std::vector<Row> rows_;
  std::vector<Range> ranges_;
  // (thread, mm) -> stack of the ranges open on that thread
  std::map<std::pair<std::string, uint32_t>, std::vector<int>> open_ranges_;
};

}  // namespace iosim

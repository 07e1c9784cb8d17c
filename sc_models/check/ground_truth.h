// Ground-truth event stream for the checkers.
//
// Models publish what really happened, with simulated times, to a GroundTruth hub:
// every PTE change, frame allocation and free, CPU load and store, device memory
// access (with the translation it used and when that translation was obtained),
// every invalidation that software was told is complete, and every PASID the driver
// handed to an mm or freed. Checkers subscribe as
// GroundTruthSink objects and decide, from this stream alone, whether an ordering
// was unsafe.
#pragma once

#include <systemc>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iosim {

// One PTE update as seen by the CPU page tables.
struct PteChangeEvent {
  sc_core::sc_time time;
  uint32_t mm_id;
  uint64_t va;           // page-aligned virtual address
  uint64_t page_bytes;   // size of the mapping that changed
  uint64_t old_pte_raw;  // x86-64 entry before (0 = not present)
  uint64_t new_pte_raw;  // x86-64 entry after
  std::string reason;    // "cow", "unmap", "mprotect", "ksm", "migrate", ...
};

struct FrameEvent {
  sc_core::sc_time time;
  uint64_t frame_pa;  // 4 KiB aligned
  bool allocated;     // true = allocation, false = free
};

struct CpuAccessEvent {
  sc_core::sc_time time;  // when the access took effect at memory
  std::string thread;     // e.g. "CPU-thread-2"
  uint32_t mm_id;
  uint64_t va;
  uint64_t pa;
  bool is_write;
  uint64_t value;
};

// A device memory access and the translation it used.
struct DeviceAccessEvent {
  sc_core::sc_time time;  // when the access took effect at memory
  // e.g. "DEV-thread-0"; the producer keeps the characters alive (a device thread's
  // name) so that an event costs no allocation.
  std::string_view thread;
  uint16_t requester_id;
  uint32_t pasid;  // kNoPasid when the request carried none
  uint64_t va;     // untranslated address
  uint64_t pa;     // address the access used
  bool is_write;
  uint64_t value;                     // first 8 bytes read or written
  sc_core::sc_time translation_time;  // when the translation used was obtained
  bool through_atc;                   // translated request (ATC) vs untranslated (IOMMU)
  static constexpr uint32_t kNoPasid = 0xffffffffu;
};

// Software was told that secondary TLBs no longer hold [start, end) of `pasid`
// (or of every PASID bound to mm_id when pasid == kNoPasid).
struct InvalidationDoneEvent {
  sc_core::sc_time time;
  uint32_t mm_id;
  uint32_t pasid;
  uint64_t start;
  uint64_t end;
};

// The driver handed `pasid` to mm `mm_id` (bound) or freed it (not bound): device
// requests tagged `pasid` use that mm's page tables from a bind until the free.
struct PasidBindingEvent {
  sc_core::sc_time time;
  uint32_t pasid;
  uint32_t mm_id;
  bool bound;
};

class GroundTruthSink {
 public:
  virtual ~GroundTruthSink() = default;
  virtual void on_pte_change(const PteChangeEvent&) {}
  virtual void on_frame(const FrameEvent&) {}
  virtual void on_cpu_access(const CpuAccessEvent&) {}
  virtual void on_device_access(const DeviceAccessEvent&) {}
  virtual void on_invalidation_done(const InvalidationDoneEvent&) {}
  virtual void on_pasid_binding(const PasidBindingEvent&) {}
};

// Fan-out hub. Models hold a GroundTruth* (may be null = nothing observes).
class GroundTruth {
 public:
  void subscribe(GroundTruthSink* s) { sinks_.push_back(s); }
  bool active() const { return !sinks_.empty(); }

  void pte_change(const PteChangeEvent& e) {
    for (auto* s : sinks_) s->on_pte_change(e);
  }
  void frame(const FrameEvent& e) {
    for (auto* s : sinks_) s->on_frame(e);
  }
  void cpu_access(const CpuAccessEvent& e) {
    for (auto* s : sinks_) s->on_cpu_access(e);
  }
  void device_access(const DeviceAccessEvent& e) {
    for (auto* s : sinks_) s->on_device_access(e);
  }
  void invalidation_done(const InvalidationDoneEvent& e) {
    for (auto* s : sinks_) s->on_invalidation_done(e);
  }
  void pasid_binding(const PasidBindingEvent& e) {
    for (auto* s : sinks_) s->on_pasid_binding(e);
  }

  // A mirror device's page table (device/mirror_sw_interface.h) holds no times: its
  // driver notes here when it read the CPU PTE a device PTE of `tag` was made from, and
  // the device asks when it fills its TLB from that device PTE (so an access reports
  // when its translation was obtained from the CPU page table).
  void device_pte_made(uint32_t tag, uint64_t va_page, uint64_t pa_frame,
                       const sc_core::sc_time& derived_at) {
    device_ptes_[{tag, va_page}] = {pa_frame, derived_at};
  }
  std::optional<sc_core::sc_time> device_pte_derived(uint32_t tag, uint64_t va_page,
                                                     uint64_t pa_frame) const {
    auto it = device_ptes_.find({tag, va_page});
    if (it == device_ptes_.end() || it->second.first != pa_frame) return std::nullopt;
    return it->second.second;
  }

 private:
  std::vector<GroundTruthSink*> sinks_;
  std::map<std::pair<uint32_t, uint64_t>, std::pair<uint64_t, sc_core::sc_time>> device_ptes_;
};

// A sink that keeps every event, for tests.
class GroundTruthRecorder : public GroundTruthSink {
 public:
  std::vector<PteChangeEvent> ptes;
  std::vector<FrameEvent> frames;
  std::vector<CpuAccessEvent> cpu;
  std::vector<DeviceAccessEvent> dev;
  std::vector<InvalidationDoneEvent> invals;
  void on_pte_change(const PteChangeEvent& e) override { ptes.push_back(e); }
  void on_frame(const FrameEvent& e) override { frames.push_back(e); }
  void on_cpu_access(const CpuAccessEvent& e) override { cpu.push_back(e); }
  void on_device_access(const DeviceAccessEvent& e) override { dev.push_back(e); }
  void on_invalidation_done(const InvalidationDoneEvent& e) override { invals.push_back(e); }
};

}  // namespace iosim

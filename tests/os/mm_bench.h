// Test bench for the memory manager: a small physical memory, a Kernel with one mm,
// a fake CPU TLB shootdown and two recording notifier subscribers, all writing into
// one ordered log of "what happened, with the PTL held or not".
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "os/kernel.h"
#include "os/mmu_notifier.h"
#include "os/tlb_flush.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/physical_memory.h"

namespace iosim::test {

inline std::string hexs(uint64_t v) {
  std::ostringstream o;
  o << std::hex << "0x" << v;
  return o.str();
}
// Whether the calling thread holds a page-table lock of kernel `os`.
inline bool ptl_held(OsContext& os) {
  return os.current().page_table_locks_held() > 0;
}
inline std::string ptl_tag(OsContext& os) {
  return ptl_held(os) ? " ptl" : " -";
}
// "[start,end)" in hex, as the recorders print ranges.
inline std::string range_str(uint64_t start, uint64_t end) {
  return "[" + hexs(start) + "," + hexs(end) + ")";
}
// Physical frame of the 4 KiB page mapped at va.
inline uint64_t frame_of(Mm& mm, uint64_t va) {
  return mm.pte(va).page_address(PageSize::k4K);
}

// Where MmBench::populate() maps its pages.
constexpr uint64_t kBenchVa = uint64_t{1} << 32;

struct EventLog {
  std::vector<std::string> ev;
  std::vector<sc_core::sc_time> at;
  void add(const std::string& s) {
    ev.push_back(s);
    at.push_back(sc_core::sc_time_stamp());
  }
};

// CPU TLB shootdown that only logs.
class LoggingShootdown : public CpuTlbShootdown {
 public:
  explicit LoggingShootdown(EventLog& log) : log_(log) {}
  void flush_tlb_range(MmStruct& mm, const std::set<int>&, uint64_t start, uint64_t end,
                       int) override {
    log_.add("cpu_flush [" + hexs(start) + "," + hexs(end) + ")" + ptl_tag(mm.context()));
  }
  void flush_tlb_mm(MmStruct& mm, const std::set<int>&, int) override {
    log_.add("cpu_flush_mm" + ptl_tag(mm.context()));
  }

 private:
  EventLog& log_;
};

// A subscriber with invalidate_range_start/end (a KVM-like secondary MMU).
class RangeRecorder : public MmuNotifier {
 public:
  explicit RangeRecorder(EventLog& log)
      : MmuNotifier("range_rec", kInvalidateRangeStart | kInvalidateRangeEnd), log_(log) {}
  int invalidate_range_start(const MmuNotifierRange& r) override {
    log_.add(describe("start", r));
    return 0;
  }
  void invalidate_range_end(const MmuNotifierRange& r) override { log_.add(describe("end", r)); }
  const void* last_owner = nullptr;

 private:
  std::string describe(const char* what, const MmuNotifierRange& r) {
    last_owner = r.owner;
    return std::string(what) + " " + mmu_notifier_event_name(r.event) + " [" + hexs(r.start) + "," +
           hexs(r.end) + ")" + ptl_tag(r.mm->context());
  }
  EventLog& log_;
};

// A subscriber with arch_invalidate_secondary_tlbs and the young/release callbacks (an
// SVA-like secondary TLB).
class ArchRecorder : public MmuNotifier {
 public:
  explicit ArchRecorder(EventLog& log)
      : MmuNotifier("arch_rec", kArchInvalidateSecondaryTlbs | kClearFlushYoung | kClearYoung |
                                    kTestYoung | kRelease),
        log_(log) {}
  void arch_invalidate_secondary_tlbs(MmStruct& mm, uint64_t start, uint64_t end) override {
    log_.add("arch [" + hexs(start) + "," + hexs(end) + ")" + ptl_tag(mm.context()));
    if (on_arch) on_arch();
  }
  int clear_flush_young(MmStruct& mm, uint64_t start, uint64_t) override {
    log_.add("clear_flush_young " + hexs(start) + ptl_tag(mm.context()));
    return young;
  }
  int clear_young(MmStruct& mm, uint64_t start, uint64_t) override {
    log_.add("clear_young " + hexs(start) + ptl_tag(mm.context()));
    return young;
  }
  int test_young(MmStruct& mm, uint64_t a) override {
    log_.add("test_young " + hexs(a) + ptl_tag(mm.context()));
    return young;
  }
  void release(MmStruct& mm) override { log_.add("release" + ptl_tag(mm.context())); }
  int young = 0;
  std::function<void()> on_arch;

 private:
  EventLog& log_;
};

// Logs every frame the allocator frees ("free 0x...") into a bench's event log, so a
// free can be placed relative to the notifier calls at the same simulated time.
class FreeLogger : public GroundTruthSink {
 public:
  FreeLogger(GroundTruth& gt, EventLog& log) : log_(log) { gt.subscribe(this); }
  void on_frame(const FrameEvent& e) override {
    if (!e.allocated) log_.add("free " + hexs(e.frame_pa));
  }

 private:
  EventLog& log_;
};

inline PhysicalMemoryConfig small_memory() {
  PhysicalMemoryConfig c;
  c.size_bytes = uint64_t{1} << 30;
  return c;
}

inline OsConfig small_os(const std::string& policy = "under_ptl") {
  OsConfig c;
  if (!assign_param(c, "secondary_tlb_flush", policy)) throw std::logic_error(policy);
  c.allocator.base_pa = uint64_t{16} << 20;
  c.allocator.frames = 4096;
  return c;
}

// Kernel + mm 1 + logging shootdown + both recorders (registered by register_all()).
struct MmBench {
  explicit MmBench(const OsConfig& cfg = small_os(),
                   const PhysicalMemoryConfig& mem_cfg = small_memory())
      : mem("mem", mem_cfg), init("init"), os(sim, cfg, mem, &gt), tlb(log), rr(log), ar(log) {
    init.socket.bind(mem.socket);
    gt.subscribe(&rec);
    os.set_tlb_shootdown(&tlb);
  }
  // From a SystemC thread: creates mm 1 and registers both recorders on it.
  Mm& setup() {
    Mm& mm = os.create_mm(1);
    mm.cpu_enter(0);
    mm.notifier_subscriptions().register_notifier(&ar);
    mm.notifier_subscriptions().register_notifier(&rr);
    return mm;
  }
  // setup(), then `pages` RW pages at kBenchVa (private or shared), each written so
  // it has its own frame; the log is cleared afterwards.
  Mm& populate(unsigned pages, bool shared = false) {
    Mm& mm = setup();
    os.mmap(mm, 0, kBenchVa, pages * Mm::kPageBytes, kProtRead | kProtWrite, shared);
    for (unsigned i = 0; i < pages; ++i)
      os.handle_fault(mm, 0, kBenchVa + i * Mm::kPageBytes, true);
    log.ev.clear();
    log.at.clear();
    return mm;
  }
  SimContext sim;  // first: the modules below register their statistics in it
  PhysicalMemory mem;
  StubInitiator init;  // binds the memory's target socket
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  EventLog log;
  LoggingShootdown tlb;
  RangeRecorder rr;
  ArchRecorder ar;
};

}  // namespace iosim::test

// Core: one CPU core executing the loads and stores of the software thread that runs
// on it.
//
// Models: a TLB (TranslationCache tagged with the mm id as ASID/PCID; default 64
// entries, 4-way, like the Skylake L1 DTLB for 4 KiB pages: Intel 64 and IA-32
// Architectures Optimization Reference Manual, table 2-5), a hardware page walker with
// paging-structure caches (cpu/cpu_page_walker.h) reading the page tables through the
// core's TLM initiator socket, and loads/stores (8 bytes) that reach memory through
// the same socket at the simulated time they take effect.
//
// An access looks up the TLB. A hit that allows it translates; a
// write hitting an entry whose D bit is not yet set in memory re-walks (x86 sets D
// through a walk). A miss walks; a walk that ends not present or without permission
// is a page fault: the stale TLB entry is dropped, the page-fault handler
// (cpu/page_fault_handler.h, implemented by os/) runs on this core's thread, and the
// access retries; a fatal fault (SIGSEGV, OOM) fails the access. Every load and store
// is published to the ground truth under the name of the thread running on the core.
//
// The software: one SystemC thread per core runs the body given with set_thread()
// (the platform's thread-program interpreter, platform/cpu_thread.h); the core knows
// no system call and no thread program.
//
// TLB shootdowns come in through invalidate_range()/invalidate_asid(), called by
// cpu/TlbShootdown (they also drop the walker's cached entries, as INVLPG does).
//
// Timing: the core's thread waits tlb_lookup_cycles (at freq_mhz) per TLB lookup, the
// walker's time on a miss, and each load's or store's memory latency; the page-fault
// handler charges its own time on the same thread.
//
// Simplifications: no data caches (memory is sequentially consistent), no out-of-order overlap,
// user mode only, no instruction fetch; an IPI's handler costs the target core no time.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cpu/cpu_page_walker.h"
#include "cpu/page_fault_handler.h"
#include "sc_models/timing/server_pool.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/cache/translation_cache.h"

namespace iosim {

class GroundTruth;
class Counter;
class Histogram;

struct CoreConfig {
  double freq_mhz = 3000.0;
  TranslationCacheConfig tlb = default_tlb();
  // L1 DTLB lookup, overlapped with the cache access on real cores. Estimate.
  uint32_t tlb_lookup_cycles = 1;
  CpuPageWalkerConfig walker;
  // Faults on the same access before the thread is killed (a livelock guard).
  uint32_t max_fault_retries = 16;

  static TranslationCacheConfig default_tlb() {
    TranslationCacheConfig c;
    c.sets = 16;
    c.ways = 4;
    return c;
  }

  template <class V>
  void visit(V& v) {
    v("freq_mhz", freq_mhz, "MHz", "core clock");
    v.section("tlb", tlb);
    v("tlb_lookup_cycles", tlb_lookup_cycles, "cycles", "TLB lookup");
    v.section("walker", walker);
    v("max_fault_retries", max_fault_retries, "faults",
      "faults on one access before the thread is killed");
  }
};

// The address space an access runs in: the page-table root (CR3) and the ASID (PCID)
// that tags the TLB entries (the mm id).
struct AddressSpace {
  uint32_t asid = 0;
  uint64_t root = 0;
};

class Core : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Core> socket;

  Core(sc_core::sc_module_name name, SimContext& ctx, const CoreConfig& cfg, int id,
       PageFaultHandler& faults, GroundTruth* gt = nullptr);

  int id() const { return id_; }
  // The software thread that runs on this core (call before sc_start): the core's
  // process runs `body` from time 0, and the core is finished when it returns.
  // `name` names the thread's accesses in the ground truth.
  void set_thread(const std::string& name, std::function<void()> body);
  // The name of the thread running on the core ("<core>-thread" until one is set).
  const std::string& thread_name() const { return thread_name_; }
  // True once the thread has returned (or at once when there is none).
  bool finished() const { return finished_; }
  const sc_core::sc_event& finished_event() const { return finished_event_; }

  // A load as it took effect at memory.
  struct Access {
    uint64_t pa;
    uint64_t value;
    sc_core::sc_time time;  // when the data access reached memory
  };
  // Timed user accesses in `as` from the calling thread. nullopt / false when the
  // access faulted fatally (SIGSEGV or OOM).
  std::optional<Access> load(const AddressSpace& as, uint64_t va);
  bool store(const AddressSpace& as, uint64_t va, uint64_t value);

  // Shootdown targets.
  void invalidate_range(uint32_t asid, uint64_t start, uint64_t end);
  void invalidate_asid(uint32_t asid);

  TranslationCache& tlb() { return tlb_; }
  const Clock& clock() const { return clock_; }

 private:
  void run();
  // Physical address for the access, after TLB, walk and faults; nullopt if fatal.
  std::optional<uint64_t> translate(const AddressSpace& as, uint64_t va, bool write);
  tlm::tlm_response_status mem_access(tlm::tlm_command cmd, uint64_t pa, uint64_t& data);
  bool cmpxchg(uint64_t pa, uint64_t expected, uint64_t desired);

  CoreConfig cfg_;
  int id_;
  PageFaultHandler& fault_handler_;
  GroundTruth* gt_;
  Clock clock_;
  TranslationCache tlb_;
  CpuPageWalker walker_;
  std::string thread_name_;
  std::function<void()> thread_;
  bool finished_ = false;
  sc_core::sc_event finished_event_;
  Counter* tlb_hits_;
  Counter* tlb_misses_;
  Counter* walk_reads_;
  Counter* walk_writes_;
  Counter* faults_;
  Counter* loads_done_;
  Counter* stores_done_;
  Histogram* walk_latency_;
};

}  // namespace iosim

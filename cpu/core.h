// Core: one CPU core running one thread program against an address space.
//
// Models: a TLB (TranslationCache tagged with the mm id as ASID/PCID; default 64
// entries, 4-way, like the Skylake L1 DTLB for 4 KiB pages: Intel 64 and IA-32
// Architectures Optimization Reference Manual, table 2-5), a hardware page walker with
// paging-structure caches (cpu/cpu_page_walker.h) reading the page tables through the
// core's TLM initiator socket, and loads/stores (8 bytes) that reach memory through
// the same socket at the simulated time they take effect.
//
// An access looks up the TLB (tlb_lookup_cycles). A hit that allows it translates; a
// write hitting an entry whose D bit is not yet set in memory re-walks (x86 sets D
// through a walk). A miss walks; a walk that ends not present or without permission
// is a page fault: the stale TLB entry is dropped, the OS fault handler runs on this
// core's thread (Kernel::handle_fault), and the access retries. SIGSEGV/OOM ends the
// thread (recorded in ops()). Every load is recorded (value, time, VA, PA); every
// store and load is published to the ground truth.
//
// TLB shootdowns come in through invalidate_range()/invalidate_asid(), called by
// cpu/TlbShootdown (they also drop the walker's cached entries, as INVLPG does).
//
// Simplifications: no data caches (memory is sequentially consistent), no out-of-order overlap,
// user mode only, no instruction fetch; an IPI's handler costs the target core no time.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cpu/cpu_page_walker.h"
#include "cpu/thread_program.h"
#include "sc_models/server_pool.h"
#include "sc_models/translation_cache.h"

namespace iosim {

class Kernel;
class Mm;
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

class Core : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Core> socket;

  SC_HAS_PROCESS(Core);
  Core(sc_core::sc_module_name name, const CoreConfig& cfg, int id, Kernel& os,
       GroundTruth* gt = nullptr);

  int id() const { return id_; }
  // The program this core's thread runs from time 0 (call before sc_start).
  void set_program(const ThreadProgram& p);
  // With a start event (call before sc_start), the program begins when it fires and
  // every op's at_ns counts from that moment instead of from time 0.
  void set_start_event(const sc_core::sc_event* e) { start_event_ = e; }
  sc_core::sc_time start_time() const { return start_time_; }
  // True once the program has ended (or at once when there is none).
  bool finished() const { return finished_; }
  const sc_core::sc_event& finished_event() const { return finished_event_; }
  const std::string& thread_name() const { return program_.name; }

  // Timed user accesses on behalf of `mm` from the calling thread. nullopt / false
  // when the access faulted fatally (SIGSEGV or OOM).
  std::optional<uint64_t> load(Mm& mm, uint64_t va, size_t op_index = 0);
  bool store(Mm& mm, uint64_t va, uint64_t value);

  // Shootdown targets.
  void invalidate_range(uint32_t asid, uint64_t start, uint64_t end);
  void invalidate_asid(uint32_t asid);

  TranslationCache& tlb() { return tlb_; }
  const std::vector<LoadRecord>& loads() const { return loads_; }
  const std::vector<OpRecord>& ops() const { return records_; }
  bool killed() const { return killed_; }
  const Clock& clock() const { return clock_; }

 private:
  void run();
  void execute(size_t index, const ThreadOp& op);
  int64_t os_call(const ThreadOp& op, Mm& mm);
  // Physical address for the access, after TLB, walk and faults; nullopt if fatal.
  std::optional<uint64_t> translate(Mm& mm, uint64_t va, bool write);
  tlm::tlm_response_status mem_access(tlm::tlm_command cmd, uint64_t pa, uint64_t& data);
  bool cmpxchg(uint64_t pa, uint64_t expected, uint64_t desired);

  CoreConfig cfg_;
  int id_;
  Kernel& os_;
  GroundTruth* gt_;
  Clock clock_;
  TranslationCache tlb_;
  CpuPageWalker walker_;
  ThreadProgram program_;
  bool has_program_ = false;
  bool killed_ = false;
  const sc_core::sc_event* start_event_ = nullptr;
  sc_core::sc_time start_time_ = sc_core::SC_ZERO_TIME;
  bool finished_ = false;
  sc_core::sc_event finished_event_;
  std::vector<LoadRecord> loads_;
  std::vector<OpRecord> records_;
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

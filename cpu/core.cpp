#include "cpu/core.h"

#include "cpu/stat_names.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim {

Core::Core(sc_core::sc_module_name name, SimContext& ctx, const CoreConfig& cfg, int id,
           PageFaultHandler& faults, GroundTruth* gt)
    : sc_module(name),
      socket("socket"),
      cfg_(cfg),
      id_(id),
      fault_handler_(faults),
      gt_(gt),
      clock_(cfg.freq_mhz),
      tlb_(cfg.tlb),
      walker_(
          cfg.walker, clock_,
          [this](uint64_t pa) {
            uint64_t v = 0;
            mem_access(tlm::TLM_READ_COMMAND, pa, v);
            return v;
          },
          [this](uint64_t pa, uint64_t e, uint64_t d) { return cmpxchg(pa, e, d); }) {
  StatGroup& g = ctx.stats().group(*this);
  tlb_hits_ = &g.counter("tlb_hits", "lookups", "TLB lookups that hit");
  tlb_misses_ = &g.counter("tlb_misses", "lookups", "TLB lookups that missed or lacked D");
  walk_reads_ = &g.counter("walk_reads", "reads", "page-table entries read by the walker");
  walk_writes_ = &g.counter("walk_writes", "writes", "A/D updates written by the walker");
  faults_ = &g.counter(CoreStats::kPageFaults, "faults", "page faults taken to the OS");
  walk_latency_ = &g.histogram("walk_latency", "page walk latency");
  loads_done_ = &g.counter(CoreStats::kLoads, "accesses", "loads that completed");
  stores_done_ = &g.counter(CoreStats::kStores, "accesses", "stores that completed");
  thread_name_ = std::string(basename()) + "-thread";
  sc_core::sc_spawn([this] { run(); }, "run");
}

void Core::set_thread(const std::string& name, std::function<void()> body) {
  thread_name_ = name;
  thread_ = std::move(body);
}

tlm::tlm_response_status Core::mem_access(tlm::tlm_command cmd, uint64_t pa, uint64_t& data) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(pa);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&data));
  gp.set_data_length(8);
  gp.set_streaming_width(8);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  socket->b_transport(gp, delay);
  sc_core::wait(delay);
  return gp.get_response_status();
}

bool Core::cmpxchg(uint64_t pa, uint64_t expected, uint64_t desired) {
  // The locked RMW: compare at the time of the access (debug read, no time), then write.
  uint64_t cur = 0;
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(pa);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&cur));
  gp.set_data_length(8);
  socket->transport_dbg(gp);
  if (cur != expected) return false;
  mem_access(tlm::TLM_WRITE_COMMAND, pa, desired);
  return true;
}

std::optional<uint64_t> Core::translate(const AddressSpace& as, uint64_t va, bool write) {
  const TranslationTag tag{kNoPasid, as.asid};
  for (uint32_t attempt = 0; attempt <= cfg_.max_fault_retries; ++attempt) {
    sc_core::wait(clock_.cycles(cfg_.tlb_lookup_cycles));
    const TranslationEntry* e = tlb_.lookup(tag, va);
    if (e && (!write || ((e->perms & tperm::kWrite) && (e->perms & tperm::kDirty)))) {
      tlb_hits_->inc();
      return e->translate(va);
    }
    tlb_misses_->inc();
    CpuPageWalker::Result w = walker_.walk(as.asid, as.root, va, write);
    walk_reads_->add(w.reads);
    walk_writes_->add(w.writes);
    walk_latency_->sample(w.latency);
    if (w.ok() && w.user && (!write || w.writable)) {
      TranslationEntry te;
      te.domain = as.asid;
      // One entry per leaf: a 2 MiB or 1 GiB leaf fills a 2 MiB or 1 GiB entry.
      te.log2_size = static_cast<uint8_t>(page_shift(w.size));
      te.base = va & ~page_offset_mask(w.size);
      te.target = w.leaf.page_address(w.size);
      te.perms = tperm::kRead | tperm::kUser | (w.writable ? tperm::kWrite : 0) |
                 (w.leaf.dirty() ? tperm::kDirty : 0);
      tlb_.insert(te);
      return w.page_pa + (va & kPageOffsetMask);
    }
    tlb_.invalidate_va(va, TagFilter{std::nullopt, as.asid});
    faults_->inc();
    if (!fault_handler_.handle_page_fault(id_, as.asid, va, write)) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Core::Access> Core::load(const AddressSpace& as, uint64_t va) {
  auto pa = translate(as, va, false);
  if (!pa) return std::nullopt;
  const sc_core::sc_time t = sc_core::sc_time_stamp();
  uint64_t v = 0;
  mem_access(tlm::TLM_READ_COMMAND, *pa, v);
  loads_done_->inc();
  if (gt_) gt_->cpu_access(CpuAccessEvent{t, thread_name_, as.asid, va, *pa, false, v});
  return Access{*pa, v, t};
}

bool Core::store(const AddressSpace& as, uint64_t va, uint64_t value) {
  auto pa = translate(as, va, true);
  if (!pa) return false;
  const sc_core::sc_time t = sc_core::sc_time_stamp();
  mem_access(tlm::TLM_WRITE_COMMAND, *pa, value);
  stores_done_->inc();
  if (gt_) gt_->cpu_access(CpuAccessEvent{t, thread_name_, as.asid, va, *pa, true, value});
  return true;
}

void Core::invalidate_range(uint32_t asid, uint64_t start, uint64_t end) {
  if (end > start) tlb_.invalidate(TagFilter{std::nullopt, asid}, start, end - 1);
  walker_.invalidate(asid);
}

void Core::invalidate_asid(uint32_t asid) {
  tlb_.invalidate_domain(asid);
  walker_.invalidate(asid);
}

void Core::run() {
  if (thread_) thread_();
  finished_ = true;
  finished_event_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace iosim

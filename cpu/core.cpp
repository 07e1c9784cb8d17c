#include "cpu/core.h"

#include "os/exec_context.h"
#include "os/kernel.h"
#include "sc_models/ground_truth.h"
#include "sc_models/stats.h"

namespace iosim {

namespace {
constexpr int64_t kKilled = -14;  // EFAULT: the access faulted fatally
}

Core::Core(sc_core::sc_module_name name, const CoreConfig& cfg, int id, Kernel& os, GroundTruth* gt)
    : sc_module(name),
      socket("socket"),
      cfg_(cfg),
      id_(id),
      os_(os),
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
  StatGroup& g = StatRegistry::global().group(*this);
  tlb_hits_ = &g.counter("tlb_hits", "lookups", "TLB lookups that hit");
  tlb_misses_ = &g.counter("tlb_misses", "lookups", "TLB lookups that missed or lacked D");
  walk_reads_ = &g.counter("walk_reads", "reads", "page-table entries read by the walker");
  walk_writes_ = &g.counter("walk_writes", "writes", "A/D updates written by the walker");
  faults_ = &g.counter("page_faults", "faults", "page faults taken to the OS");
  walk_latency_ = &g.histogram("walk_latency", "page walk latency");
  loads_done_ = &g.counter("loads", "accesses", "loads that completed");
  stores_done_ = &g.counter("stores", "accesses", "stores that completed");
  program_.name = std::string(basename()) + "-thread";
  SC_THREAD(run);
}

void Core::set_program(const ThreadProgram& p) {
  program_ = p;
  has_program_ = true;
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

std::optional<uint64_t> Core::translate(Mm& mm, uint64_t va, bool write) {
  const TranslationTag tag{kNoPasid, mm.id()};
  for (uint32_t attempt = 0; attempt <= cfg_.max_fault_retries; ++attempt) {
    sc_core::wait(clock_.cycles(cfg_.tlb_lookup_cycles));
    const TranslationEntry* e = tlb_.lookup(tag, va);
    if (e && (!write || ((e->perms & tperm::kWrite) && (e->perms & tperm::kDirty)))) {
      tlb_hits_->inc();
      return e->translate(va);
    }
    tlb_misses_->inc();
    CpuPageWalker::Result w = walker_.walk(mm.id(), mm.root(), va, write);
    walk_reads_->add(w.reads);
    walk_writes_->add(w.writes);
    walk_latency_->sample(w.latency);
    if (w.ok() && w.user && (!write || w.writable)) {
      TranslationEntry te;
      te.domain = mm.id();
      te.base = va & ~uint64_t{0xfff};
      te.target = w.page_pa;
      te.perms = tperm::kRead | tperm::kUser | (w.writable ? tperm::kWrite : 0) |
                 (w.leaf.dirty() ? tperm::kDirty : 0);
      tlb_.insert(te);
      return w.page_pa + (va & 0xfff);
    }
    tlb_.invalidate_va(va, TagFilter{std::nullopt, mm.id()});
    faults_->inc();
    if (!fault_handled(os_.handle_fault(mm, id_, va, write))) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<uint64_t> Core::load(Mm& mm, uint64_t va, size_t op_index) {
  auto pa = translate(mm, va, false);
  if (!pa) return std::nullopt;
  const sc_core::sc_time t = sc_core::sc_time_stamp();
  uint64_t v = 0;
  mem_access(tlm::TLM_READ_COMMAND, *pa, v);
  loads_.push_back(LoadRecord{op_index, va, *pa, v, t});
  loads_done_->inc();
  if (gt_) gt_->cpu_access(CpuAccessEvent{t, program_.name, mm.id(), va, *pa, false, v});
  return v;
}

bool Core::store(Mm& mm, uint64_t va, uint64_t value) {
  auto pa = translate(mm, va, true);
  if (!pa) return false;
  const sc_core::sc_time t = sc_core::sc_time_stamp();
  mem_access(tlm::TLM_WRITE_COMMAND, *pa, value);
  stores_done_->inc();
  if (gt_) gt_->cpu_access(CpuAccessEvent{t, program_.name, mm.id(), va, *pa, true, value});
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
  ExecContext::current().set_cpu(id_);  // OS code run by this thread runs on this core
  if (start_event_ && has_program_) wait(*start_event_);
  start_time_ = sc_core::sc_time_stamp();
  // The program's preemption hold applies to its own OS work only, from its start (not
  // to work the platform runs on this core before, such as a boot-time fork).
  if (has_program_ && program_.preempt_hold_ns >= 0) {
    os_.set_preempt_hold_ns(id_, program_.preempt_hold_ns);
  }
  for (size_t i = 0; has_program_ && i < program_.ops.size() && !killed_; ++i) {
    const ThreadOp& op = program_.ops[i];
    const sc_core::sc_time at = start_time_ + ns(op.at_ns);
    if (op.at_ns >= 0 && at > sc_core::sc_time_stamp()) wait(at - sc_core::sc_time_stamp());
    execute(i, op);
  }
  finished_ = true;
  finished_event_.notify(sc_core::SC_ZERO_TIME);
}

void Core::execute(size_t index, const ThreadOp& op) {
  OpRecord rec{index, op.kind, 0, sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME};
  if (op.kind == OpKind::kWait) {
    wait(ns(op.duration_ns));
  } else {
    Mm& mm = os_.mm(program_.mm_id);
    mm.cpu_enter(id_);
    if (op.kind == OpKind::kLoad) {
      rec.result = load(mm, op.addr, index) ? 0 : kKilled;
    } else if (op.kind == OpKind::kStore) {
      rec.result = store(mm, op.addr, op.value) ? 0 : kKilled;
    } else {
      rec.result = os_call(op, mm);
    }
    if (rec.result == kKilled && (op.kind == OpKind::kLoad || op.kind == OpKind::kStore)) {
      killed_ = true;
    }
    if (op.kind == OpKind::kExit) killed_ = true;  // the thread is gone
  }
  rec.end = sc_core::sc_time_stamp();
  records_.push_back(rec);
}

int64_t Core::os_call(const ThreadOp& op, Mm& mm) {
  switch (op.kind) {
    case OpKind::kMmap:
      return os_.mmap(mm, id_, op.addr, op.len, op.prot, op.shared);
    case OpKind::kMunmap:
      return os_.munmap(mm, id_, op.addr, op.len);
    case OpKind::kMprotect:
      return os_.mprotect(mm, id_, op.addr, op.len, op.prot);
    case OpKind::kMadviseDontneed:
      return os_.madvise_dontneed(mm, id_, op.addr, op.len);
    case OpKind::kFork:
      return os_.fork(mm, id_, op.mm2);
    case OpKind::kMremap:
      return os_.mremap(mm, id_, op.addr, op.len, op.addr2);
    case OpKind::kMigrate:
      return os_.migrate(mm, id_, op.addr, op.len, nullptr);
    case OpKind::kKsmMerge:
      return os_.ksm_merge(mm, op.addr, op.mm2 ? os_.mm(op.mm2) : mm, op.addr2, id_);
    case OpKind::kClearSoftDirty:
      return os_.clear_soft_dirty(mm, id_);
    case OpKind::kMakeExclusive:
      return os_.make_device_exclusive(mm, id_, op.addr, this);
    case OpKind::kClearFlushYoung:
      return os_.clear_flush_young(mm, id_, op.addr);
    case OpKind::kExit:
      os_.exit(mm, id_);
      return 0;
    default:
      return 0;
  }
}

}  // namespace iosim

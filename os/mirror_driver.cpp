#include "os/mirror_driver.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "os/mmu_notifier_subscriptions.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/sim/spawn.h"

namespace iosim {

using sc_core::sc_time;

namespace {

// The user half of the 48-bit address space: what a mirror context covers.
constexpr uint64_t kUserEnd = uint64_t{1} << 47;

const MirrorConfig& validated(const MirrorConfig& c) {
  c.validate("mirror.");
  return c;
}

}  // namespace

// ---- per bound mm ---------------------------------------------------------------------

struct MirrorDriver::Context {
  // An invalidate_range_start handed over to its invalidate_range_end.
  struct Pending {
    uint64_t token;
    Cleared cleared;       // references still to drop at end
    bool flush = false;    // the device TLB is flushed at end
    bool skipped = false;  // owner-filtered at start
  };

  Context(MirrorDriver& d, Mm& m, uint32_t i)
      : driver(d),
        mm(m),
        index(i),
        editor(*d.kernel_.env().mem, [&d] { return d.alloc_frame("device page table"); }),
        mutex(d.kernel_.context(), std::string(d.name()) + ".mutex"),
        lock(d.kernel_.context(), std::string(d.name()) + ".lock") {}

  bool covered(uint64_t va) const {
    for (const auto& [start, end] : ranges) {
      if (va >= start && va < end) return true;
    }
    return false;
  }

  MirrorDriver& driver;
  Mm& mm;
  uint32_t index;
  PageTableEditor editor;
  uint64_t root = 0;
  std::unique_ptr<IntervalSub> interval;
  std::unique_ptr<RangeSub> range;
  RwSemaphore mutex;  // interval api: the driver mutex (held for write)
  SpinLock lock;      // range api: the driver lock
  // range api: ranges in progress seen at their start, the sequence, the hand-over.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  uint64_t seq = 0;
  std::vector<Pending> pending;
  sc_core::sc_event ranges_changed;
  std::map<uint64_t, uint64_t> pinned;  // va -> frame the driver holds a reference to
  bool bound = true;
};

class MirrorDriver::IntervalSub : public MmuIntervalNotifier {
 public:
  IntervalSub(std::string name, Context& c) : MmuIntervalNotifier(std::move(name)), c_(c) {}
  bool invalidate(const MmuNotifierRange& r, uint64_t cur_seq) override {
    return c_.driver.interval_invalidate(c_, r, cur_seq);
  }

 private:
  Context& c_;
};

class MirrorDriver::RangeSub : public MmuNotifier {
 public:
  RangeSub(std::string name, Context& c)
      : MmuNotifier(std::move(name), kInvalidateRangeStart | kInvalidateRangeEnd | kRelease |
                                         kClearFlushYoung | kClearYoung | kTestYoung),
        c_(c) {}
  int invalidate_range_start(const MmuNotifierRange& r) override {
    c_.driver.range_start(c_, r);
    return 0;
  }
  void invalidate_range_end(const MmuNotifierRange& r) override { c_.driver.range_end(c_, r); }
  void release(MmStruct&) override { c_.driver.release(c_); }
  int clear_flush_young(MmStruct&, uint64_t start, uint64_t end) override {
    return c_.driver.clear_young(c_, start, end);
  }
  int clear_young(MmStruct&, uint64_t start, uint64_t end) override {
    return c_.driver.clear_young(c_, start, end);
  }
  int test_young(MmStruct&, uint64_t address) override {
    const uint64_t page = address & ~uint64_t{kPageBytes - 1};
    return c_.driver.mapped(c_, page, page + kPageBytes) ? 1 : 0;
  }

 private:
  Context& c_;
};

// ---- the driver -----------------------------------------------------------------------

MirrorDriver::MirrorDriver(sc_core::sc_module_name name, const MirrorConfig& cfg, uint16_t rid,
                           Kernel& kernel)
    : sc_module(name),
      regs("regs"),
      irq("irq"),
      cfg_(validated(cfg)),
      rid_(rid),
      kernel_(kernel),
      fault_line_(irq, &MirrorDeviceInterrupts::fault_event),
      inv_line_(irq, &MirrorDeviceInterrupts::invalidation_event),
      fault_entry_(ns(cfg_.fault_entry_ns)),
      per_fault_(ns(cfg_.per_fault_ns)),
      pte_write_(ns(cfg_.pte_write_ns)),
      regs_lock_(kernel.context(), std::string(basename()) + ".regs_lock"),
      contexts_(kMirrorContexts),
      stats_(kernel.context().stats().group(*this)),
      faults_(stats_.counter("faults", "faults", "device fault records handled")),
      fault_failures_(stats_.counter("fault_failures", "faults",
                                     "faults the CPU could not map (no VMA, permission, OOM)")),
      fault_retries_(stats_.counter("fault_retries", "retries",
                                    "fault-ins retried after colliding with an invalidation")),
      ptes_written_(stats_.counter("ptes_written", "entries", "device PTEs written")),
      flushes_(stats_.counter("flushes", "flushes", "device TLB invalidations completed")),
      repeated_(stats_.counter("repeated_invalidations", "ranges",
                               "invalidations of ranges without a device PTE (nothing flushed)")),
      owner_skipped_(stats_.counter("owner_skipped", "ranges",
                                    "MIGRATE/EXCLUSIVE ranges owned by this driver, skipped")),
      would_block_(
          stats_.counter("would_block", "ranges", "non-blockable invalidations refused (-EAGAIN)")),
      young_calls_(stats_.counter("young_calls", "calls",
                                  "clear_flush_young, clear_young and test_young callbacks")),
      fault_latency_(stats_.histogram("fault_latency", "fault interrupt to the REPLAY write")),
      flush_latency_(
          stats_.histogram("flush_latency", "device TLB invalidation: doorbell to status seen")) {
  sc_core::sc_spawn([this] { run_faults(); }, "faults");
  spawn_method_on(fault_line_, "on_fault_irq", [this] { on_fault_irq(); });
  spawn_method_on(inv_line_, "on_inv_irq", [this] { inv_seen_.notify(); });
}

MirrorDriver::~MirrorDriver() = default;

uint64_t MirrorDriver::alloc_frame(const char* what) {
  const uint64_t pa = kernel_.allocator().alloc();
  if (pa == PageAllocator::kNoFrame) {
    throw std::runtime_error(std::string(name()) + ": out of frames for " + what);
  }
  kernel_.env().mem->zero_frame(pa);
  return pa;
}

uint64_t MirrorDriver::reg_access(tlm::tlm_command cmd, uint64_t off, uint64_t value) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(off);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&value));
  gp.set_data_length(8);
  gp.set_streaming_width(8);
  sc_time delay = sc_core::SC_ZERO_TIME;
  regs->b_transport(gp, delay);
  if (delay != sc_core::SC_ZERO_TIME) sc_core::wait(delay);
  return value;
}

uint64_t MirrorDriver::read_reg(uint64_t off) {
  return reg_access(tlm::TLM_READ_COMMAND, off, 0);
}

void MirrorDriver::write_reg(uint64_t off, uint64_t value) {
  reg_access(tlm::TLM_WRITE_COMMAND, off, value);
}

void MirrorDriver::init() {
  fault_buffer_ = alloc_frame("the fault buffer");
  status_addr_ = alloc_frame("the invalidation status word");
  write_reg(mirror_reg::kFaultBase, fault_buffer_);
}

std::optional<uint32_t> MirrorDriver::context_of(const Mm& mm) const {
  for (const auto& c : contexts_) {
    if (c && c->bound && &c->mm == &mm) return c->index;
  }
  return std::nullopt;
}

bool MirrorDriver::can_bind(const Mm& mm) const {
  return context_of(mm) || std::any_of(contexts_.begin(), contexts_.end(),
                                       [](const auto& c) { return !c || !c->bound; });
}

size_t MirrorDriver::device_ptes(uint32_t ctx) const {
  const Context* c = contexts_.at(ctx).get();
  if (!c) return 0;
  size_t n = 0;
  c->editor.for_each_present_leaf(c->root, 0, kUserEnd, [&](uint64_t, const auto&) { ++n; });
  return n;
}

uint32_t MirrorDriver::bind(Mm& mm, int /*cpu*/) {
  if (fault_buffer_ == 0) throw std::runtime_error(std::string(name()) + ": init() not called");
  if (auto ctx = context_of(mm)) return *ctx;
  auto free = std::find_if(contexts_.begin(), contexts_.end(),
                           [](const auto& c) { return !c || !c->bound; });
  if (free == contexts_.end()) {
    throw std::runtime_error(std::string(name()) + ": no free device context (" +
                             std::to_string(kMirrorContexts) + ")");
  }
  const auto index = static_cast<uint32_t>(free - contexts_.begin());
  // A context slot freed by unbind keeps its old Context until here: its notifier
  // callbacks have all returned (unregister and interval remove wait for them).
  *free = std::make_unique<Context>(*this, mm, index);
  Context& c = **free;
  c.root = c.editor.new_root();
  write_reg(mirror_reg::kCtxSel, index);
  write_reg(mirror_reg::kCtxRoot, c.root | mirror_reg::kCtxRootValid);
  const std::string sub = std::string(name()) + ".ctx" + std::to_string(index);
  if (cfg_.api == MirrorApi::kInterval) {
    c.interval = std::make_unique<IntervalSub>(sub, c);
    mmu_interval_notifier_insert(*c.interval, mm, 0, kUserEnd);
  } else {
    c.range = std::make_unique<RangeSub>(sub, c);
    if (mmu_notifier_register(c.range.get(), mm) != 0) {
      throw std::runtime_error(std::string(name()) + ": notifier registration refused");
    }
  }
  return index;
}

void MirrorDriver::unbind(Mm& mm, int /*cpu*/) {
  const auto index = context_of(mm);
  if (!index) return;
  Context& c = *contexts_[*index];
  if (c.interval) {
    mmu_interval_notifier_remove(*c.interval);
  } else {
    mmu_notifier_unregister(*c.range, mm);  // calls release() unless the mm exited
  }
  const Cleared cleared = clear_device_ptes(c, 0, kUserEnd);
  if (!cleared.empty()) flush_device_tlb(c, 0, kUserEnd, false);
  drop_references(c, cleared);
  write_reg(mirror_reg::kCtxSel, *index);
  write_reg(mirror_reg::kCtxRoot, 0);
  c.bound = false;
}

// ---- faults ---------------------------------------------------------------------------

void MirrorDriver::on_fault_irq() {
  irq_pending_ = true;
  irq_ev_.notify();
}

void MirrorDriver::run_faults() {
  ExecContext& ctx = kernel_.context().current();
  ctx.set_cpu(cfg_.cpu);
  ExecContext::Frame frame(ctx, "mirror.fault_handler");
  PhysicalMemory& mem = *kernel_.env().mem;
  for (;;) {
    while (!irq_pending_) sc_core::wait(irq_ev_);
    irq_pending_ = false;
    const sc_time irq_time = sc_core::sc_time_stamp();
    ctx.run_for(fault_entry_);
    const auto put = static_cast<uint32_t>(read_reg(mirror_reg::kFaultPut));
    auto get = static_cast<uint32_t>(read_reg(mirror_reg::kFaultGet));
    while (get != put) {
      uint64_t raw[2];
      mem.read(fault_buffer_ + uint64_t{get} * kMirrorFaultRecordBytes, raw, sizeof raw);
      handle_record(MirrorFaultRecord::decode(raw));
      get = (get + 1) % kMirrorFaultRecords;
    }
    write_reg(mirror_reg::kFaultGet, get);
    write_reg(mirror_reg::kReplay, 1);
    fault_latency_.sample(sc_core::sc_time_stamp() - irq_time);
  }
}

void MirrorDriver::handle_record(const MirrorFaultRecord& r) {
  faults_.inc();
  Context* c = r.context < contexts_.size() ? contexts_[r.context].get() : nullptr;
  if (!c || !c->bound || !fault_in(*c, r.va, r.write)) fault_failures_.inc();
}

std::optional<MirrorDriver::CpuPte> MirrorDriver::read_cpu_pte(Context& c, uint64_t va,
                                                               bool write) {
  // A fault the kernel handles maps the page; a second attempt finds it unless an
  // invalidation removed it meanwhile, so a few rounds suffice.
  for (int round = 0; round < 8; ++round) {
    if (c.mm.users() <= 0) return std::nullopt;  // mmget_not_zero failed: the mm exited
    c.mm.mmap_lock.down_read();
    const Pte pte = c.mm.pte(va);
    if (pte.present() && (!write || pte.writable())) {
      const CpuPte p{pte.page_address(PageSize::k4K), pte.writable(), sc_core::sc_time_stamp()};
      c.mm.mmap_lock.up_read();
      return p;
    }
    c.mm.mmap_lock.up_read();
    if (!fault_handled(kernel_.handle_fault(c.mm, cfg_.cpu, va, write))) return std::nullopt;
  }
  return std::nullopt;
}

bool MirrorDriver::fault_in(Context& c, uint64_t va, bool write) {
  ExecContext& ctx = kernel_.context().current();
  va &= ~uint64_t{kPageBytes - 1};
  for (;;) {
    if (c.interval) {
      const uint64_t seq = mmu_interval_read_begin(*c.interval);
      const auto p = read_cpu_pte(c, va, write);
      if (!p) return false;
      ctx.run_for(per_fault_);
      c.mutex.down_write();
      if (cfg_.check_retry && mmu_interval_read_retry(*c.interval, seq)) {
        c.mutex.up_write();
        fault_retries_.inc();
        continue;
      }
      write_device_pte(c, va, *p);
      c.mutex.up_write();
      return true;
    }
    c.lock.lock();
    while (c.covered(va)) {
      c.lock.unlock();
      ctx.sleep_on(c.ranges_changed, "mirror fault: range in progress");
      c.lock.lock();
    }
    const uint64_t seq = c.seq;
    c.lock.unlock();
    const auto p = read_cpu_pte(c, va, write);
    if (!p) return false;
    ctx.run_for(per_fault_);
    c.lock.lock();
    if (c.seq != seq || c.covered(va)) {
      c.lock.unlock();
      fault_retries_.inc();
      continue;
    }
    // The reference a mapped page holds (the refcount schemes of the header).
    kernel_.allocator().get(p->frame);
    auto old = c.pinned.find(va);
    if (old != c.pinned.end()) {
      kernel_.allocator().put(old->second);
      c.pinned.erase(old);
    }
    c.pinned.emplace(va, p->frame);
    write_device_pte(c, va, *p);
    c.lock.unlock();
    return true;
  }
}

void MirrorDriver::write_device_pte(Context& c, uint64_t va, const CpuPte& p) {
  c.editor.map(c.root, va, p.frame, PageSize::k4K, Pte::kUser | (p.writable ? Pte::kWritable : 0));
  kernel_.context().current().run_for(pte_write_);
  ptes_written_.inc();
  // A range driver's mapping must not come inside a range it never saw start; an
  // interval driver's read_retry under its lock is its check.
  if (c.range) c.mm.notifier_subscriptions().check_secondary_mapping(*c.range, va);
  if (GroundTruth* gt = kernel_.env().gt) {
    gt->device_pte_made(tag_of(c.index), va, p.frame, p.read_at);
  }
}

// ---- invalidation ---------------------------------------------------------------------

bool MirrorDriver::mapped(const Context& c, uint64_t start, uint64_t end) const {
  bool any = false;
  c.editor.for_each_present_leaf(c.root, start, end, [&](uint64_t, const auto&) { any = true; });
  return any;
}

MirrorDriver::Cleared MirrorDriver::clear_device_ptes(Context& c, uint64_t start, uint64_t end) {
  Cleared cleared;
  c.editor.for_each_present_leaf(c.root, start, end, [&](uint64_t va, const auto& slot) {
    cleared.emplace_back(va, slot.pte.page_address(PageSize::k4K));
  });
  for (const auto& e : cleared) c.editor.clear_leaf(c.root, e.first);
  if (cleared.empty()) {
    repeated_.inc();
  } else {
    kernel_.context().current().run_for(pte_write_ * static_cast<double>(cleared.size()));
  }
  return cleared;
}

void MirrorDriver::flush_device_tlb(Context& c, uint64_t start, uint64_t end, bool spin) {
  ExecContext& ctx = kernel_.context().current();
  const sc_time t0 = sc_core::sc_time_stamp();
  regs_lock_.lock();
  const uint64_t seq = next_seq_++;
  write_reg(mirror_reg::kInvCtx, c.index);
  write_reg(mirror_reg::kInvStart, start);
  write_reg(mirror_reg::kInvEnd, end);
  write_reg(mirror_reg::kInvStatus, status_addr_);
  write_reg(mirror_reg::kInvDoorbell, seq);
  regs_lock_.unlock();
  PhysicalMemory& mem = *kernel_.env().mem;
  const auto done = [&] { return mem.read_u64(status_addr_) >= seq; };
  if (spin) {
    ctx.spin_until(done, inv_seen_);
  } else {
    ctx.sleep_until(done, inv_seen_, "mirror device TLB flush");
  }
  flushes_.inc();
  flush_latency_.sample(sc_core::sc_time_stamp() - t0);
  if (GroundTruth* gt = kernel_.env().gt) {
    gt->invalidation_done({sc_core::sc_time_stamp(), c.mm.id(), tag_of(c.index), start, end});
  }
}

void MirrorDriver::drop_references(Context& c, const Cleared& cleared) {
  for (const auto& [va, frame] : cleared) {
    auto it = c.pinned.find(va);
    if (it == c.pinned.end() || it->second != frame) continue;
    c.pinned.erase(it);
    kernel_.allocator().put(frame);
  }
}

bool MirrorDriver::owner_filtered(const MmuNotifierRange& r) {
  const bool filtered =
      (r.event == MmuNotifierEvent::kMigrate || r.event == MmuNotifierEvent::kExclusive) &&
      r.owner == owner();
  if (filtered) owner_skipped_.inc();
  return filtered;
}

bool MirrorDriver::interval_invalidate(Context& c, const MmuNotifierRange& r, uint64_t cur_seq) {
  const bool blockable = mmu_notifier_range_blockable(r);
  if (blockable) {
    c.mutex.down_write();
  } else if (!c.mutex.down_write_trylock()) {
    would_block_.inc();
    return false;
  }
  mmu_interval_set_seq(*c.interval, cur_seq);
  if (owner_filtered(r)) {
    c.mutex.up_write();
    return true;
  }
  if (!blockable && mapped(c, r.start, r.end)) {  // the flush would sleep
    c.mutex.up_write();
    would_block_.inc();
    return false;
  }
  const Cleared cleared = clear_device_ptes(c, r.start, r.end);
  c.mutex.up_write();
  if (!cleared.empty()) flush_device_tlb(c, r.start, r.end, false);
  return true;
}

void MirrorDriver::range_start(Context& c, const MmuNotifierRange& r) {
  Context::Pending p{r.token, {}, false, false};
  if (owner_filtered(r)) {
    p.skipped = true;
    c.pending.push_back(std::move(p));
    return;
  }
  c.lock.lock();
  c.ranges.emplace_back(r.start, r.end);
  ++c.seq;
  Cleared cleared = clear_device_ptes(c, r.start, r.end);
  c.lock.unlock();
  switch (cfg_.refcount) {
    case MirrorRefcount::kDropAtStart:
      if (!cleared.empty()) flush_device_tlb(c, r.start, r.end, true);
      drop_references(c, cleared);
      break;
    case MirrorRefcount::kDropAtEnd:
      p.flush = !cleared.empty();
      p.cleared = std::move(cleared);
      break;
    case MirrorRefcount::kDropBeforeFlush:
      drop_references(c, cleared);
      p.flush = !cleared.empty();
      break;
  }
  c.pending.push_back(std::move(p));
}

void MirrorDriver::range_end(Context& c, const MmuNotifierRange& r) {
  auto it = std::find_if(c.pending.begin(), c.pending.end(),
                         [&](const Context::Pending& p) { return p.token == r.token; });
  if (it == c.pending.end()) return;  // its start came before the registration
  const Context::Pending p = std::move(*it);
  c.pending.erase(it);
  if (p.skipped) return;
  if (p.flush) flush_device_tlb(c, r.start, r.end, true);
  drop_references(c, p.cleared);
  c.lock.lock();
  auto rng = std::find(c.ranges.begin(), c.ranges.end(), std::make_pair(r.start, r.end));
  if (rng != c.ranges.end()) c.ranges.erase(rng);
  ++c.seq;
  c.lock.unlock();
  c.ranges_changed.notify(sc_core::SC_ZERO_TIME);
}

int MirrorDriver::clear_young(Context& c, uint64_t start, uint64_t end) {
  young_calls_.inc();
  if (!mapped(c, start, end)) return 0;  // nothing accessed since the last clear
  c.lock.lock();
  const Cleared cleared = clear_device_ptes(c, start, end);
  c.lock.unlock();
  if (cleared.empty()) return 0;
  flush_device_tlb(c, start, end, true);
  drop_references(c, cleared);
  return 1;
}

void MirrorDriver::release(Context& c) {
  c.lock.lock();
  const Cleared cleared = clear_device_ptes(c, 0, kUserEnd);
  c.lock.unlock();
  if (!cleared.empty()) flush_device_tlb(c, 0, kUserEnd, true);
  drop_references(c, cleared);
}

}  // namespace iosim
